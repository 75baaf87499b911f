/**
 * The seeder's teams, service levels and dashboard totals: what a desk set up as the
 * issue describes would have, written so that the totals and clocks add up exactly to the
 * generated tickets (as if every ticket had been raised and worked through the app).
 */
import type { Database } from '../../db/database';
import type { SlaKind } from '../../db/schema';
import { listCategories } from '../categories/categories.queries';
import { addToDay, addToMonth, addToOpenAge, addToOpenCount } from '../dashboard/dashboard.queries';
import { loadPolicy, localDay, pausesOf, SLA_KINDS, stepClock, targetsFor, type SlaPolicy, type TicketDue } from '../service-levels/clocks';
import type { CalendarInput } from '../service-levels/calendar';
import { getSlaSettings, replaceTargets, updateSlaSettingsAtVersion, type ClockValues, type TargetRow } from '../service-levels/service-levels.queries';
import { insertTeam, listTeamMembers, listTeams, replaceTeamMembers } from '../teams/teams.queries';
import { NO_DUE } from '../../db/values';

export interface SeedTeam {
  name: string;
  description?: string;
  directoryGroup?: string;
  /** Logins the team lists (its members when it has no directory group). */
  members?: string[];
  /** Agents (logins) who work the team's tickets in the generated data. */
  assignees: string[];
  /** Categories whose new tickets go to the team. */
  categories: string[];
}

export interface SeedServiceLevels {
  calendar: CalendarInput;
  atRiskPercent: number;
  targets: TargetRow[];
}

const weekdays = (start: string, end: string) => Object.fromEntries(['mon', 'tue', 'wed', 'thu', 'fri'].map((d) => [d, [{ start, end }]]));

/** "Urgent answered within an hour, fixed within a working day", and so on down. */
export const SAMPLE_SERVICE_LEVELS: SeedServiceLevels = {
  calendar: {
    timeZone: 'Europe/London',
    hours: weekdays('08:00', '18:00'),
    holidays: ['2025-12-25', '2025-12-26', '2026-01-01', '2026-04-03', '2026-04-06', '2026-05-04', '2026-05-25', '2026-08-31', '2026-12-25', '2026-12-28', '2027-01-01'],
  },
  atRiskPercent: 25,
  targets: [
    { priority: 4, category_id: null, response_minutes: 60, resolution_minutes: 600 },
    { priority: 3, category_id: null, response_minutes: 240, resolution_minutes: 1200 },
    { priority: 2, category_id: null, response_minutes: 480, resolution_minutes: 3000 },
    { priority: 1, category_id: null, response_minutes: 1200, resolution_minutes: 6000 },
  ],
};

/** Teams for generated agents CORP\agent1 … agent8: a first line, a second line, a network team. */
export function benchTeams(agentLogins: string[]): SeedTeam[] {
  const a = (from: number, to: number) => agentLogins.slice(from, to);
  return [
    { name: 'Service desk', description: 'First line: the phone, passwords, accounts, e-mail', members: a(0, 4), assignees: a(0, 4), categories: ['Accounts & access', 'Email & calendar', 'Software', 'New starter / leaver', 'Other'] },
    { name: 'Desktop support', description: 'Second line: hardware, printing, installs', members: a(4, 6), assignees: a(4, 6), categories: ['Hardware', 'Printing'] },
    { name: 'Network', description: 'Wi-Fi, VPN and the wired network', members: a(6, 8), assignees: a(6, 8), categories: ['Network & VPN'] },
  ];
}

/**
 * Teams for the seeded tickets: the given ones when the database has none yet (with their
 * categories routed to them), else the teams already there. Returns each category's team
 * and the agents (ids) who work each team's tickets.
 */
export async function prepareTeams(database: Database, teams: SeedTeam[], agentIdOf: Map<string, number>): Promise<{ teamOfCategory: Map<number, number>; assigneesOf: Map<number, number[]> }> {
  const db = database.db;
  const assigneesOf = new Map<number, number[]>();
  if ((await listTeams(db, { activeOnly: false })).length === 0 && teams.length) {
    const categories = await listCategories(db, { activeOnly: false });
    await database.write(async (trx) => {
      const at = new Date().toISOString();
      for (const t of teams) {
        const id = await insertTeam(trx, database.dialect, { name: t.name, description: t.description ?? null, directoryGroup: t.directoryGroup ?? null, active: true }, at);
        await replaceTeamMembers(trx, id, (t.members ?? []).map((login) => ({ login, key: login.toLowerCase() })));
        const ids = categories.filter((c) => t.categories.includes(c.name)).map((c) => c.id);
        if (ids.length) await trx.updateTable('categories').set({ default_team_id: id }).where('id', 'in', ids).execute();
        assigneesOf.set(id, t.assignees.map((l) => agentIdOf.get(l.toLowerCase())).filter((x): x is number => x !== undefined));
      }
    });
  } else {
    for (const m of await listTeamMembers(db)) {
      const agent = agentIdOf.get(m.login_key);
      if (agent !== undefined) assigneesOf.set(m.team_id, [...(assigneesOf.get(m.team_id) ?? []), agent]);
    }
  }
  const teamOfCategory = new Map<number, number>();
  for (const c of await listCategories(db, { activeOnly: false })) if (c.default_team_id !== null) teamOfCategory.set(c.id, c.default_team_id);
  return { teamOfCategory, assigneesOf };
}

