import type { Insertable } from 'kysely';
import type { Database } from '../../db/database';
import { insertMany } from '../../db/portable';
import type { SlaClocksTable, TicketEventsTable, TicketsTable } from '../../db/schema';
import { ensurePerson, setAgentFlag } from '../../people/people.queries';
import { listCategories } from '../categories/categories.queries';
import { isActive, STATUSES } from '../tickets/ticket-values';
import type { TicketStatus } from '../../access/policy';
import { benchTeams, prepareServiceLevels, prepareTeams, SAMPLE_SERVICE_LEVELS, seedClocks, SeedTally, type SeedHistory, type SeedServiceLevels, type SeedTeam } from './seed-teams-sla';

/**
 * Realistic demo and benchmark data: people, tickets with believable titles and words
 * to search for, and conversations of 1–30 events. Deterministic for a given seed, so a
 * benchmark database is the same every time.
 */

export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const FIRST = ['Aisha', 'Ben', 'Chloé', 'Dmitri', 'Elena', 'Farid', 'Grace', 'Hiro', 'Ines', 'Jonas', 'Kofi', 'Lena', 'Mateo', 'Nadia', 'Owen', 'Priya', 'Quentin', 'Rosa', 'Sven', 'Tanvi', 'Uma', 'Viktor', 'Wen', 'Yusuf', 'Zoë', 'Liam', 'Sofia', 'Noah', 'Mia', 'Lucas'];
const LAST = ['Abbott', 'Berg', 'Castro', 'Dubois', 'Eriksen', 'Fischer', 'García', 'Haddad', 'Ito', 'Jensen', 'Kowalski', 'Lindqvist', 'Müller', 'Novak', "O'Brien", 'Petrov', 'Quinn', 'Rossi', 'Schmidt', 'Tanaka', 'Usman', 'Varga', 'Walsh', 'Xu', 'Young', 'Zimmer'];
const DEPARTMENTS = ['Finance', 'Sales', 'Marketing', 'Legal', 'HR', 'Operations', 'Engineering', 'Customer Service', 'Facilities', 'Procurement'];

const PROBLEMS: { category: string; titles: string[]; details: string[] }[] = [
  { category: 'Hardware', titles: ['Laptop will not turn on after the update', 'Second monitor flickers on the docking station', 'Keyboard missing keys, need a replacement', 'Laptop battery drains within an hour', 'Docking station does not detect the laptop', 'Webcam shows a black image in Teams'], details: ['It started this morning after the overnight updates.', 'I have tried a different cable and another socket.', 'The fan is very loud and the laptop gets hot.', 'The asset tag on the laptop is on the underside.'] },
  { category: 'Software', titles: ['Excel crashes when opening the budget workbook', 'Need Visio installed for process diagrams', 'Adobe Reader asks for an administrator password', 'SAP GUI shows a certificate warning', 'Teams meetings freeze screen sharing', 'Power BI desktop will not sign in'], details: ['The error says the application stopped responding.', 'Colleagues in my team have the same version and it works for them.', 'I need it for the quarterly close on Friday.', 'Reinstalling from Software Center did not help.'] },
  { category: 'Accounts & access', titles: ['Locked out of my account after password change', 'Need access to the Finance shared drive', 'New starter needs membership of the Sales group', 'MFA prompt never arrives on my phone', 'Cannot open the HR folder since this morning', 'Password expired while on holiday'], details: ['My manager has approved the access.', 'I changed my password yesterday from home.', 'It says I do not have permission to open the folder.', 'The error mentions my account is disabled.'] },
  { category: 'Email & calendar', titles: ['Outlook keeps asking for my password', 'Shared mailbox not showing in Outlook', 'Calendar invitations arrive twice', 'Cannot send email to external addresses', 'Mailbox almost full, need more space', 'Distribution list missing new team members'], details: ['The prompt comes back every few minutes.', 'It worked until last week.', 'Customers say my replies never arrive.', 'I get a bounce message with code 550.'] },
  { category: 'Network & VPN', titles: ['VPN disconnects every ten minutes', 'Wi-Fi in meeting room 4 is very slow', 'Cannot reach the intranet from home', 'Network drive mapping disappears after restart', 'Ethernet port at desk 3.14 is dead', 'Guest Wi-Fi password for visitors tomorrow'], details: ['It happens on the home network and on mobile hotspot.', 'Speed tests show less than 1 Mbit/s.', 'Other people on the floor have the same problem.', 'The drive letter shows a red cross.'] },
  { category: 'Printing', titles: ['Printer on the third floor jams constantly', 'Cannot add the new colour printer', 'Print jobs stuck in the queue', 'Scanner does not send to email', 'Printer prints blank pages', 'Need a toner replacement for the finance printer'], details: ['The display shows paper jam in tray 2.', 'The print queue says the job is spooling.', 'It was fine yesterday afternoon.', 'The printer name is on a label at the front.'] },
  { category: 'New starter / leaver', titles: ['New starter on Monday needs laptop and accounts', 'Leaver on Friday: disable accounts and collect laptop', 'Intern needs temporary access for three months', 'Transfer from Sales to Marketing: update groups'], details: ['Start date and manager are in the HR system.', 'Please also forward their mailbox to their manager.', 'They will need a phone and a headset as well.'] },
  { category: 'Other', titles: ['Meeting room screen does not switch on', 'Request for a second monitor', 'Question about the new expense system', 'Phone extension not ringing'], details: ['It is not urgent but would help a lot.', 'Happy to come to the service desk if easier.'] },
];

