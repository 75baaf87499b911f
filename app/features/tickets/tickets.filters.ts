import type { TicketStatus } from '../../access/policy';
import { searchWords } from '../../db/portable';
import { isPriority, isStatus, LIMITS, priorityCode, type PriorityName } from './ticket-values';
import type { SortKey, TicketOrder, TicketQuery } from './tickets.queries';

export type PerPage = (typeof PER_PAGE)[number];
export const PER_PAGE = [25, 50, 100] as const;

/** The list's filters exactly as the URL gives them, for links and the filter form. */
export interface ListParams {
  status: TicketStatus | 'active' | 'done' | 'all';
  priority: PriorityName | '';
  category: string;
  assignee: string;
  requester: string;
  /** A team's number, `mine` (the viewer's teams) or `none`; empty: any. */
  team: string;
  /** Service level: tickets at risk of missing their next target, or past it; empty: any. */
  sla: SlaFilter | '';
  q: string;
  /** As the URL writes it: a sort key, `-` first for descending (`-updated`, `priority`). */
  sort: string;
  per: PerPage;
  /** Optional queue columns shown (`cols=created`). */
  cols: string[];
  page: number;
}

/**
 * Sort keys the list accepts. Each is read off an index for the queue's default views
 * (decision 0016); title, requester, assignee, category and status are not sortable,
 * since ordering by them would sort every matching ticket (or join to names) per page.
 */
export const SORT_KEYS: readonly SortKey[] = ['id', 'created', 'updated', 'priority', 'due'];

/** The direction a column's header sorts in first: newest, most urgent, due soonest. */
export const FIRST_DIRECTION: Record<SortKey, 'asc' | 'desc'> = { id: 'desc', created: 'desc', updated: 'desc', priority: 'desc', due: 'asc' };

export type SlaFilter = 'at-risk' | 'breached';
export const SLA_FILTERS: Record<SlaFilter, string> = { 'at-risk': 'At risk', breached: 'Past due' };

export const DEFAULT_SORT = '-updated';
/**
 * A search lists the newest tickets first: read off the text index in that order, a page
 * costs its own rows, not every match (decision 0019). Any other sort can still be chosen.
 */
export const SEARCH_SORT = '-created';

/** The sort a list has when its address names none. */
export function defaultSort(q: string): string {
  return q ? SEARCH_SORT : DEFAULT_SORT;
}

/** Older addresses said `sort=oldest` for "oldest first"; it stays accepted. */
const SORT_ALIASES: Record<string, string> = { oldest: 'created' };

/** The requesters' list offers a few orders as a select; the queue sorts by its headers. */
export const SORT_CHOICES: Record<string, string> = {
  '-updated': 'Recently updated',
  '-created': 'Newest',
  created: 'Oldest',
  '-priority': 'Most urgent',
};

const OPTIONAL_COLUMNS = ['created', 'team'] as const;

export class FilterError extends Error {}

const KEYS = ['status', 'priority', 'category', 'assignee', 'requester', 'team', 'sla', 'q', 'sort', 'per', 'cols', 'page'] as const;

function single(query: Record<string, unknown>, key: string): string {
  const v = query[key];
  if (v === undefined) return '';
  if (typeof v !== 'string') throw new FilterError(`"${key}" was given more than once; give it once`);
  return v.trim();
}

/** `-priority` → { key: 'priority', desc: true }; undefined when it is not a sort. */
export function parseSort(raw: string): TicketOrder | undefined {
  const desc = raw.startsWith('-');
  const name = desc ? raw.slice(1) : raw;
  // Own keys only: `constructor` and `__proto__` are "in" every object.
  const key = Object.hasOwn(SORT_ALIASES, name) ? SORT_ALIASES[name] : name;
  if (!(SORT_KEYS as readonly string[]).includes(key)) return undefined;
  return { key: key as SortKey, desc };
}

export function sortText(o: TicketOrder): string {
  return `${o.desc ? '-' : ''}${o.key}`;
}