/** The service levels for the seeded tickets: the sample ones when none are set, else those there. */
export async function prepareServiceLevels(database: Database, levels: SeedServiceLevels | false): Promise<SlaPolicy> {
  const policy = await loadPolicy(database.db);
  if (levels === false || policy.targets.length > 0) return policy;
  await database.write(async (trx) => {
    const s = await getSlaSettings(trx);
    await updateSlaSettingsAtVersion(trx, s.id, s.version, { calendar: JSON.stringify(levels.calendar), atRiskPercent: levels.atRiskPercent, by: null }, new Date().toISOString());
    await replaceTargets(trx, levels.targets);
  });
  return loadPolicy(database.db);
}

/** A generated ticket's history, as far as clocks and totals care. */
export interface SeedHistory {
  id: number;
  createdAt: number;
  priority: number;
  categoryId: number;
  teamId: number | null;
  assigneeId: number | null;
  status: string;
  active: boolean;
  statusChanges: { from_value: string; to_value: string; created_at: string }[];
  firstAgentReplyAt: number | null;
  /** When it became resolved or closed for good. */
  doneAt: number | null;
}

/**
 * The clocks a ticket with this history has (exactly what settleClocks would have left,
 * with the breach timer having run at each due instant), the breaches to put on its
 * timeline, and its due columns.
 */
export function seedClocks(policy: SlaPolicy, h: SeedHistory, now: number, tally: SeedTally): { clocks: ClockValues[]; breaches: { kind: SlaKind; due: string }[]; due: TicketDue } {
  const targets = targetsFor(policy, h.priority, h.categoryId);
  const clocks: ClockValues[] = [];
  const breaches: { kind: SlaKind; due: string }[] = [];
  let due: TicketDue | null = null;
  let running = false;
  const started = new Date(h.createdAt).toISOString();
  const nowIso = new Date(now).toISOString();
  for (const kind of SLA_KINDS) {
    const minutes = targets[kind];
    if (minutes === null) continue;
    const stopMs = kind === 'response' ? minOf(h.firstAgentReplyAt, h.doneAt) : h.doneAt;
    const stop = stopMs === null ? null : new Date(stopMs).toISOString();
    // The pauses as they stood when the clock stopped (later ones had not happened).
    const changes = stop === null ? h.statusChanges : h.statusChanges.filter((c) => c.created_at <= stop);
    const step = stepClock(policy, { kind, target_minutes: minutes, started_at: started, due_at: null, warn_at: null, outcome: null }, pausesOf(changes), stop, stop ?? nowIso);
    const clock: ClockValues = { ticket_id: h.id, kind, target_minutes: minutes, started_at: started, due_at: null, warn_at: null, paused_at: null, stopped_at: null, outcome: null, outcome_at: null, watch: 0, ...step.changes };
    // A due instant that passed while the clock ran: the timer recorded the breach then.
    if (clock.due_at !== null && (clock.outcome === 'breached' || (clock.outcome === null && clock.due_at <= nowIso))) {
      Object.assign(clock, { outcome: 'breached', outcome_at: clock.due_at, watch: 0 });
      breaches.push({ kind, due: clock.due_at });
      tally.month(localDay(policy, clock.due_at).slice(0, 7), kind, 'breached');
    } else if (clock.outcome === 'met') tally.month(localDay(policy, clock.outcome_at!).slice(0, 7), kind, 'met');
    if (stop === null) running = true;
    if (stop === null && clock.due_at !== null && (due === null || clock.due_at < due.at)) due = { at: clock.due_at, warnAt: clock.warn_at, kind };
    clocks.push(clock);
  }
  return { clocks, breaches, due: due ?? { at: NO_DUE, warnAt: null, kind: running ? 'paused' : null } };
}

function minOf(a: number | null, b: number | null): number | null {
  if (a === null) return b;
  if (b === null) return a;
  return Math.min(a, b);
}

/** The dashboard's totals for the seeded tickets, added up in memory and written once. */
export class SeedTally {
  private readonly days = new Map<string, { raised: number; resolved: number }>();
  private readonly ages = new Map<string, number>();
  private readonly open = new Map<string, number>();
  private readonly months = new Map<string, { met: number; breached: number }>();

  constructor(private readonly policy: SlaPolicy) {}

  ticket(h: SeedHistory): void {
    const day = (at: number) => {
      const key = localDay(this.policy, new Date(at));
      let d = this.days.get(key);
      if (!d) this.days.set(key, (d = { raised: 0, resolved: 0 }));
      return d;
    };
    day(h.createdAt).raised++;
    if (h.active) {
      const utc = new Date(h.createdAt).toISOString().slice(0, 10);
      this.ages.set(utc, (this.ages.get(utc) ?? 0) + 1);
      const key = `${h.teamId ?? 0}|${h.assigneeId ?? 0}|${h.priority}`;
      this.open.set(key, (this.open.get(key) ?? 0) + 1);
    } else if (h.doneAt !== null) day(h.doneAt).resolved++;
  }

  month(month: string, kind: SlaKind, outcome: 'met' | 'breached'): void {
    const key = `${month}|${kind}`;
    let m = this.months.get(key);
    if (!m) this.months.set(key, (m = { met: 0, breached: 0 }));
    m[outcome]++;
  }

  /** Add the totals to what the database has (a seed may add to existing tickets). */
  async write(database: Database): Promise<void> {
    await database.write(async (trx) => {
      for (const [day, d] of this.days) await addToDay(trx, day, d);
      for (const [day, n] of this.ages) await addToOpenAge(trx, day, n);
      for (const [key, n] of this.open) {
        const [teamId, assigneeId, priority] = key.split('|').map(Number);
        await addToOpenCount(trx, { teamId, assigneeId, priority }, n);
      }
      for (const [key, m] of this.months) {
        const [month, kind] = key.split('|') as [string, SlaKind];
        await addToMonth(trx, month, kind, m);
      }
    });
  }
}
