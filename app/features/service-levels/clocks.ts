/**
 * Service-level clocks on tickets: the rules, applied inside the transaction that changes
 * the ticket (the caller's), so a ticket's due times always match its history.
 *
 * - Raised: a clock per target the ticket's priority (and category) has, started at the
 *   ticket's creation, with the target copied onto the clock: changing the targets later
 *   never changes a ticket's history.
 * - Re-prioritised or moved to another category: clocks with nothing recorded take the new
 *   targets (from the ticket's creation, pauses kept out); recorded outcomes stay.
 * - Pending (waiting for the requester): clocks pause; back from pending, they resume, and
 *   the due instant moves by the business time spent waiting.
 * - The first public reply by an agent stops the response clock; resolving (or closing)
 *   stops both. Reopening starts nothing again: the outcome of a target is decided once.
 * - Met or breached is judged by the instant (business-time.ts): a stop at or before the
 *   due instant met the target, one after it missed. A breach is recorded when it happens,
 *   by the timer (recordBreaches) or by a late stop, whichever comes first, never twice.
 */
import type { Transaction } from 'kysely';
import type { Database } from '../../db/database';
import type { DB, SlaKind } from '../../db/schema';
import { NO_DUE, toDate } from '../../db/values';
import { insertEvents } from '../tickets/tickets.queries';
import { processHolder } from '../attachments/sweeper';
import { addToMonth } from '../dashboard/dashboard.queries';
import { claimLease } from '../shared/leases.queries';
import { readClock, type Pause } from './business-time';
import { calendarOf, type BusinessCalendar, type CalendarInput } from './calendar';
import {
  deleteClock,
  getSlaSettings,
  insertClock,
  listClocks,
  listOverdueClocks,
  listStatusChanges,
  listTargets,
  markBreached,
  setTicketDue,
  updateClock,
  type ClockChanges,
  type ClockRow,
  type ClockValues,
  type TargetRow,
} from './service-levels.queries';
import { isoDateOfDay, zoneNamed } from './zone';

export const SLA_KINDS: readonly SlaKind[] = ['response', 'resolution'];

/** What the clocks are set by: the calendar, the targets and when a ticket is at risk. */
export interface SlaPolicy {
  calendar: BusinessCalendar;
  atRiskPercent: number;
  targets: TargetRow[];
}

const calendars = new Map<string, BusinessCalendar>();

/** The stored calendar (JSON of a CalendarInput that parseCalendar accepted), parsed once per process. */
export function storedCalendar(json: string): BusinessCalendar {
  let calendar = calendars.get(json);
  if (!calendar) {
    calendar = calendarOf(JSON.parse(json) as CalendarInput);
    if (calendars.size > 20) calendars.clear();
    calendars.set(json, calendar);
  }
  return calendar;
}

export async function loadPolicy(db: Database['db'] | Transaction<DB>): Promise<SlaPolicy> {
  const [settings, targets] = await Promise.all([getSlaSettings(db), listTargets(db)]);
  return { calendar: storedCalendar(settings.calendar), atRiskPercent: settings.at_risk_percent, targets };
}

/** The targets for a ticket: its category's for the priority where set, else the priority's own. */
export function targetsFor(policy: SlaPolicy, priority: number, categoryId: number): Record<SlaKind, number | null> {
  const general = policy.targets.find((t) => t.priority === priority && t.category_id === null);
  const special = policy.targets.find((t) => t.priority === priority && t.category_id === categoryId);
  return {
    response: special?.response_minutes ?? general?.response_minutes ?? null,
    resolution: special?.resolution_minutes ?? general?.resolution_minutes ?? null,
  };
}

/** The local date (YYYY-MM-DD) of an instant on the calendar's clocks: the dashboard's days. */
export function localDay(policy: SlaPolicy, at: string | Date): string {
  return isoDateOfDay(zoneNamed(policy.calendar.timeZone).dayOf(toDate(at)!.getTime()));
}

/** What the clock rules need to know about the ticket, after the change being made. */
export interface ClockTicket {
  id: number;
  version: number;
  status: string;
  priority: number;
  categoryId: number;
  requesterId: number;
  createdAt: string;
}

const iso = (v: string | Date | null | undefined): string | null => (v ? toDate(v)!.toISOString() : null);

/** Start the ticket's clocks (a new ticket). */
export async function startClocks(trx: Transaction<DB>, policy: SlaPolicy, t: ClockTicket, at: string): Promise<void> {
  const targets = targetsFor(policy, t.priority, t.categoryId);
  for (const kind of SLA_KINDS) {
    const minutes = targets[kind];
    if (minutes === null) continue;
    await insertClock(trx, { ticket_id: t.id, kind, target_minutes: minutes, started_at: t.createdAt, due_at: null, warn_at: null, paused_at: null, stopped_at: null, outcome: null, outcome_at: null, watch: 0 });
  }
  await settleClocks(trx, policy, t, at, {});
}

export interface ClockChange {
  /** Priority or category changed: clocks with nothing recorded take the new targets. */
  retarget?: boolean;
  /** A public reply by an agent: the response clock stops. */
  agentReplied?: boolean;
}