/** Parse and check the list URL. Unknown values are a 400 naming what is accepted. */
export function parseListParams(query: Record<string, unknown>, defaults: { status: ListParams['status'] }): ListParams {
  for (const k of KEYS) single(query, k);
  const status = single(query, 'status') || defaults.status;
  if (!(isStatus(status) || status === 'active' || status === 'done' || status === 'all')) {
    throw new FilterError('status must be one of active, done, all, new, open, pending, resolved, closed');
  }
  const priority = single(query, 'priority');
  if (priority && !isPriority(priority)) throw new FilterError('priority must be one of low, normal, high, urgent');
  const category = single(query, 'category');
  if (category && !/^\d{1,9}$/.test(category)) throw new FilterError('category must be a category number from the list');
  const assignee = single(query, 'assignee');
  if (assignee.length > 320) throw new FilterError('assignee is too long');
  const requester = single(query, 'requester');
  if (requester.length > 320) throw new FilterError('requester is too long');
  const team = single(query, 'team');
  if (team && team !== 'mine' && team !== 'none' && !/^\d{1,9}$/.test(team)) throw new FilterError('team must be a team number from the list, "mine" or "none"');
  const sla = single(query, 'sla');
  if (sla && !Object.hasOwn(SLA_FILTERS, sla)) throw new FilterError(`sla must be one of ${Object.keys(SLA_FILTERS).join(', ')}`);
  const q = single(query, 'q');
  if (q.length > LIMITS.query) throw new FilterError(`search words must be ${LIMITS.query} characters or fewer`);
  const order = parseSort(single(query, 'sort') || defaultSort(q));
  if (!order) throw new FilterError(`sort must be one of ${SORT_KEYS.join(', ')}, with a "-" in front for descending order (e.g. -updated)`);
  const perRaw = single(query, 'per') || String(LIMITS.pageSize);
  const per = Number(perRaw);
  if (!PER_PAGE.map(String).includes(perRaw)) throw new FilterError(`per must be one of ${PER_PAGE.join(', ')}`);
  const colsRaw = single(query, 'cols');
  const cols = colsRaw ? colsRaw.split(',').map((c) => c.trim()) : [];
  if (cols.some((c) => !(OPTIONAL_COLUMNS as readonly string[]).includes(c))) throw new FilterError(`cols may name ${OPTIONAL_COLUMNS.join(', ')}`);
  const pageRaw = single(query, 'page') || '1';
  if (!/^\d{1,7}$/.test(pageRaw) || Number(pageRaw) < 1 || Number(pageRaw) > LIMITS.maxPage) {
    throw new FilterError(`page must be a whole number from 1 to ${LIMITS.maxPage.toLocaleString('en-GB')}`);
  }
  return {
    status: status,
    priority: (priority || '') as PriorityName | '',
    category,
    assignee,
    requester,
    team,
    sla: sla as SlaFilter | '',
    q,
    sort: sortText(order),
    per: per as PerPage,
    cols: [...new Set(cols)].sort(),
    page: Number(pageRaw),
  };
}

/**
 * The database query for these params; people and "my teams" are resolved by the caller.
 * `now` is when "at risk" and "past due" are judged (to the minute, so counts can be reused).
 */
export function toQuery(p: ListParams, resolved: { assigneeId?: number | null; requesterId?: number; teamIds?: number[] | null; now?: Date }): TicketQuery {
  const words = p.q ? searchWords(p.q) : undefined;
  const minute = Math.floor((resolved.now ?? new Date()).getTime() / 60_000) * 60_000;
  return {
    status: p.status,
    priority: p.priority ? priorityCode(p.priority) : undefined,
    categoryId: p.category ? Number(p.category) : undefined,
    assigneeId: resolved.assigneeId,
    requesterId: resolved.requesterId,
    teamIds: resolved.teamIds,
    sla: p.sla ? { state: p.sla, now: new Date(minute).toISOString() } : undefined,
    words,
    sort: parseSort(p.sort) ?? parseSort(defaultSort(p.q))!,
  };
}

/**
 * The list address's query string (no leading `?`) with some params changed; defaults are
 * left out to keep links short, so the same list always has the same text (saved views
 * compare by it).
 */
export function listQuery(p: ListParams, change: Partial<ListParams>, defaults: { status: ListParams['status'] }): string {
  const merged = { ...p, ...change };
  const parts: string[] = [];
  const add = (k: string, v: string | number, skip: string | number) => {
    if (v !== '' && v !== skip) parts.push(`${k}=${encodeURIComponent(String(v))}`);
  };
  add('status', merged.status, defaults.status);
  add('priority', merged.priority, '');
  add('category', merged.category, '');
  add('assignee', merged.assignee, '');
  add('requester', merged.requester, '');
  add('team', merged.team, '');
  add('sla', merged.sla, '');
  add('q', merged.q, '');
  add('sort', merged.sort, defaultSort(merged.q));
  add('per', merged.per, LIMITS.pageSize);
  add('cols', merged.cols.join(','), '');
  add('page', merged.page, 1);
  return parts.join('&');
}

/** A list URL with some params changed. */
export function listUrl(p: ListParams, change: Partial<ListParams>, defaults: { status: ListParams['status'] }): string {
  const q = listQuery(p, change, defaults);
  return q ? `/tickets?${q}` : '/tickets';
}

/** What a saved view keeps of a list: its filters, sort and columns, never the page or page size. */
export function viewQuery(p: ListParams, defaults: { status: ListParams['status'] }): string {
  return listQuery(p, { page: 1, per: LIMITS.pageSize }, defaults);
}

/** A query string (`a=1&b=2`, as a saved view or a `from` field holds it) as the parser's input. */
export function queryObject(qs: string): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of new URLSearchParams(qs)) {
    if (k in out) {
      const prev = out[k];
      out[k] = Array.isArray(prev) ? [...(prev as string[]), v] : [prev, v];
    } else out[k] = v;
  }
  return out;
}