const AGENT_REPLIES = [
  'Thanks for reporting this. Could you tell me the asset tag of the device?',
  'I have reset it on our side; please try again and let me know.',
  'We are seeing a few reports like this and are looking into it.',
  'I will come to your desk this afternoon to take a look.',
  'Please restart the machine and check again.',
  'Access has been granted; it can take up to an hour to apply.',
  'Could you send a screenshot of the error?',
];
const REQUESTER_REPLIES = [
  'That worked, thank you!',
  'It is still happening, unfortunately.',
  'Screenshot attached: the error appears as soon as I open it.',
  'I am out tomorrow; a colleague can show you instead.',
  'Thanks, afternoon is fine. I am at desk 3.14.',
];
const NOTES = ['Known issue with the latest driver; rolling back fixed it for others.', 'Checked the logs: account locked by an old phone with the previous password.', 'Escalated to the network team.', 'Waiting on the vendor for a replacement part.'];

export interface SeedOptions {
  tickets: number;
  seed?: number;
  /** Extra people to include as requesters (e.g. the demo directory). */
  requesters?: { login: string; displayName: string; email?: string; department?: string; title?: string }[];
  agents?: { login: string; displayName: string; email?: string; department?: string; title?: string }[];
  /** How many generated requesters; default scales with tickets. */
  generatedPeople?: number;
  /** Teams to set up when the database has none (default: three teams of the generated agents). */
  teams?: SeedTeam[];
  /** Service levels to set when none are (default: the sample ones); false: leave them alone. */
  serviceLevels?: SeedServiceLevels | false;
  /** Spread created times over this many days before now. */
  days?: number;
  batchSize?: number;
  /** Loads of at least this many tickets into an empty database build indexes at the end (default 20,000). */
  bulkLoadFrom?: number;
  onProgress?: (ticketsDone: number, total: number) => void;
  /** Told when the rows are in and the indexes are being built. */
  onIndexing?: () => void;
}

export interface SeedResult {
  tickets: number;
  events: number;
  people: number;
}

function pick<T>(rand: () => number, list: readonly T[]): T {
  return list[Math.floor(rand() * list.length)];
}

/** Weighted: most tickets in a real helpdesk are closed; a minority are still open. */
function pickStatus(rand: () => number): TicketStatus {
  const r = rand();
  if (r < 0.08) return 'new';
  if (r < 0.2) return 'open';
  if (r < 0.27) return 'pending';
  if (r < 0.37) return 'resolved';
  return 'closed';
}

function pickPriority(rand: () => number): number {
  const r = rand();
  return r < 0.2 ? 1 : r < 0.75 ? 2 : r < 0.94 ? 3 : 4;
}

/**
 * Insert generated people and tickets in batched transactions. Rows go in as multi-row
 * inserts sized to stay under SQL Server's 2,100-parameter limit.
 */
