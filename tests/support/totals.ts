/**
 * The dashboard's totals counted from scratch, from the tickets, their events and clocks:
 * what the running totals kept by the writes must always equal.
 */
import type { Database } from '../../app/db/database';
import { toDate } from '../../app/db/values';
import { loadPolicy, localDay } from '../../app/features/service-levels/clocks';
import { isActive, isStatus } from '../../app/features/tickets/ticket-values';

export interface Totals {
  days: Record<string, { raised: number; resolved: number }>;
  ages: Record<string, number>;
  open: Record<string, number>;
  months: Record<string, { met: number; breached: number }>;
}

const active = (s: string | null) => s !== null && isStatus(s) && isActive(s);

export async function recountTotals(database: Database): Promise<Totals> {
  const db = database.db;
  const policy = await loadPolicy(db);
  const out: Totals = { days: {}, ages: {}, open: {}, months: {} };
  const day = (k: string) => (out.days[k] ??= { raised: 0, resolved: 0 });
  const tickets = await db.selectFrom('tickets').select(['id', 'status', 'created_at', 'team_id', 'assignee_id', 'priority']).execute();
  for (const t of tickets) {
    day(localDay(policy, t.created_at)).raised++;
    if (active(t.status)) {
      const utc = toDate(t.created_at)!.toISOString().slice(0, 10);
      out.ages[utc] = (out.ages[utc] ?? 0) + 1;
      const key = `${t.team_id ?? 0}|${t.assignee_id ?? 0}|${t.priority}`;
      out.open[key] = (out.open[key] ?? 0) + 1;
    }
  }
  // A resolution is a change from an open status to a closed one, on the day it happened.
  const changes = await db.selectFrom('ticket_events').select(['from_value', 'to_value', 'created_at']).where('kind', '=', 'status').execute();
  for (const e of changes) if (active(e.from_value) && !active(e.to_value)) day(localDay(policy, e.created_at)).resolved++;
  const clocks = await db.selectFrom('sla_clocks').select(['kind', 'outcome', 'outcome_at', 'due_at']).where('outcome', 'is not', null).execute();
  for (const c of clocks) {
    const month = localDay(policy, c.outcome === 'breached' ? c.due_at! : c.outcome_at!).slice(0, 7);
    const m = (out.months[`${month}|${c.kind}`] ??= { met: 0, breached: 0 });
    m[c.outcome!]++;
  }
  return out;
}

/** The running totals as the writes kept them, in the same shape (zero rows left out). */
export async function keptTotals(database: Database): Promise<Totals> {
  const db = database.db;
  const out: Totals = { days: {}, ages: {}, open: {}, months: {} };
  for (const d of await db.selectFrom('ticket_daily').selectAll().execute()) if (d.raised || d.resolved) out.days[d.day] = { raised: Number(d.raised), resolved: Number(d.resolved) };
  for (const a of await db.selectFrom('ticket_open_ages').selectAll().execute()) if (a.n) out.ages[a.day] = Number(a.n);
  for (const o of await db.selectFrom('ticket_open_counts').selectAll().execute()) if (o.n) out.open[`${o.team_id}|${o.assignee_id}|${o.priority}`] = Number(o.n);
  for (const m of await db.selectFrom('sla_monthly').selectAll().execute()) if (m.met || m.breached) out.months[`${m.month}|${m.kind}`] = { met: Number(m.met), breached: Number(m.breached) };
  return out;
}
