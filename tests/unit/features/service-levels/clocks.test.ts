/**
 * Service-level clocks on real tickets in a real (SQLite) database, at chosen instants:
 * raised, paused and resumed, answered, resolved, re-prioritised, and missed.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { openDatabase, type Database } from '../../../../app/db/database';
import { migrateToLatest } from '../../../../app/db/migrate';
import { dueOf, NO_DUE } from '../../../../app/db/values';
import { ensurePerson } from '../../../../app/people/people.queries';
import { BREACH_LEASE, recordBreaches, startBreachTimer } from '../../../../app/features/service-levels/clocks';
import { claimLease } from '../../../../app/features/shared/leases.queries';
import type { CalendarInput } from '../../../../app/features/service-levels/calendar';
import { getSlaSettings, replaceTargets, updateSlaSettingsAtVersion, type TargetRow } from '../../../../app/features/service-levels/service-levels.queries';
import { afterTicketChanged, shapeOf } from '../../../../app/features/tickets/ticket-effects';
import { getTicketForUpdate, insertEvents, updateTicketAtVersion, type TicketFieldChanges } from '../../../../app/features/tickets/tickets.queries';
import { NO_LISTENER } from '../../../../app/features/tickets/ticket-events';
import { insertNewTicket } from '../../../../app/features/tickets/tickets.service';
import { isActive, priorityCode, type PriorityName } from '../../../../app/features/tickets/ticket-values';
import type { TicketStatus } from '../../../../app/access/policy';

const ALWAYS: CalendarInput = { timeZone: 'UTC', hours: Object.fromEntries(['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'].map((d) => [d, [{ start: '00:00', end: '24:00' }]])) };
const OFFICE: CalendarInput = { timeZone: 'Europe/London', hours: Object.fromEntries(['mon', 'tue', 'wed', 'thu', 'fri'].map((d) => [d, [{ start: '08:00', end: '18:00' }]])), holidays: ['2026-12-25'] };
const TARGETS: TargetRow[] = [
  { priority: 4, category_id: null, response_minutes: 60, resolution_minutes: 600 },
  { priority: 2, category_id: null, response_minutes: 480, resolution_minutes: 3000 },
];

describe('service-level clocks on tickets', () => {
  let dir: string;
  let database: Database;
  let requester: number;
  let agent: number;

  beforeEach(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'deskside-clocks-'));
    database = openDatabase(`sqlite:${path.join(dir, 'd.db')}`);
    await migrateToLatest(database.db, database.dialect);
    requester = (await ensurePerson(database.db, 'CORP\\alice', 'corp\\alice')).id;
    agent = (await ensurePerson(database.db, 'CORP\\carol', 'corp\\carol')).id;
  });
  afterEach(async () => {
    await database.close();
    rmSync(dir, { recursive: true, force: true });
  });

  async function setLevels(calendar: CalendarInput, targets: TargetRow[] = TARGETS, atRiskPercent = 25) {
    await database.write(async (trx) => {
      const s = await getSlaSettings(trx);
      await updateSlaSettingsAtVersion(trx, s.id, s.version, { calendar: JSON.stringify(calendar), atRiskPercent, by: null }, new Date().toISOString());
      await replaceTargets(trx, targets);
    });
  }

  const raise = (at: string, priority: PriorityName = 'urgent') =>
    database.write((trx) => insertNewTicket(trx, database.dialect, requester, { title: 'VPN drops', description: 'Every ten minutes', categoryId: 5, priority }, at, NO_LISTENER));

  /** A change as the ticket page makes it, at a chosen instant. */
  async function change(id: number, at: string, to: { status?: TicketStatus; priority?: PriorityName }, opts: { agentReplied?: boolean } = {}) {
    await database.write(async (trx) => {
      const t = (await getTicketForUpdate(trx, id))!;
      const changes: TicketFieldChanges = {};
      if (to.status) Object.assign(changes, { status: to.status, active: isActive(to.status) ? 1 : 0 });
      if (to.priority) changes.priority = priorityCode(to.priority);
      const next = t.version + 1;
      if (Object.keys(changes).length) {
        expect(await updateTicketAtVersion(trx, id, t.version, changes, at)).toBe(true);
        if (to.status) await insertEvents(trx, [{ ticketId: id, actorId: agent, kind: 'status', from: t.status, to: to.status, ticketVersion: next, at }]);
      }
      if (opts.agentReplied) await insertEvents(trx, [{ ticketId: id, actorId: agent, kind: 'comment', body: 'On it', ticketVersion: t.version, at }]);
      await afterTicketChanged(trx, shapeOf(t), shapeOf(t, changes, Object.keys(changes).length ? next : t.version), at, opts);
    });
  }

  const clocks = async (id: number) =>
    Object.fromEntries(
      (await database.db.selectFrom('sla_clocks').selectAll().where('ticket_id', '=', id).execute()).map((c) => [
        c.kind,
        { target: c.target_minutes, due: c.due_at, warn: c.warn_at, paused: c.paused_at, stopped: c.stopped_at, outcome: c.outcome, watch: c.watch },
      ]),
    );
  const ticketDue = (id: number) => database.db.selectFrom('tickets').select(['sla_due_at', 'sla_warn_at', 'sla_due_kind']).where('id', '=', id).executeTakeFirstOrThrow();
  const months = () => database.db.selectFrom('sla_monthly').select(['month', 'kind', 'met', 'breached']).orderBy('kind').execute();
  const slaEvents = (id: number) => database.db.selectFrom('ticket_events').select(['from_value', 'to_value']).where('ticket_id', '=', id).where('kind', '=', 'sla').execute();

  test('when a ticket is raised, then each target gets a clock from its creation, and the ticket carries the nearest due and when it turns at risk', async () => {
    await setLevels(ALWAYS);
    const id = await raise('2026-03-02T09:00:00.000Z');
    expect(await clocks(id)).toEqual({
      response: { target: 60, due: '2026-03-02T10:00:00.000Z', warn: '2026-03-02T09:45:00.000Z', paused: null, stopped: null, outcome: null, watch: 1 },
      resolution: { target: 600, due: '2026-03-02T19:00:00.000Z', warn: '2026-03-02T16:30:00.000Z', paused: null, stopped: null, outcome: null, watch: 1 },
    });
    expect(await ticketDue(id)).toEqual({ sla_due_at: '2026-03-02T10:00:00.000Z', sla_warn_at: '2026-03-02T09:45:00.000Z', sla_due_kind: 'response' });
  });

  test('when the priority has no targets, then there are no clocks and no due time', async () => {
    await setLevels(ALWAYS);
    const id = await raise('2026-03-02T09:00:00.000Z', 'low');
    expect(await clocks(id)).toEqual({});
    expect(dueOf((await ticketDue(id)).sla_due_at)).toBeNull();
    expect((await ticketDue(id)).sla_due_at).toBe(NO_DUE);
  });

  test('when raised late on a Friday in business hours, then the weekend does not count', async () => {
    await setLevels(OFFICE);
    // 17:30 London (GMT) on Friday 6 March: 30 minutes left that day, 30 more on Monday.
    const id = await raise('2026-03-06T17:30:00.000Z');
    expect((await clocks(id)).response.due).toBe('2026-03-09T08:30:00.000Z');
  });

  test('when the ticket waits on the requester, then the clocks pause and, on their reply, the due time moves by the time waited', async () => {
    await setLevels(ALWAYS);
    const id = await raise('2026-03-02T09:00:00.000Z');
    await change(id, '2026-03-02T09:20:00.000Z', { status: 'pending' });
    const paused = await clocks(id);
    expect(paused.response).toMatchObject({ due: null, warn: null, paused: '2026-03-02T09:20:00.000Z', watch: 0 });
    expect(await ticketDue(id)).toEqual({ sla_due_at: NO_DUE, sla_warn_at: null, sla_due_kind: 'paused' });
    await change(id, '2026-03-02T11:20:00.000Z', { status: 'open' });
    const resumed = await clocks(id);
    expect(resumed.response).toMatchObject({ due: '2026-03-02T12:00:00.000Z', paused: null, watch: 1 });
    expect(resumed.resolution.due).toBe('2026-03-02T21:00:00.000Z');
  });

  test('when an agent answers at the due instant, then the target is met; a millisecond later it is missed, recorded once, with an event for agents', async () => {
    await setLevels(ALWAYS);
    const onTime = await raise('2026-03-02T09:00:00.000Z');
    await change(onTime, '2026-03-02T10:00:00.000Z', {}, { agentReplied: true });
    expect((await clocks(onTime)).response).toMatchObject({ stopped: '2026-03-02T10:00:00.000Z', outcome: 'met', watch: 0 });
    // The next due is now the resolution's.
    expect((await ticketDue(onTime)).sla_due_kind).toBe('resolution');
    const late = await raise('2026-03-02T09:00:00.000Z');
    await change(late, '2026-03-02T10:00:00.001Z', {}, { agentReplied: true });
    expect((await clocks(late)).response).toMatchObject({ outcome: 'breached', watch: 0 });
    expect(await slaEvents(late)).toEqual([{ from_value: 'response', to_value: '2026-03-02T10:00:00.000Z' }]);
    expect(await slaEvents(onTime)).toEqual([]);
    expect(await months()).toEqual([{ month: '2026-03', kind: 'response', met: 1, breached: 1 }]);
  });

  test('when a due instant passes with no answer, then the timer records the miss once however many processes run it, and a later answer keeps it missed', async () => {
    await setLevels(ALWAYS);
    const id = await raise('2026-03-02T09:00:00.000Z');
    expect(await recordBreaches(database, new Date('2026-03-02T09:59:59.999Z'))).toBe(0);
    const [a, b] = await Promise.all([recordBreaches(database, new Date('2026-03-02T10:00:00.000Z')), recordBreaches(database, new Date('2026-03-02T10:00:00.000Z'))]);
    expect(a + b).toBe(1);
    expect((await clocks(id)).response).toMatchObject({ outcome: 'breached', stopped: null, watch: 0 });
    // Still the ticket's next due, in the past: the queue shows it as breached.
    expect((await ticketDue(id)).sla_due_at).toBe('2026-03-02T10:00:00.000Z');
    await change(id, '2026-03-02T10:30:00.000Z', {}, { agentReplied: true });
    expect((await clocks(id)).response).toMatchObject({ outcome: 'breached', stopped: '2026-03-02T10:30:00.000Z' });
    expect(await slaEvents(id)).toHaveLength(1);
    expect(await months()).toEqual([{ month: '2026-03', kind: 'response', met: 0, breached: 1 }]);
  });

  test('when re-prioritised, then running clocks take the new targets from the creation; changing the targets later rewrites nothing', async () => {
    await setLevels(ALWAYS);
    const id = await raise('2026-03-02T09:00:00.000Z', 'normal');
    expect((await clocks(id)).response).toMatchObject({ target: 480, due: '2026-03-02T17:00:00.000Z' });
    await change(id, '2026-03-02T09:30:00.000Z', { priority: 'urgent' });
    expect((await clocks(id)).response).toMatchObject({ target: 60, due: '2026-03-02T10:00:00.000Z' });
    await setLevels(ALWAYS, [{ priority: 4, category_id: null, response_minutes: 5, resolution_minutes: 10 }]);
    await change(id, '2026-03-02T09:40:00.000Z', { status: 'open' });
    expect((await clocks(id)).response).toMatchObject({ target: 60, due: '2026-03-02T10:00:00.000Z' });
  });

  test('when a category has its own target for a priority, then its tickets take it, falling back to the priority’s for the other', async () => {
    await setLevels(ALWAYS, [...TARGETS, { priority: 4, category_id: 5, response_minutes: 15, resolution_minutes: null }]);
    const id = await raise('2026-03-02T09:00:00.000Z');
    expect(await clocks(id)).toMatchObject({ response: { target: 15 }, resolution: { target: 600 } });
  });

  test('when resolved, then both clocks stop (an unanswered one counts as met in time), reopening starts nothing, and the ticket has no due', async () => {
    await setLevels(ALWAYS);
    const id = await raise('2026-03-02T09:00:00.000Z');
    await change(id, '2026-03-02T09:30:00.000Z', { status: 'resolved' });
    expect(await clocks(id)).toMatchObject({ response: { outcome: 'met', stopped: '2026-03-02T09:30:00.000Z' }, resolution: { outcome: 'met' } });
    await change(id, '2026-03-03T09:30:00.000Z', { status: 'open' });
    expect(await clocks(id)).toMatchObject({ response: { outcome: 'met', watch: 0 }, resolution: { outcome: 'met', watch: 0 } });
    expect((await ticketDue(id)).sla_due_at).toBe(NO_DUE);
    expect(await recordBreaches(database, new Date('2026-04-01T00:00:00.000Z'))).toBe(0);
  });

  test('when another process holds the timer\'s lease, then this one records nothing; the holder records what came due', async () => {
    await setLevels(ALWAYS);
    const id = await raise(new Date(Date.now() - 2 * 3600_000).toISOString());
    expect(await claimLease(database.db, BREACH_LEASE, 'other:1:a', new Date(), 60_000)).toBe(true);
    const errors: unknown[] = [];
    const stopB = startBreachTimer(database, { everyMs: 60_000, holder: 'this:2:b', onError: (e) => errors.push(e) });
    await stopB();
    expect((await clocks(id)).response.outcome).toBeNull();
    const recorded: number[] = [];
    const stopA = startBreachTimer(database, { everyMs: 60_000, holder: 'other:1:a', onError: (e) => errors.push(e), onRecorded: (n) => recorded.push(n) });
    await stopA();
    expect(recorded).toEqual([1]);
    expect((await clocks(id)).response.outcome).toBe('breached');
    expect(errors).toEqual([]);
  });
});

