/**
 * The dashboard's figures, from the running totals the writes keep (dashboard.queries.ts),
 * never from the tickets themselves: a few hundred small rows, whatever the desk's size.
 * Each figure is a table (a title, a sentence, columns and rows, and where each cell leads
 * in the queue); the page draws charts from the same tables and /dashboard/<id>.csv sends them.
 */
import type { Database } from '../../db/database';
import type { SlaKind } from '../../db/schema';
import { listPeopleByIds } from '../../people/people.queries';
import { localDay, loadPolicy } from '../service-levels/clocks';
import { listTeams } from '../teams/teams.queries';
import { PRIORITIES, type PriorityName } from '../tickets/ticket-values';
import { barChart, columnChart, lineChart, type BarRow } from './charts';
import { listDays, listMonths, listOpenAges, listOpenCounts } from './dashboard.queries';

export type Cell = string | number;

export interface FigureTable {
  id: string;
  title: string;
  /** What the figure says, in a sentence or two. */
  summary: string;
  columns: string[];
  rows: { cells: Cell[]; hrefs?: (string | undefined)[] }[];
}

export interface Dashboard {
  /** Today on the calendar's clocks, and its time zone. */
  today: string;
  timeZone: string;
  days30: FigureTable & { raised: number[]; resolved: number[]; labels: string[] };
  days90: FigureTable & { raised: number[]; resolved: number[]; labels: string[] };
  backlog: FigureTable & { bars: { label: string; href: string; byPriority: Record<PriorityName, { n: number; href: string }> }[] };
  attainment: FigureTable & { bars: { label: string; percent: number | null; href?: string }[] };
  age: FigureTable & { bars: { label: string; n: number; href: string }[] };
  load: FigureTable & { bars: { label: string; href: string; byPriority: Record<PriorityName, { n: number; href: string }> }[] };
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const DAY = 86_400_000;
const fmt = (n: number) => n.toLocaleString('en-GB');
const plural = (n: number, one: string, many = `${one}s`) => `${fmt(n)} ${n === 1 ? one : many}`;

/** YYYY-MM-DD n days before `day`. */
function daysBefore(day: string, n: number): string {
  return new Date(Date.parse(`${day}T00:00:00Z`) - n * DAY).toISOString().slice(0, 10);
}

function shortDate(day: string): string {
  const [, m, d] = day.split('-').map(Number);
  return `${d} ${MONTHS[m - 1]}`;
}

function monthName(month: string): string {
  const [y, m] = month.split('-').map(Number);
  return `${['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'][m - 1]} ${y}`;
}

function previousMonth(month: string): string {
  const [y, m] = month.split('-').map(Number);
  return m === 1 ? `${y - 1}-12` : `${y}-${String(m - 1).padStart(2, '0')}`;
}

const queue = (params: Record<string, string | number>) => `/tickets?${Object.entries(params).map(([k, v]) => `${k}=${encodeURIComponent(String(v))}`).join('&')}`;

export async function buildDashboard(database: Database, now: Date): Promise<Dashboard> {
  const db = database.db;
  const policy = await loadPolicy(db);
  const today = localDay(policy, now);
  const thisMonth = today.slice(0, 7);
  const lastMonth = previousMonth(thisMonth);
  const [days, open, months, ages, teams] = await Promise.all([listDays(db, daysBefore(today, 89)), listOpenCounts(db), listMonths(db, [thisMonth, lastMonth]), listOpenAges(db), listTeams(db, { activeOnly: false })]);
  const agentIds = [...new Set(open.map((r) => r.assignee_id).filter((id) => id !== 0))];
  const people = await listPeopleByIds(db, agentIds);
  return {
    today,
    timeZone: policy.calendar.timeZone,
    days30: raisedResolved('days-30', 30, today, days),
    days90: raisedResolved('days-90', 90, today, days),
    backlog: backlogFigure(open, teams),
    attainment: attainmentFigure(months, thisMonth, lastMonth),
    age: ageFigure(ages, now),
    load: loadFigure(open, people),
  };
}

function raisedResolved(id: string, n: number, today: string, days: { day: string; raised: number; resolved: number }[]): Dashboard['days30'] {
  const byDay = new Map(days.map((d) => [d.day, d]));
  const keys = Array.from({ length: n }, (_, i) => daysBefore(today, n - 1 - i));
  const raised = keys.map((k) => byDay.get(k)?.raised ?? 0);
  const resolved = keys.map((k) => byDay.get(k)?.resolved ?? 0);
  const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
  const busiest = raised.reduce((best, v, i) => (v > raised[best] ? i : best), 0);
  const r = sum(raised);
  const s = sum(resolved);
  const balance = r === s ? 'as many as were raised' : r > s ? `${fmt(r - s)} fewer than were raised, so the backlog grew` : `${fmt(s - r)} more than were raised, so the backlog shrank`;
  return {
    id,
    title: `Tickets raised and resolved, last ${n} days`,
    summary: r + s === 0 ? `No tickets were raised or resolved in the last ${n} days.` : `In the last ${n} days ${plural(r, 'ticket was', 'tickets were')} raised and ${fmt(s)} resolved, ${balance}. The busiest day was ${shortDate(keys[busiest])}, with ${fmt(raised[busiest])} raised.`,
    columns: ['Day', 'Raised', 'Resolved'],
    rows: keys.map((k, i) => ({ cells: [k, raised[i], resolved[i]], hrefs: [undefined, queue({ status: 'all' }), queue({ status: 'done' })] })),
    raised,
    resolved,
    labels: keys.map(shortDate),
  };
}

type ByPriority = Record<PriorityName, { n: number; href: string }>;

function byPriority(rows: { priority: number; n: number }[], href: (p: PriorityName) => string): ByPriority {
  return Object.fromEntries(PRIORITIES.map((p, i) => [p, { n: rows.filter((r) => r.priority === i + 1).reduce((a, r) => a + r.n, 0), href: href(p) }])) as ByPriority;
}

function backlogFigure(open: { team_id: number; priority: number; n: number }[], teams: { id: number; name: string }[]): Dashboard['backlog'] {
  const teamIds = [...new Set(open.map((r) => r.team_id))];
  const name = (id: number) => (id === 0 ? 'No team' : teams.find((t) => t.id === id)?.name ?? 'A removed team');
  const filter = (id: number) => (id === 0 ? 'none' : String(id));
  const bars = teamIds
    .map((id) => ({ id, label: name(id), href: queue({ team: filter(id) }), byPriority: byPriority(open.filter((r) => r.team_id === id), (p) => queue({ team: filter(id), priority: p })) }))
    .sort((a, b) => (a.id === 0 ? 1 : b.id === 0 ? -1 : a.label.localeCompare(b.label)));
  const total = open.reduce((a, r) => a + r.n, 0);
  const urgent = open.filter((r) => r.priority === 4).reduce((a, r) => a + r.n, 0);
  const biggest = [...bars].sort((a, b) => totalOf(b.byPriority) - totalOf(a.byPriority))[0];
  return {
    id: 'backlog',
    title: 'Open tickets by team and priority',
    summary: total === 0 ? 'No tickets are open.' : `${plural(total, 'ticket is', 'tickets are')} open, ${fmt(urgent)} of them urgent. ${biggest.label} has the most: ${fmt(totalOf(biggest.byPriority))}.`,
    columns: ['Team', 'Urgent', 'High', 'Normal', 'Low', 'Total'],
    rows: bars.map((b) => ({
      cells: [b.label, b.byPriority.urgent.n, b.byPriority.high.n, b.byPriority.normal.n, b.byPriority.low.n, totalOf(b.byPriority)],
      hrefs: [b.href, b.byPriority.urgent.href, b.byPriority.high.href, b.byPriority.normal.href, b.byPriority.low.href, b.href],
    })),
    bars,
  };
}

function totalOf(p: ByPriority): number {
  return PRIORITIES.reduce((a, k) => a + p[k].n, 0);
}

function attainmentFigure(months: { month: string; kind: SlaKind; met: number; breached: number }[], thisMonth: string, lastMonth: string): Dashboard['attainment'] {
  const get = (month: string, kind: SlaKind) => months.find((m) => m.month === month && m.kind === kind) ?? { met: 0, breached: 0 };
  const pct = (x: { met: number; breached: number }) => (x.met + x.breached === 0 ? null : Math.round((1000 * x.met) / (x.met + x.breached)) / 10);
  const label = (kind: SlaKind) => (kind === 'response' ? 'First response' : 'Resolution');
  const rows: Dashboard['attainment']['rows'] = [];
  const bars: Dashboard['attainment']['bars'] = [];
  const said: string[] = [];
  for (const kind of ['response', 'resolution'] as SlaKind[]) {
    const q = pct(get(lastMonth, kind));
    const p = pct(get(thisMonth, kind));
    for (const month of [thisMonth, lastMonth]) {
      const x = get(month, kind);
      const share = pct(x);
      // Only this month's missed targets can still be open tickets in the queue.
      const missed = month === thisMonth ? queue({ sla: 'breached' }) : undefined;
      rows.push({ cells: [label(kind), monthName(month), share === null ? 'none decided' : `${share}%`, x.met, x.breached], hrefs: [undefined, undefined, undefined, undefined, missed] });
      bars.push({ label: `${label(kind)}, ${monthName(month).slice(0, 3)}`, percent: share, href: missed });
    }
    said.push(`${label(kind).toLowerCase()} targets ${p === null ? 'have none decided yet' : `were ${p}% met`}${q === null ? '' : ` (${q}% in ${monthName(lastMonth)})`}`);
  }
  return {
    id: 'attainment',
    title: `Service-level targets met, ${monthName(thisMonth)} and ${monthName(lastMonth)}`,
    summary: `This month ${said.join('; ')}.`,
    columns: ['Target', 'Month', 'Met', 'Met (tickets)', 'Missed (tickets)'],
    rows,
    bars,
  };
}

const AGE_BUCKETS: { label: string; from: number; to: number }[] = [
  { label: 'Under a day', from: 0, to: 1 },
  { label: '1–2 days', from: 1, to: 3 },
  { label: '3–6 days', from: 3, to: 7 },
  { label: '1–4 weeks', from: 7, to: 30 },
  { label: '1–3 months', from: 30, to: 90 },
  { label: 'Over 3 months', from: 90, to: Infinity },
];

/** Open tickets by how many days ago they were raised (UTC dates, as the totals keep them). */
function ageFigure(ages: { day: string; n: number }[], now: Date): Dashboard['age'] {
  const today = Date.parse(`${now.toISOString().slice(0, 10)}T00:00:00Z`);
  const counts = AGE_BUCKETS.map(() => 0);
  for (const a of ages) {
    const days = Math.max(0, Math.round((today - Date.parse(`${a.day}T00:00:00Z`)) / DAY));
    const i = AGE_BUCKETS.findIndex((b) => days >= b.from && days < b.to);
    counts[i] += a.n;
  }
  const total = counts.reduce((a, b) => a + b, 0);
  const old = counts[4] + counts[5];
  const bars = AGE_BUCKETS.map((b, i) => ({ label: b.label, n: counts[i], href: queue({ sort: 'oldest' }) }));
  return {
    id: 'age',
    title: 'Age of open tickets',
    summary: total === 0 ? 'No tickets are open.' : `Of ${plural(total, 'open ticket')}, ${plural(counts[0] + counts[1], 'was', 'were')} raised in the last two days and ${plural(old, 'is', 'are')} older than a month.`,
    columns: ['Raised', 'Open tickets'],
    rows: bars.map((b) => ({ cells: [b.label, b.n], hrefs: [undefined, b.href] })),
    bars,
  };
}

function loadFigure(open: { assignee_id: number; priority: number; n: number }[], people: { id: number; login: string; display_name: string | null }[]): Dashboard['load'] {
  const bars = people
    .map((p) => ({ label: p.display_name ?? p.login, href: queue({ assignee: p.login }), byPriority: byPriority(open.filter((r) => r.assignee_id === p.id), (pr) => queue({ assignee: p.login, priority: pr })) }))
    .sort((a, b) => totalOf(b.byPriority) - totalOf(a.byPriority) || a.label.localeCompare(b.label));
  const unassigned = open.filter((r) => r.assignee_id === 0).reduce((a, r) => a + r.n, 0);
  const top = bars[0];
  return {
    id: 'load',
    title: 'Open tickets per agent',
    summary: `${top ? `${top.label} has the most open tickets: ${fmt(totalOf(top.byPriority))}. ` : 'Nobody has open tickets. '}${plural(unassigned, 'open ticket is', 'open tickets are')} not assigned to anyone.`,
    columns: ['Agent', 'Urgent', 'High', 'Normal', 'Low', 'Total'],
    rows: [
      ...bars.map((b) => ({
        cells: [b.label, b.byPriority.urgent.n, b.byPriority.high.n, b.byPriority.normal.n, b.byPriority.low.n, totalOf(b.byPriority)] as Cell[],
        hrefs: [b.href, b.byPriority.urgent.href, b.byPriority.high.href, b.byPriority.normal.href, b.byPriority.low.href, b.href],
      })),
      { cells: ['Nobody (unassigned)', '', '', '', '', unassigned], hrefs: [queue({ assignee: 'none' }), undefined, undefined, undefined, undefined, queue({ assignee: 'none' })] },
    ],
    bars,
  };
}

/** The figures a CSV can be had of, by id. */
export function figureById(d: Dashboard, id: string): FigureTable | undefined {
  return [d.days30, d.days90, d.backlog, d.attainment, d.age, d.load].find((f) => f.id === id);
}


const PRIORITY_SEGMENTS: PriorityName[] = ['urgent', 'high', 'normal', 'low'];

/** The charts' SVG, drawn from the figures (each escapes its own text). */
export function dashboardCharts(d: Dashboard): Record<'days30' | 'days90' | 'backlog' | 'attainment' | 'age' | 'load', string> {
  const stacked = (bars: Dashboard['backlog']['bars']): BarRow[] =>
    bars.map((b) => ({ label: b.label, segments: PRIORITY_SEGMENTS.map((p) => ({ value: b.byPriority[p].n, className: `c-${p}`, name: p, href: b.byPriority[p].href })) }));
  return {
    days30: columnChart({
      labels: d.days30.labels,
      series: [
        { name: 'raised', className: 'c-raised', values: d.days30.raised, href: () => '/tickets?status=all' },
        { name: 'resolved', className: 'c-resolved', values: d.days30.resolved, href: () => '/tickets?status=done' },
      ],
      labelEvery: 7,
    }),
    days90: lineChart({
      labels: d.days90.labels,
      series: [
        { name: 'raised', className: 'l-raised', values: d.days90.raised },
        { name: 'resolved', className: 'l-resolved', values: d.days90.resolved },
      ],
      labelEvery: 14,
    }),
    backlog: barChart({ rows: stacked(d.backlog.bars) }),
    attainment: barChart({
      rows: d.attainment.bars.map((b, i) => ({ label: b.label, segments: [{ value: b.percent ?? 0, className: i % 2 === 0 ? 'c-this-month' : 'c-last-month', name: 'met', href: b.href }], note: b.percent === null ? 'none decided' : `${b.percent}%` })),
      max: 100,
      unit: '%',
      labelWidth: 170,
    }),
    age: barChart({ rows: d.age.bars.map((b) => ({ label: b.label, segments: [{ value: b.n, className: 'c-age', name: 'open tickets', href: b.href }] })) }),
    load: barChart({ rows: stacked(d.load.bars) }),
  };
}
