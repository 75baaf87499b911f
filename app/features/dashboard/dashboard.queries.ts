import type { Kysely, Transaction } from 'kysely';
import { addToCounters } from '../../db/portable';
import type { DB, SlaKind } from '../../db/schema';

type Q = Kysely<DB> | Transaction<DB>;

/**
 * The dashboard's running totals. Writers add to them in the transaction that changes the
 * tickets they count (dashboard/tally.ts says what to add); the dashboard reads these few
 * hundred rows instead of a million tickets.
 */

export async function addToDay(trx: Q, day: string, add: { raised?: number; resolved?: number }): Promise<void> {
  const counters = Object.fromEntries(Object.entries(add).filter(([, n]) => n !== 0 && n !== undefined)) as Record<string, number>;
  if (Object.keys(counters).length) await addToCounters(trx, 'ticket_daily', { day }, counters);
}

/** `utcDay`: the UTC date the ticket was raised. */
export async function addToOpenAge(trx: Q, utcDay: string, n: number): Promise<void> {
  if (n !== 0) await addToCounters(trx, 'ticket_open_ages', { day: utcDay }, { n });
}

export async function addToOpenCount(trx: Q, key: { teamId: number | null; assigneeId: number | null; priority: number }, n: number): Promise<void> {
  if (n !== 0) await addToCounters(trx, 'ticket_open_counts', { team_id: key.teamId ?? 0, assignee_id: key.assigneeId ?? 0, priority: key.priority }, { n });
}

/** `month`: YYYY-MM on the calendar's clocks, of the instant each target was met or missed. */
export async function addToMonth(trx: Q, month: string, kind: SlaKind, add: { met?: number; breached?: number }): Promise<void> {
  const counters = Object.fromEntries(Object.entries(add).filter(([, n]) => n !== 0 && n !== undefined)) as Record<string, number>;
  if (Object.keys(counters).length) await addToCounters(trx, 'sla_monthly', { month, kind }, counters);
}

export interface DayRow {
  day: string;
  raised: number;
  resolved: number;
}

/** Days from `from` (YYYY-MM-DD) on, in order; days without a row had nothing. */
export async function listDays(db: Q, from: string): Promise<DayRow[]> {
  const rows = await db.selectFrom('ticket_daily').select(['day', 'raised', 'resolved']).where('day', '>=', from).orderBy('day').execute();
  return rows.map((r) => ({ day: r.day, raised: Number(r.raised), resolved: Number(r.resolved) }));
}

/** Open tickets by the UTC date they were raised (days that still have some), oldest first. */
export async function listOpenAges(db: Q): Promise<{ day: string; n: number }[]> {
  const rows = await db.selectFrom('ticket_open_ages').select(['day', 'n']).where('n', '>', 0).orderBy('day').execute();
  return rows.map((r) => ({ day: r.day, n: Number(r.n) }));
}

export interface OpenCountRow {
  team_id: number;
  assignee_id: number;
  priority: number;
  n: number;
}

export async function listOpenCounts(db: Q): Promise<OpenCountRow[]> {
  const rows = await db.selectFrom('ticket_open_counts').select(['team_id', 'assignee_id', 'priority', 'n']).where('n', '>', 0).execute();
  return rows.map((r) => ({ team_id: r.team_id, assignee_id: r.assignee_id, priority: r.priority, n: Number(r.n) }));
}

export interface MonthRow {
  month: string;
  kind: SlaKind;
  met: number;
  breached: number;
}

export async function listMonths(db: Q, months: string[]): Promise<MonthRow[]> {
  if (months.length === 0) return [];
  const rows = await db.selectFrom('sla_monthly').select(['month', 'kind', 'met', 'breached']).where('month', 'in', months).execute();
  return rows.map((r) => ({ month: r.month, kind: r.kind, met: Number(r.met), breached: Number(r.breached) }));
}