export async function seedTickets(database: Database, opts: SeedOptions): Promise<SeedResult> {
  const rand = prng(opts.seed ?? 20261128);
  const db = database.db;
  const categories = await listCategories(db, { activeOnly: true });
  if (categories.length === 0) throw new Error('no categories: run the migrations first');
  const catByName = new Map(categories.map((c) => [c.name, c.id]));

  const agentIds: number[] = [];
  const agentIdOf = new Map<string, number>();
  for (const a of opts.agents ?? []) {
    const p = await ensurePerson(db, a.login, a.login.toLowerCase(), a);
    await setAgentFlag(db, p.id, true);
    agentIds.push(p.id);
    agentIdOf.set(p.login_key, p.id);
  }
  let teams = opts.teams ?? [];
  if (agentIds.length === 0) {
    const logins: string[] = [];
    for (let i = 0; i < 8; i++) {
      const name = `${FIRST[(i * 7) % FIRST.length]} ${LAST[(i * 5) % LAST.length]}`;
      const login = `CORP\\agent${i + 1}`;
      const p = await ensurePerson(db, login, login.toLowerCase(), { displayName: name, email: `agent${i + 1}@corp.example`, department: 'IT', title: 'Service Desk Analyst' });
      await setAgentFlag(db, p.id, true);
      agentIds.push(p.id);
      agentIdOf.set(p.login_key, p.id);
      logins.push(login);
    }
    teams = opts.teams ?? benchTeams(logins);
  }
  const { teamOfCategory, assigneesOf } = await prepareTeams(database, teams, agentIdOf);
  const policy = await prepareServiceLevels(database, opts.serviceLevels ?? SAMPLE_SERVICE_LEVELS);
  const tally = new SeedTally(policy);
  const requesterIds: number[] = [];
  for (const r of opts.requesters ?? []) {
    requesterIds.push((await ensurePerson(db, r.login, r.login.toLowerCase(), r)).id);
  }
  const generated = opts.generatedPeople ?? Math.min(20_000, Math.max(20, Math.ceil(opts.tickets / 50)));
  const peopleRows = [];
  const now = Date.now();
  for (let i = 0; i < generated; i++) {
    const first = FIRST[i % FIRST.length];
    const last = LAST[(i * 7 + Math.floor(i / FIRST.length)) % LAST.length];
    const n = Math.floor(i / (FIRST.length * LAST.length));
    const account = `${first.normalize('NFD').replace(/[^A-Za-z]/g, '').toLowerCase()}.${last.normalize('NFD').replace(/[^A-Za-z]/g, '').toLowerCase()}${n ? n : ''}`;
    const login = `CORP\\${account}`;
    peopleRows.push({
      login,
      login_key: login.toLowerCase(),
      display_name: `${first} ${last}${n ? ` ${n + 1}` : ''}`,
      email: `${account}@corp.example`,
      department: DEPARTMENTS[i % DEPARTMENTS.length],
      title: null,
      is_agent: 0,
      created_at: new Date(now).toISOString(),
      updated_at: new Date(now).toISOString(),
    });
  }
  for (let i = 0; i < peopleRows.length; i += 200) {
    const chunk = peopleRows.slice(i, i + 200);
    await database.write(async (trx) => {
      const existing = new Set((await trx.selectFrom('people').select('login_key').where('login_key', 'in', chunk.map((c) => c.login_key)).execute()).map((r) => r.login_key));
      const fresh = chunk.filter((c) => !existing.has(c.login_key));
      if (fresh.length) await trx.insertInto('people').values(fresh).execute();
    });
  }
  const genIds = (await db.selectFrom('people').select('id').where('is_agent', '=', 0).where('login_key', 'like', 'corp\\%').execute()).map((r) => r.id);
  requesterIds.push(...genIds);

  const days = opts.days ?? 365;
  const span = days * 24 * 3600 * 1000;
  const batch = opts.batchSize ?? 2000;
  const startId = Number((await db.selectFrom('tickets').select((eb) => eb.fn.max('id').as('m')).executeTakeFirst())?.m ?? 0);
  let nextId = startId + 1;
  let events = 0;
  let done = 0;
  // Tickets are created in time order, so ids and created_at agree.
  const step = span / Math.max(1, opts.tickets);

  // Into empty tables, a big load goes faster with the indexes built once at the end.
  const empty = startId === 0;
  const load = async (fn: () => Promise<void>) =>
    empty && opts.tickets >= (opts.bulkLoadFrom ?? 20_000) && database.bulkLoad
      ? database.bulkLoad(['tickets', 'ticket_events', 'sla_clocks'], async () => {
          await fn();
          opts.onIndexing?.();
        })
      : fn();
  await load(async () => {
  while (done < opts.tickets) {
    const n = Math.min(batch, opts.tickets - done);
    const tickets: Insertable<TicketsTable>[] = [];
    const evs: Insertable<TicketEventsTable>[] = [];
    const clocks: Insertable<SlaClocksTable>[] = [];
    for (let i = 0; i < n; i++) {
      const id = nextId++;
      const created = now - span + (done + i) * step + rand() * step;
      const problem = pick(rand, PROBLEMS);
      const title = pick(rand, problem.titles);
      const d1 = Math.floor(rand() * problem.details.length);
      const d2 = (d1 + 1 + Math.floor(rand() * (problem.details.length - 1))) % problem.details.length;
      const description = `${problem.details[d1]} ${problem.details[d2]}\n\n${pick(rand, PROBLEMS).details[0]}`;
      const status = pickStatus(rand);
      const requester = requesterIds[Math.floor(Math.pow(rand(), 1.6) * requesterIds.length)];
      const categoryId = catByName.get(problem.category) ?? categories[0].id;
      // Routed by category, as the app does; an agent of the team picks it up.
      const teamId = teamOfCategory.get(categoryId) ?? null;
      const workers = (teamId !== null ? assigneesOf.get(teamId) : undefined) ?? [];
      const pool = workers.length ? workers : agentIds;
      const assignee = status === 'new' && rand() < 0.8 ? null : pool[Math.floor(rand() * pool.length)];
      const priority = pickPriority(rand);
      const eventCount = 1 + Math.floor(rand() * 30);
      let t = created;
      const at = () => {
        t = Math.min(now, t + rand() * 36e5 * 6);
        return new Date(t).toISOString();
      };
      let version = 1;
      const tev: Insertable<TicketEventsTable>[] = [];
      const history: SeedHistory = { id, createdAt: created, priority, categoryId, teamId, assigneeId: assignee, status, active: isActive(status), statusChanges: [], firstAgentReplyAt: null, doneAt: null };
      const statusEvent = (from: TicketStatus, to: TicketStatus, when: string) => {
        version++;
        tev.push({ ticket_id: id, actor_id: assignee ?? agentIds[0], kind: 'status', body: null, from_value: from, to_value: to, ticket_version: version, created_at: when });
        history.statusChanges.push({ from_value: from, to_value: to, created_at: when });
        if (!isActive(to)) history.doneAt = Date.parse(when);
      };
      tev.push({ ticket_id: id, actor_id: requester, kind: 'created', body: null, from_value: null, to_value: null, ticket_version: 1, created_at: new Date(created).toISOString() });
      let cur: TicketStatus = 'new';
      for (let e = 1; e < eventCount; e++) {
        const r = rand();
        const when = at();
        if (e === eventCount - 1 && status !== cur) {
          statusEvent(cur, status, when);
          cur = status;
        } else if (r < 0.55) {
          const fromAgent = rand() < 0.5;
          tev.push({ ticket_id: id, actor_id: fromAgent ? assignee ?? agentIds[0] : requester, kind: 'comment', body: pick(rand, fromAgent ? AGENT_REPLIES : REQUESTER_REPLIES), from_value: null, to_value: null, ticket_version: version, created_at: when });
          if (fromAgent && history.firstAgentReplyAt === null) history.firstAgentReplyAt = t;
        } else if (r < 0.75) {
          tev.push({ ticket_id: id, actor_id: assignee ?? agentIds[0], kind: 'note', body: pick(rand, NOTES), from_value: null, to_value: null, ticket_version: version, created_at: when });
        } else {
          const mid = STATUSES[1 + Math.floor(rand() * 2)];
          if (mid !== cur) {
            statusEvent(cur, mid, when);
            cur = mid;
          } else {
            tev.push({ ticket_id: id, actor_id: requester, kind: 'comment', body: pick(rand, REQUESTER_REPLIES), from_value: null, to_value: null, ticket_version: version, created_at: when });
          }
        }
      }
      if (cur !== status) statusEvent(cur, status, at());
      const sla = seedClocks(policy, history, now, tally);
      tally.ticket(history);
      clocks.push(...sla.clocks);
      // Each missed target is on the timeline where the timer recorded it: at its due instant.
      for (const b of sla.breaches) {
        let i = tev.length;
        while (i > 1 && tev[i - 1].created_at > b.due) i--;
        tev.splice(i, 0, { ticket_id: id, actor_id: null, kind: 'sla', body: null, from_value: b.kind, to_value: b.due, ticket_version: tev[i - 1].ticket_version, created_at: b.due });
      }
      evs.push(...tev);
      const updated = new Date(t).toISOString();
      tickets.push({
        id,
        title,
        description,
        status,
        active: isActive(status) ? 1 : 0,
        priority,
        category_id: categoryId,
        requester_id: requester,
        assignee_id: assignee,
        team_id: teamId,
        created_at: new Date(created).toISOString(),
        updated_at: updated,
        resolved_at: isActive(status) ? null : updated,
        version,
        sla_due_at: sla.due.at,
        sla_warn_at: sla.due.warnAt,
        sla_due_kind: sla.due.kind,
      });
    }
    await database.write(async (trx) => {
      if (database.bulkInsert) {
        database.bulkInsert('tickets', tickets);
        database.bulkInsert('ticket_events', evs);
        database.bulkInsert('sla_clocks', clocks);
        return;
      }
      // Chunked under SQL Server's 2,100-parameter limit; the tickets carry their own ids.
      await insertMany(trx, 'tickets', tickets, { explicitIds: true });
      await insertMany(trx, 'ticket_events', evs);
      await insertMany(trx, 'sla_clocks', clocks);
    });
    events += evs.length;
    done += n;
    opts.onProgress?.(done, opts.tickets);
  }
  });
  await tally.write(database);
  return { tickets: done, events, people: requesterIds.length + agentIds.length };
}