/**
 * Bring the ticket's clocks in line with the ticket as it now is (its events already
 * written): stop, retarget, pause or resume them, record outcomes, and copy the next due
 * instant onto the ticket for the queue.
 */
export async function settleClocks(trx: Transaction<DB>, policy: SlaPolicy, t: ClockTicket, at: string, change: ClockChange): Promise<void> {
  let clocks = await listClocks(trx, t.id);
  const done = t.status === 'resolved' || t.status === 'closed';
  if (change.retarget && !done) clocks = await retarget(trx, policy, t, clocks);
  if (clocks.length === 0) {
    await setTicketDue(trx, t.id, NO_DUE_TICKET);
    return;
  }
  const pauses = pausesOf(await listStatusChanges(trx, t.id));
  let next: TicketDue | null = null;
  let running = false;
  for (const c of clocks) {
    if (c.stopped_at) continue;
    const stop = done || (c.kind === 'response' && change.agentReplied) ? at : null;
    const step = stepClock(policy, c, pauses, stop, at);
    if (step.recorded) await recordOutcome(trx, policy, t, c.kind, step.recorded.outcome, step.recorded.when, at);
    if (!stop) {
      running = true;
      next = earlier(next, step.due);
    }
    await updateClock(trx, t.id, c.kind, step.changes);
  }
  await setTicketDue(trx, t.id, next ?? (running ? PAUSED_TICKET : NO_DUE_TICKET));
}

/**
 * What the queue knows of a ticket's clocks: the next due instant, from when it is at risk,
 * and for which target; `paused` when clocks run but all wait for the requester.
 */
export interface TicketDue {
  at: string;
  warnAt: string | null;
  kind: SlaKind | 'paused' | null;
}

export const NO_DUE_TICKET: TicketDue = { at: NO_DUE, warnAt: null, kind: null };
const PAUSED_TICKET: TicketDue = { at: NO_DUE, warnAt: null, kind: 'paused' };

function earlier(a: TicketDue | null, b: TicketDue | null): TicketDue | null {
  if (!b) return a;
  return a === null || b.at < a.at ? b : a;
}

/**
 * One running clock brought up to date: its due and at-risk instants from its start,
 * target and the ticket's pauses; stopped at `stop` when given (met if at or before the
 * due instant, or still paused short of it). `recorded`: an outcome decided by this step.
 * `due`: what the clock adds to the ticket's next due, if it keeps running.
 */
export function stepClock(policy: SlaPolicy, c: Pick<ClockRow, 'kind' | 'target_minutes' | 'started_at' | 'due_at' | 'warn_at' | 'outcome'>, pauses: Pause[], stop: string | null, now: string): { changes: ClockChanges; recorded?: { outcome: 'met' | 'breached'; when: string }; due: TicketDue | null } {
  const changes: ClockChanges = {};
  let dueAt = iso(c.due_at);
  let warnAt = iso(c.warn_at);
  if (c.outcome === null) {
    // A clock that stops here is never at risk again: no need to work out when it would be.
    const reading = read(policy, c, pauses, new Date(now), stop === null);
    dueAt = reading.due;
    warnAt = reading.warn;
    Object.assign(changes, { due_at: reading.due, warn_at: reading.warn, paused_at: reading.pausedSince, watch: reading.due ? 1 : 0 });
  }
  if (stop === null) return { changes, due: dueAt === null ? null : { at: dueAt, warnAt, kind: c.kind } };
  Object.assign(changes, { stopped_at: stop, paused_at: null, watch: 0 });
  if (c.outcome !== null) return { changes, due: null };
  const outcome = dueAt !== null && stop > dueAt ? 'breached' : 'met';
  Object.assign(changes, { outcome, outcome_at: stop });
  return { changes, recorded: { outcome, when: outcome === 'breached' ? dueAt! : stop }, due: null };
}

/** New targets for clocks with nothing recorded; clocks for targets that now exist, or no longer do. */
async function retarget(trx: Transaction<DB>, policy: SlaPolicy, t: ClockTicket, clocks: ClockRow[]): Promise<ClockRow[]> {
  const targets = targetsFor(policy, t.priority, t.categoryId);
  const out: ClockRow[] = [];
  for (const kind of SLA_KINDS) {
    const c = clocks.find((x) => x.kind === kind);
    const minutes = targets[kind];
    if (c && (c.outcome !== null || c.stopped_at)) out.push(c);
    else if (c && minutes === null) await deleteClock(trx, t.id, kind);
    else if (c) {
      if (c.target_minutes !== minutes) await updateClock(trx, t.id, kind, { target_minutes: minutes! });
      out.push({ ...c, target_minutes: minutes! });
    } else if (minutes !== null && !(kind === 'response' && (await hasPublicReplyByOthers(trx, t)))) {
      const row: ClockValues = { ticket_id: t.id, kind, target_minutes: minutes, started_at: t.createdAt, due_at: null, warn_at: null, paused_at: null, stopped_at: null, outcome: null, outcome_at: null, watch: 0 };
      await insertClock(trx, row);
      out.push(row);
    }
  }
  return out;
}

