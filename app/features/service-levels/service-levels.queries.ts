import type { Kysely, Selectable, Transaction } from 'kysely';
import type { DialectName } from '../../db/dialect';
import { paged } from '../../db/portable';
import type { DB, SlaClocksTable, SlaKind } from '../../db/schema';

type Q = Kysely<DB> | Transaction<DB>;

export interface SlaSettingsRow {
  id: number;
  calendar: string;
  at_risk_percent: number;
  version: number;
  updated_at: string | Date;
  updated_by: number | null;
}

/** The one settings row (the migration writes it). */
export async function getSlaSettings(db: Q): Promise<SlaSettingsRow> {
  const row = await db.selectFrom('sla_settings').select(['id', 'calendar', 'at_risk_percent', 'version', 'updated_at', 'updated_by']).orderBy('id').executeTakeFirst();
  if (!row) throw new Error('sla_settings has no row: run the migrations');
  return row;
}

/** Save the calendar and the at-risk share if nobody saved since `version`; returns whether it did. */
export async function updateSlaSettingsAtVersion(trx: Transaction<DB>, id: number, version: number, v: { calendar: string; atRiskPercent: number; by: number | null }, at: string): Promise<boolean> {
  const r = await trx
    .updateTable('sla_settings')
    .set({ calendar: v.calendar, at_risk_percent: v.atRiskPercent, updated_by: v.by, updated_at: at, version: version + 1 })
    .where('id', '=', id)
    .where('version', '=', version)
    .executeTakeFirst();
  return Number(r.numUpdatedRows) === 1;
}

export interface TargetRow {
  priority: number;
  category_id: number | null;
  response_minutes: number | null;
  resolution_minutes: number | null;
}

export async function listTargets(db: Q): Promise<TargetRow[]> {
  return db.selectFrom('sla_targets').select(['priority', 'category_id', 'response_minutes', 'resolution_minutes']).orderBy('priority').orderBy('category_id').execute();
}

/** Make the targets exactly these (the admin form saves them all at once). */
export async function replaceTargets(trx: Transaction<DB>, rows: TargetRow[]): Promise<void> {
  await trx.deleteFrom('sla_targets').execute();
  if (rows.length) await trx.insertInto('sla_targets').values(rows).execute();
}

export type ClockRow = Selectable<SlaClocksTable>;

/** A clock as written: timestamps as ISO strings. */
export interface ClockValues {
  ticket_id: number;
  kind: SlaKind;
  target_minutes: number;
  started_at: string;
  due_at: string | null;
  warn_at: string | null;
  paused_at: string | null;
  stopped_at: string | null;
  outcome: 'met' | 'breached' | null;
  outcome_at: string | null;
  watch: number;
}

export async function listClocks(db: Q, ticketId: number): Promise<ClockRow[]> {
  return db.selectFrom('sla_clocks').selectAll().where('ticket_id', '=', ticketId).orderBy('kind', 'desc').execute();
}

export async function insertClock(trx: Transaction<DB>, c: ClockValues): Promise<void> {
  await trx.insertInto('sla_clocks').values(c).execute();
}

export type ClockChanges = Partial<Omit<ClockValues, 'ticket_id' | 'kind' | 'started_at'>>;

export async function updateClock(trx: Transaction<DB>, ticketId: number, kind: SlaKind, changes: ClockChanges): Promise<void> {
  if (Object.keys(changes).length === 0) return;
  await trx.updateTable('sla_clocks').set(changes).where('ticket_id', '=', ticketId).where('kind', '=', kind).execute();
}

export async function deleteClock(trx: Transaction<DB>, ticketId: number, kind: SlaKind): Promise<void> {
  await trx.deleteFrom('sla_clocks').where('ticket_id', '=', ticketId).where('kind', '=', kind).execute();
}

/**
 * Record a breach once: only while the clock still waits on this same due instant with
 * nothing recorded. Two processes' timers may race here; exactly one sees a row change.
 */
export async function markBreached(trx: Transaction<DB>, ticketId: number, kind: SlaKind, dueAt: string, at: string): Promise<boolean> {
  const r = await trx
    .updateTable('sla_clocks')
    .set({ outcome: 'breached', outcome_at: at, watch: 0 })
    .where('ticket_id', '=', ticketId)
    .where('kind', '=', kind)
    .where('watch', '=', 1)
    .where('outcome', 'is', null)
    .where('due_at', '=', dueAt)
    .executeTakeFirst();
  return Number(r.numUpdatedRows) === 1;
}

/** Clocks whose due instant has passed with nothing recorded, earliest first. */
export async function listOverdueClocks(db: Q, dialect: DialectName, now: string, limit: number): Promise<{ ticket_id: number; kind: SlaKind; due_at: string | Date | null }[]> {
  const qb = db
    .selectFrom('sla_clocks')
    .select(['ticket_id', 'kind', 'due_at'])
    .where('watch', '=', 1)
    .where('due_at', '<=', now)
    .orderBy('due_at')
    .orderBy('ticket_id')
    .orderBy('kind');
  return paged(qb, dialect, limit, 0).execute();
}

/** The ticket's status changes, oldest first: its pauses are the stretches it spent pending. */
export async function listStatusChanges(db: Q, ticketId: number): Promise<{ from_value: string | null; to_value: string | null; created_at: string | Date }[]> {
  return db
    .selectFrom('ticket_events')
    .select(['from_value', 'to_value', 'created_at'])
    .where('ticket_id', '=', ticketId)
    .where('kind', '=', 'status')
    .orderBy('id')
    .execute();
}

/** The ticket's due columns, kept equal to its running clocks (the queue sorts and filters by them). */
export async function setTicketDue(trx: Transaction<DB>, ticketId: number, due: { at: string; warnAt: string | null; kind: SlaKind | 'paused' | null }): Promise<void> {
  await trx.updateTable('tickets').set({ sla_due_at: due.at, sla_warn_at: due.warnAt, sla_due_kind: due.kind }).where('id', '=', ticketId).execute();
}
