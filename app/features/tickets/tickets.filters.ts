import type { TicketStatus } from '../../access/policy';
import { searchWords } from '../../db/portable';
import { isPriority, isStatus, LIMITS, priorityCode, type PriorityName } from './ticket-values';
import type { TicketQuery, TicketSort } from './tickets.queries';

/** The list's filters exactly as the URL gives them, for links and the filter form. */
export interface ListParams {
  status: TicketStatus | 'active' | 'done' | 'all';
  priority: PriorityName | '';
  category: string;
  assignee: string;
  requester: string;
  q: string;
  sort: TicketSort;
  page: number;
}

export const SORTS: Record<TicketSort, string> = {
  updated: 'Recently updated',
  created: 'Newest',
  oldest: 'Oldest',
  priority: 'Most urgent',
};

export class FilterError extends Error {}

const KEYS = ['status', 'priority', 'category', 'assignee', 'requester', 'q', 'sort', 'page'] as const;

function single(query: Record<string, unknown>, key: string): string {
  const v = query[key];
  if (v === undefined) return '';
  if (typeof v !== 'string') throw new FilterError(`"${key}" was given more than once; give it once`);
  return v.trim();
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
  const q = single(query, 'q');
  if (q.length > LIMITS.query) throw new FilterError(`search words must be ${LIMITS.query} characters or fewer`);
  const sort = single(query, 'sort') || 'updated';
  if (!(sort in SORTS)) throw new FilterError(`sort must be one of ${Object.keys(SORTS).join(', ')}`);
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
    q,
    sort: sort as TicketSort,
    page: Number(pageRaw),
  };
}

/** The database query for these params; person lookups are resolved by the caller. */
export function toQuery(p: ListParams, resolved: { assigneeId?: number | null; requesterId?: number }): TicketQuery {
  const words = p.q ? searchWords(p.q) : undefined;
  return {
    status: p.status,
    priority: p.priority ? priorityCode(p.priority) : undefined,
    categoryId: p.category ? Number(p.category) : undefined,
    assigneeId: resolved.assigneeId,
    requesterId: resolved.requesterId,
    words,
    sort: p.sort,
  };
}

/** A list URL with some params changed; defaults are left out to keep links short. */
export function listUrl(p: ListParams, change: Partial<ListParams>, defaults: { status: ListParams['status'] }): string {
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
  add('q', merged.q, '');
  add('sort', merged.sort, 'updated');
  add('page', merged.page, 1);
  return parts.length ? `/tickets?${parts.join('&')}` : '/tickets';
}
