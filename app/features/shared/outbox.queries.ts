import type { Kysely, Transaction } from 'kysely';
import type { DialectName } from '../../db/dialect';
import { paged } from '../../db/portable';
import type { DB } from '../../db/schema';

/**
 * The claim on an outbox row, shared by the workers that send what ticket events cause
 * (mail notifications, webhook deliveries). A row is `queued` until sent or
 * given up; `next_attempt_at` says when it is due; `lease_owner`/`lease_expires_at` say
 * which process is sending it, until when. iisnode runs several processes and a farm several
 * servers on one database, so a row is sent only by the process whose claim succeeded.
 */
export type OutboxTable = 'mail_outbox' | 'webhook_deliveries';

type Q = Kysely<DB> | Transaction<DB>;

/** Ids of rows due now that nobody holds a live lease on, oldest due first. */
export async function dueOutboxIds(db: Q, dialect: DialectName, table: OutboxTable, now: string, limit: number): Promise<number[]> {
  const rows = await paged(
    db
      .selectFrom(table)
      .select('id')
      .where('status', '=', 'queued')
      .where('next_attempt_at', '<=', now)
      .where((eb) => eb.or([eb('lease_expires_at', 'is', null), eb('lease_expires_at', '<', now)]))
      .orderBy('next_attempt_at')
      .orderBy('id'),
    dialect,
    limit,
    0,
  ).execute();
  return rows.map((r) => Number(r.id));
}

/**
 * Take a row for sending until `until`, counting the attempt. One statement that only
 * succeeds while the row is still queued, due and unleased: of processes racing for a row
 * exactly one gets it (SQLite serialises writers; SQL Server re-reads the row under its
 * update lock before the WHERE is decided).
 */
export async function claimOutboxRow(db: Q, table: OutboxTable, id: number, owner: string, now: string, until: string): Promise<boolean> {
  const r = await db
    .updateTable(table)
    .set((eb) => ({ lease_owner: owner, lease_expires_at: until, attempts: eb('attempts', '+', 1), updated_at: now }))
    .where('id', '=', id)
    .where('status', '=', 'queued')
    .where('next_attempt_at', '<=', now)
    .where((eb) => eb.or([eb('lease_expires_at', 'is', null), eb('lease_expires_at', '<', now)]))
    .executeTakeFirst();
  return Number(r.numUpdatedRows) === 1;
}

/** What a try came to, in columns every outbox has. */
export interface TryOutcome {
  status: string;
  lastAnswer: string | null;
  /** When queued again: the next try. */
  nextAttemptAt?: string;
}

/**
 * Record how a try went and let go of the lease, if `owner` still holds it (false when it
 * does not: the lease ran out and another process may be at it). `more`: the table's own
 * columns (when it was sent, the receiver's status).
 */
export async function finishOutboxRow(db: Q, table: OutboxTable, id: number, owner: string, outcome: TryOutcome, more: Record<string, string | number | null>, now: string): Promise<boolean> {
  const r = await db
    .updateTable(table)
    .set({
      status: outcome.status,
      last_answer: outcome.lastAnswer === null ? null : outcome.lastAnswer.slice(0, 1000),
      ...(outcome.nextAttemptAt ? { next_attempt_at: outcome.nextAttemptAt } : {}),
      // The table's own columns, named by its caller in code (never from input).
      ...(more as Record<string, never>),
      lease_owner: null,
      lease_expires_at: null,
      updated_at: now,
    } as never)
    .where('id', '=', id)
    .where('lease_owner', '=', owner)
    .executeTakeFirst();
  return Number(r.numUpdatedRows) === 1;
}

/** The wait before try `attempt + 1` after `attempt` tries failed: doubling, with a tenth of jitter. */
export function backoffMs(attempt: number, backoff: { firstMs: number; maxMs: number }, random: () => number = Math.random): number {
  const base = Math.min(backoff.maxMs, backoff.firstMs * 2 ** Math.max(0, Math.min(attempt - 1, 30)));
  return Math.round(base * (0.9 + random() * 0.2));
}