async function hasPublicReplyByOthers(trx: Transaction<DB>, t: ClockTicket): Promise<boolean> {
  const r = await trx.selectFrom('ticket_events').select('id').where('ticket_id', '=', t.id).where('kind', '=', 'comment').where('actor_id', '<>', t.requesterId).executeTakeFirst();
  return r !== undefined;
}

/** Due and at-risk instants (ISO, or null while paused short of them) of a clock with nothing recorded. */
function read(policy: SlaPolicy, c: Pick<ClockRow, 'started_at' | 'target_minutes'>, pauses: Pause[], now: Date, withWarning: boolean): { due: string | null; warn: string | null; pausedSince: string | null } {
  const start = toDate(c.started_at)!;
  const reading = readClock(policy.calendar, { start, targetMinutes: c.target_minutes, pauses }, now);
  const warnMinutes = (c.target_minutes * (100 - policy.atRiskPercent)) / 100;
  const warn = withWarning ? readClock(policy.calendar, { start, targetMinutes: warnMinutes, pauses }, now).due : null;
  return { due: reading.due?.toISOString() ?? null, warn: warn?.toISOString() ?? null, pausedSince: reading.pausedSince?.toISOString() ?? null };
}

/** The stretches a ticket spent pending, from its status changes (the last may still be going on). */
export function pausesOf(changes: { from_value: string | null; to_value: string | null; created_at: string | Date }[]): Pause[] {
  const pauses: Pause[] = [];
  let open: Date | null = null;
  for (const e of changes) {
    const when = toDate(e.created_at)!;
    if (e.to_value === 'pending' && open === null) open = when;
    else if (e.from_value === 'pending' && e.to_value !== 'pending' && open !== null) {
      pauses.push({ from: open, to: when });
      open = null;
    }
  }
  if (open !== null) pauses.push({ from: open, to: null });
  return pauses;
}

/** The month's tally, and for a breach an event on the ticket's timeline (agents only). */
async function recordOutcome(trx: Transaction<DB>, policy: SlaPolicy, t: { id: number; version: number }, kind: SlaKind, outcome: 'met' | 'breached', when: string, at: string): Promise<void> {
  await addToMonth(trx, localDay(policy, when).slice(0, 7), kind, { [outcome]: 1 });
  if (outcome === 'breached') await insertEvents(trx, [{ ticketId: t.id, actorId: null, kind: 'sla', from: kind, to: when, ticketVersion: t.version, at }]);
}

/**
 * Record the breaches whose due instant has passed (at most `limit`), each in its own
 * transaction; returns how many this call recorded. Safe to run in several processes at
 * once: markBreached lets exactly one of them record each.
 */
export async function recordBreaches(database: Database, now: Date, limit = 200): Promise<number> {
  const at = now.toISOString();
  const overdue = await listOverdueClocks(database.db, database.dialect, at, limit);
  let recorded = 0;
  for (const c of overdue) {
    const due = iso(c.due_at)!;
    const done = await database.write(async (trx) => {
      if (!(await markBreached(trx, c.ticket_id, c.kind, due, at))) return false;
      const [policy, ticket] = await Promise.all([loadPolicy(trx), trx.selectFrom('tickets').select(['id', 'version']).where('id', '=', c.ticket_id).executeTakeFirstOrThrow()]);
      await recordOutcome(trx, policy, ticket, c.kind, 'breached', due, at);
      return true;
    });
    if (done) recorded++;
  }
  return recorded;
}

/** The lease's name in worker_leases. */
export const BREACH_LEASE = 'sla-breaches';

/**
 * The breach timer: started by compose.ts `start()`, never at import. Each round, the
 * process holding the lease (claimed for one interval, renewed before each batch) records
 * what has come due; the others do nothing. Two rounds at once would still record each
 * breach once (markBreached): the lease saves the work. The returned stop function waits
 * for a round in progress, so the database can be closed after it.
 */
export function startBreachTimer(database: Database, opts: { everyMs: number; holder?: string; onError: (err: unknown) => void; onRecorded?: (n: number) => void }): () => Promise<void> {
  const holder = opts.holder ?? processHolder();
  let running: Promise<void> | null = null;
  let stopped = false;
  const claim = () => claimLease(database.db, BREACH_LEASE, holder, new Date(), opts.everyMs);
  const round = async () => {
    try {
      // A backlog (after an outage) drains in batches, each breach its own transaction.
      while (!stopped && (await claim())) {
        const n = await recordBreaches(database, new Date());
        if (n === 0) break;
        opts.onRecorded?.(n);
      }
    } catch (err) {
      opts.onError(err);
    }
  };
  const tick = () => {
    if (running || stopped) return;
    running = round().finally(() => (running = null));
  };
  const timer = setInterval(tick, opts.everyMs);
  timer.unref();
  tick();
  return async () => {
    stopped = true;
    clearInterval(timer);
    await running;
  };
}
