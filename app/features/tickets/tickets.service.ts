import type { Policy, TicketStatus } from '../../access/policy';
import type { Transaction } from 'kysely';
import type { Database } from '../../db/database';
import type { DialectName } from '../../db/dialect';
import type { DB } from '../../db/schema';
import { NO_DUE, nowIso, toDate } from '../../db/values';
import type { CsvValue } from '../../web/csv';
import { isAgent, type RequestViewer } from '../../web/viewer';
import { DUE_KIND_LABELS, DUE_LABELS, dueState } from './due';
import type { DirectoryCache } from '../../directory/cache';
import { parseLogin } from '../../login';
import { findPersonByKey, listAgents, type AgentRow } from '../../people/people.queries';
import { dropUploads, insertAttachments, keepUploads, type StoredUpload } from '../attachments/attachments.service';
import type { UploadedFile } from '../attachments/multipart';
import { categoryDefaultTeam, listCategories, type CategoryRow } from '../categories/categories.queries';
import { listTeams } from '../teams/teams.queries';
import { teamIdsOf } from '../teams/teams.service';
import type { DirectoryGroup } from '../../directory/types';
import { afterTicketChanged, afterTicketRaised, shapeOf } from './ticket-effects';
import { resolvePerson, type PersonMatch } from '../people/people.service';
import type { SavedViewRow } from '../saved-views/saved-views.queries';
import { cleanText, oneLine, text, type FieldErrors } from '../shared/form-values';
import { isActive, isPriority, isStatus, LIMITS, priorityCode, priorityName, STATUS_LABELS, type PriorityName } from './ticket-values';
import { recordEvents, type EventListener, type EventsContext } from './ticket-events';
import type { TicketCount, TicketReadCache } from './tickets.cache';
import { defaultSort, FilterError, listQuery, listUrl, parseListParams, queryObject, toQuery, viewQuery, type ListParams } from './tickets.filters';
import {
  allTickets,
  anchorOf,
  getTicketForUpdate,
  insertTicket,
  listEvents,
  neighbourTickets,
  touchTicket,
  updateTicketAtVersion,
  type EventRow,
  type ListAnchor,
  type NeighbourRow,
  type NewEvent,
  type TicketChannel,
  type TicketFieldChanges,
  type TicketForUpdate,
  type TicketListRow,
  type TicketQuery,
} from './tickets.queries';

export type { FieldErrors } from '../shared/form-values';
export { anchorOf } from './tickets.queries';

export interface Actor {
  personId: number;
  isAgent: boolean;
}

/** Who is asking for a ticket list, as far as the list cares. */
export interface ListViewer {
  anonymous: boolean;
  personId: number | null;
  /** Agents and admins: the queue's defaults (open tickets) and the assignee list. */
  agent: boolean;
  /** May see everyone's tickets (policy `tickets.list-all`); otherwise only their own. */
  seesAll: boolean;
  /** Their login key and groups (nested), for "my teams". */
  key?: string;
  groups?: DirectoryGroup[];
}

/** A request's viewer as the list sees them: the pages, the CSV export and the API alike. */
export function listViewerOf(policy: Policy, v: RequestViewer): ListViewer {
  return { anonymous: v.anonymous, personId: v.personId, agent: isAgent(v), seesAll: policy.can(v, 'tickets.list-all'), key: v.key, groups: v.groups };
}

type Defaults = { status: ListParams['status'] };

export interface TicketListPage {
  params: ListParams;
  defaults: Defaults;
  /** The database query the params became ("me" and logins resolved). */
  query: TicketQuery;
  /** Shared with every viewer of the same page while nothing changes (TicketReadCache.page): read only. */
  rows: readonly TicketListRow[];
  /** Exact, or a recent figure to be labelled "about". */
  total: number;
  totalExact: boolean;
  pages: number;
  offset: number;
  categories: CategoryRow[];
  agents: AgentRow[];
  /** Things the person should know about their filters (an unknown login, an empty search). */
  notices: string[];
}

export type TicketListResult =
  | ({ kind: 'ok' } & TicketListPage)
  /** The address's filters are not valid; `message` says which and what is accepted. */
  | { kind: 'invalid'; message: string }
  /** A filter names "me" (or another person) and the viewer is a guest. */
  | { kind: 'sign-in' };

type Resolved = { kind: 'ok'; params: ListParams; defaults: Defaults; query: TicketQuery; notices: string[] } | { kind: 'invalid'; message: string } | { kind: 'sign-in' };

export function listDefaults(v: ListViewer): Defaults {
  return { status: v.agent ? 'active' : 'all' };
}

/**
 * A list address's query, checked and turned into a database query for this viewer: "me"
 * and logins resolved to people, requesters held to their own tickets.
 */
export async function resolveList(database: Database, v: ListViewer, query: Record<string, unknown>): Promise<Resolved> {
  const defaults = listDefaults(v);
  let params: ListParams;
  try {
    params = parseListParams(query, defaults);
  } catch (err) {
    if (err instanceof FilterError) return { kind: 'invalid', message: `This ticket list address is not valid: ${err.message}.` };
    throw err;
  }
  const notices: string[] = [];
  const personFilter = async (value: string, what: 'assignee' | 'requester'): Promise<number | Resolved> => {
    if (value === 'me') return v.anonymous ? { kind: 'sign-in' } : v.personId!;
    const login = parseLogin(value);
    if (!login) return { kind: 'invalid', message: `The ${what} filter must be "me"${what === 'assignee' ? ', "none"' : ''} or a login such as CORP\\alice.` };
    const person = await findPersonByKey(database.db, login.key);
    // Only agents learn whether a login exists; anyone else just finds no tickets.
    if (!person && v.agent) notices.push(`Nobody with the login ${login.login} has used Deskside yet.`);
    return person ? person.id : -1;
  };
  let assigneeId: number | null | undefined;
  if (params.assignee === 'none') assigneeId = null;
  else if (params.assignee) {
    const r = await personFilter(params.assignee, 'assignee');
    if (typeof r !== 'number') return r;
    assigneeId = r;
  }
  let requesterId: number | undefined;
  if (!v.seesAll && !v.anonymous) requesterId = v.personId!; // requesters only ever see their own
  else if (params.requester) {
    if (v.anonymous) return { kind: 'sign-in' };
    const r = await personFilter(params.requester, 'requester');
    if (typeof r !== 'number') return r;
    requesterId = r;
  }
  let teamIds: number[] | null | undefined;
  if (params.team === 'none') teamIds = null;
  else if (params.team === 'mine') {
    if (v.anonymous) return { kind: 'sign-in' };
    teamIds = await teamIdsOf(database, { key: v.key ?? '', groups: v.groups ?? [] });
  } else if (params.team) teamIds = [Number(params.team)];
  const q = toQuery(params, { assigneeId, requesterId, teamIds });
  if (params.q && (!q.words || q.words.length === 0)) notices.push('Search needs at least one letter or digit; showing every ticket instead.');
  return { kind: 'ok', params, defaults, query: q, notices };
}

/**
 * One page of the ticket list for this viewer, from the list URL's query: the filters
 * checked, "me" and logins resolved to people, requesters held to their own tickets,
 * the sort and page size applied, and the total (possibly approximate at scale, see
 * TicketReadCache). The queue page, the CSV export and the API all list through here.
 *
 * `page`: the API's way through a list: `limit` tickets right after `after` (the last one
 * the caller saw), found by a seek rather than by counting rows to skip, so each page
 * costs the same however deep and nothing is skipped or repeated when tickets are added.
 */
export async function listTicketsFor(database: Database, cache: TicketReadCache, v: ListViewer, query: Record<string, unknown>, page?: { limit: number; after?: ListAnchor }): Promise<TicketListResult> {
  const resolved = await resolveList(database, v, query);
  if (resolved.kind !== 'ok') return resolved;
  const { params, defaults, query: q, notices } = resolved;
  const per = page?.limit ?? params.per;
  const offset = page?.after ? 0 : (params.page - 1) * per;
  const [rows, count, categories, agents] = await Promise.all([
    cache.page(q, per, offset, page?.after),
    cache.count(q),
    cache.categories(),
    v.agent ? cache.agents() : Promise.resolve([]),
  ]);
  // A stale count is labelled "about"; the page itself may know better for free.
  let total = count.n;
  let totalExact = count.exact;
  if (!page?.after && !totalExact && rows.length < per && (rows.length > 0 || offset === 0)) {
    total = offset + rows.length; // the list ends on this page
    totalExact = true;
  } else if (total < offset + rows.length) total = offset + rows.length;
  const pages = Math.max(1, Math.ceil(total / per));
  return { kind: 'ok', params, defaults, query: q, rows, total, totalExact, pages, offset, categories, agents, notices };
}

export type TicketExport =
  | { kind: 'ok'; fileName: string; header: string[]; rows: AsyncIterable<CsvValue[]> }
  | { kind: 'invalid'; message: string }
  | { kind: 'sign-in' };

/** How many rows the export reads from the database at a time. */
const EXPORT_BATCH = 500;

/**
 * Every ticket of the list this address shows the viewer (the same filters, sort and
 * limits as `listTicketsFor`, every page), as CSV rows made as they are read. Agents get
 * the team and the service-level columns; requesters what their own list shows.
 */
export async function exportTickets(database: Database, v: ListViewer, query: Record<string, unknown>, now: Date = new Date()): Promise<TicketExport> {
  const resolved = await resolveList(database, v, query);
  if (resolved.kind !== 'ok') return resolved;
  const q = resolved.query;
  const iso = (d: string | Date | null) => (d ? toDate(d)!.toISOString() : '');
  const header = ['Number', 'Title', 'Status', 'Priority', 'Category', ...(v.agent ? ['Team'] : []), 'Requester', 'Requester login', 'Assignee', 'Assignee login', 'Created (UTC)', 'Updated (UTC)'];
  if (v.agent) header.push('Due (UTC)', 'Due for', 'Service level');
  async function* rows(): AsyncGenerator<CsvValue[]> {
    for await (const batch of allTickets(database.db, database.dialect, q, EXPORT_BATCH)) {
      for (const t of batch) {
        const row: CsvValue[] = [t.id, t.title, STATUS_LABELS[t.status], priorityName(t.priority), t.category_name];
        if (v.agent) row.push(t.team_name ?? '');
        row.push(t.requester_name ?? '', t.requester_login, t.assignee_name ?? '', t.assignee_login ?? '', iso(t.created_at), iso(t.updated_at));
        if (v.agent) {
          const d = dueState(t, now);
          row.push(d.due ? d.due.toISOString() : '', d.due && t.sla_due_kind ? DUE_KIND_LABELS[t.sla_due_kind] ?? '' : '', DUE_LABELS[d.state]);
        }
        yield row;
      }
    }
  }
  return { kind: 'ok', fileName: `tickets-${now.toISOString().slice(0, 10)}.csv`, header, rows: rows() };
}

/** A tab over the queue: a built-in view or a saved one, with how many tickets it holds. */
export interface QueueTab {
  label: string;
  /** The list address's query string (sort, page size and columns as the viewer has them for built-in tabs). */
  href: string;
  count: TicketCount;
  current: boolean;
  saved?: SavedViewRow;
}

const BUILT_IN_TABS: { label: string; change: Partial<ListParams> }[] = [
  { label: 'All open', change: { status: 'active', assignee: '' } },
  { label: 'Assigned to me', change: { status: 'active', assignee: 'me' } },
  { label: 'Unassigned', change: { status: 'active', assignee: 'none' } },
  { label: 'Resolved & closed', change: { status: 'done', assignee: '' } },
];

/**
 * The queue's tabs with their counts: the four built-in views (keeping the viewer's sort,
 * page size and columns) and the saved views the viewer has. Counts come from the
 * per-process cache (decision 0007), so a quiet queue recounts nothing. A tab is current
 * when its filters are the list's; of saved views, one whose sort also matches wins.
 */
export async function queueTabs(database: Database, cache: TicketReadCache, v: ListViewer, list: Pick<TicketListPage, 'params' | 'defaults'>, saved: SavedViewRow[]): Promise<QueueTab[]> {
  const { params, defaults } = list;
  const plain: Partial<ListParams> = { priority: '', category: '', requester: '', team: '', sla: '', q: '', page: 1 };
  const filtersOf = (p: ListParams) => listQuery(p, { sort: defaultSort(p.q), per: LIMITS.pageSize, cols: [], page: 1 }, defaults);
  const mine = filtersOf(params);
  const tabs: (QueueTab & { query: TicketQuery | null })[] = [];
  for (const t of BUILT_IN_TABS) {
    const p: ListParams = { ...params, ...plain, ...t.change };
    const r = await resolveList(database, v, queryObject(listQuery(p, {}, defaults)));
    tabs.push({ label: t.label, href: listUrl(p, {}, defaults), count: { n: 0, exact: true }, current: filtersOf(p) === mine, query: r.kind === 'ok' ? r.query : null });
  }
  let savedCurrent: number | undefined;
  const exact = viewQuery(params, defaults);
  for (const view of saved) {
    const r = await resolveList(database, v, queryObject(view.query));
    if (r.kind !== 'ok') continue; // a view naming a login that no longer parses: left out, not an error
    const filtersMatch = filtersOf(r.params) === mine;
    if (filtersMatch && (savedCurrent === undefined || view.query === exact)) savedCurrent = view.id;
    tabs.push({ label: view.name, href: view.query ? `/tickets?${view.query}` : '/tickets', count: { n: 0, exact: true }, current: false, saved: view, query: r.query });
  }
  if (savedCurrent !== undefined) for (const t of tabs) t.current = t.saved?.id === savedCurrent;
  // One at a time: the cache times each count to tell cheap from expensive, and counts
  // queued behind each other on the one connection would all look expensive.
  const out: QueueTab[] = [];
  for (const { query, ...t } of tabs) out.push({ ...t, count: query ? await cache.count(query) : { n: 0, exact: true } });
  return out;
}

/** Where the agent is in the list they came from: travels in ticket links as `from` and `pos`. */
export interface ListPosition {
  /** The list's query string, as the queue's address had it. */
  from: string;
  anchor: ListAnchor;
}

/**
 * `pos`: the ticket's place in its list's order when the agent met it ("1764412345678.3":
 * updated_at in ms, priority; then ".1764419999000", its next due instant in ms, when it has one).
 */
export function positionText(a: Pick<ListAnchor, 'updatedAt' | 'priority' | 'dueAt'>): string {
  const due = a.dueAt && a.dueAt !== NO_DUE ? `.${Date.parse(a.dueAt)}` : '';
  return `${Date.parse(a.updatedAt)}.${a.priority}${due}`;
}

export function parsePosition(id: number, pos: unknown): ListAnchor | undefined {
  if (typeof pos !== 'string') return undefined;
  const m = /^(\d{1,15})\.([1-4])(?:\.(\d{1,15}))?$/.exec(pos);
  if (!m) return undefined;
  const d = new Date(Number(m[1]));
  const due = m[3] === undefined ? null : new Date(Number(m[3]));
  if (Number.isNaN(d.getTime()) || (due && (Number.isNaN(due.getTime()) || due.getUTCFullYear() >= 9999))) return undefined;
  return { id, updatedAt: d.toISOString(), priority: Number(m[2]), dueAt: due ? due.toISOString() : NO_DUE };
}

/** The query string that keeps a ticket link in its list: `from=…&pos=…`. */
export function positionQuery(p: ListPosition): string {
  return `from=${encodeURIComponent(p.from)}&pos=${positionText(p.anchor)}`;
}

export interface Neighbours {
  /** The list the agent came from. */
  back: string;
  prev?: { id: number; title: string; href: string };
  next?: { id: number; title: string; href: string };
}

/**
 * The tickets before and after this one in the list the agent came from, as that list
 * is now; undefined when `from` is not a list this viewer may see.
 */
export async function neighboursFor(database: Database, v: ListViewer, position: ListPosition): Promise<Neighbours | undefined> {
  if (position.from.length > 2000) return undefined;
  const r = await resolveList(database, v, queryObject(position.from));
  if (r.kind !== 'ok') return undefined;
  const found = await neighbourTickets(database.db, database.dialect, r.query, position.anchor);
  const link = (t: NeighbourRow | undefined) =>
    t && { id: t.id, title: t.title, href: `/tickets/${t.id}?${positionQuery({ from: position.from, anchor: anchorOf(t) })}` };
  return { back: position.from ? `/tickets?${position.from}` : '/tickets', prev: link(found.prev), next: link(found.next) };
}

export interface NewTicketValues {
  title: string;
  description: string;
  categoryId: number;
  priority: PriorityName;
  /** Someone else's ticket, raised by an agent; absent: the person posting. */
  requesterId?: number;
  /** How it reached the desk; absent: the web form. */
  channel?: TicketChannel;
}

export interface NewTicketForm {
  title: string;
  description: string;
  category: string;
  priority: string;
  /** Agents only: who the ticket is for (a login, e-mail or name; empty: themselves). */
  requester: string;
  channel: string;
}

export const CHANNELS: readonly TicketChannel[] = ['phone', 'walk-in', 'email', 'web'];
export const CHANNEL_LABELS: Record<TicketChannel, string> = { web: 'Web form', phone: 'Phone call', 'walk-in': 'Walk-in', email: 'E-mail' };

export function isChannel(v: unknown): v is TicketChannel {
  return typeof v === 'string' && (CHANNELS as readonly string[]).includes(v);
}

/** The people a typed requester could mean, when it means more than one. */
export type RequesterChoices = PersonMatch[];

/**
 * Check the new-ticket form. For an agent (`forOthers`), also the requester (resolved
 * through people Deskside knows and the directory) and the channel; a name that fits
 * several people comes back as `choices` with a field error asking which one.
 */
export async function validateNewTicket(
  database: Database,
  body: Record<string, unknown>,
  opts: { forOthers?: { directory: DirectoryCache; selfId: number } } = {},
): Promise<{ form: NewTicketForm; errors: FieldErrors; values?: NewTicketValues; choices?: RequesterChoices }> {
  const form: NewTicketForm = {
    title: oneLine(body.title),
    description: cleanText(body.description),
    category: text(body.category).trim(),
    priority: text(body.priority).trim() || 'normal',
    // A choice among the people a name matched wins over the name as typed.
    requester: oneLine(body.requester_pick) || oneLine(body.requester),
    channel: text(body.channel).trim() || 'web',
  };
  const errors: FieldErrors = {};
  let requesterId: number | undefined;
  let choices: RequesterChoices | undefined;
  if (opts.forOthers && form.requester) {
    const who = await resolvePerson(database, opts.forOthers.directory, form.requester);
    if (who.kind === 'one') {
      requesterId = who.person.id;
      form.requester = who.person.login;
    } else if (who.kind === 'many') {
      choices = who.matches;
      errors.requester = `More than one person matches “${form.requester}”: choose one`;
    } else errors.requester = who.message;
  }
  if (!form.title) errors.title = 'Enter a short summary of the problem';
  else if (form.title.length > LIMITS.title) errors.title = `Summary must be ${LIMITS.title} characters or fewer (it is ${form.title.length})`;
  if (!form.description) errors.description = 'Describe the problem: what happened, and what you expected';
  else if (form.description.length > LIMITS.description) errors.description = `Description must be ${LIMITS.description.toLocaleString('en-GB')} characters or fewer (it is ${form.description.length.toLocaleString('en-GB')})`;
  const categories = await listCategories(database.db, { activeOnly: true });
  const category = /^\d{1,9}$/.test(form.category) ? categories.find((c) => c.id === Number(form.category)) : undefined;
  if (!form.category) errors.category = 'Choose the category that fits best';
  else if (!category) errors.category = 'Choose one of the listed categories';
  if (!isPriority(form.priority)) errors.priority = 'Choose low, normal, high or urgent';
  if (!isChannel(form.channel)) errors.channel = 'Choose phone call, walk-in, e-mail or web form';
  if (Object.keys(errors).length) return { form, errors, choices };
  return {
    form,
    errors,
    values: {
      title: form.title,
      description: form.description,
      categoryId: category!.id,
      priority: form.priority as PriorityName,
      requesterId: requesterId !== undefined && requesterId !== opts.forOthers?.selfId ? requesterId : undefined,
      channel: form.channel as TicketChannel,
    },
  };
}

/**
 * Create the ticket, its "created" event (by whoever raised it, noting the channel) and
 * its files in one transaction; returns the new id. The files' bytes are made durable
 * first, before any row points at them.
 */
export async function createTicket(database: Database, actorId: number, v: NewTicketValues, listener: EventListener, files: UploadedFile[] = []): Promise<number> {
  const stored = await keepUploads(files);
  return database.write((trx) => insertNewTicket(trx, database.dialect, actorId, v, nowIso(), listener, {}, stored));
}

/**
 * A new ticket, its "created" event and its files (already kept), inside the caller's
 * transaction (which may do more, e.g. link it); returns its id. `actorId` raised it; the
 * requester is `v.requesterId` when an agent raised it for someone else.
 */
export async function insertNewTicket(
  trx: Transaction<DB>,
  dialect: DialectName,
  actorId: number,
  v: NewTicketValues,
  at: string,
  listener: EventListener,
  context: EventsContext = {},
  stored: StoredUpload[] = [],
): Promise<number> {
  const channel = v.channel ?? 'web';
  // The category's team takes new tickets (a retired team takes none).
  const teamId = await categoryDefaultTeam(trx, v.categoryId);
  const row = { status: 'new' as const, priority: priorityCode(v.priority), category_id: v.categoryId, team_id: teamId, assignee_id: null, requester_id: v.requesterId ?? actorId, created_at: at, version: 1 };
  const id = await insertTicket(trx, dialect, {
    title: v.title,
    description: v.description,
    status: row.status,
    active: 1,
    priority: row.priority,
    categoryId: v.categoryId,
    requesterId: v.requesterId ?? actorId,
    assigneeId: null,
    channel,
    teamId,
    at,
  });
  const files = await insertAttachments(trx, dialect, { ticketId: id, actorId, internal: false, ticketVersion: 1, at }, stored);
  await recordEvents(trx, dialect, listener, [{ ticketId: id, actorId, kind: 'created', to: channel === 'web' ? null : channel, ticketVersion: 1, at }, ...files], context);
  await afterTicketRaised(trx, shapeOf({ id, ...row }), at);
  return id;
}

/** What an agent asked to change; absent fields stay as they are. */
export interface FieldRequest {
  status?: TicketStatus;
  priority?: PriorityName;
  categoryId?: number;
  /** null: unassign. */
  assigneeId?: number | null;
  /** null: no team. */
  teamId?: number | null;
  /** Checked text (parseTextEdit); the events keep what it said before. */
  title?: string;
  description?: string;
}

/**
 * The row changes and events (one per field that really changes) that `req` makes to `t`,
 * for whoever applies them at `at`. Assigning a new ticket opens it.
 */
export function planChanges(t: TicketForUpdate, req: FieldRequest, actorId: number, at: string): { changes: TicketFieldChanges; events: NewEvent[] } {
  const changes: TicketFieldChanges = {};
  const events: NewEvent[] = [];
  const nextVersion = t.version + 1;
  const ev = (kind: NewEvent['kind'], from: string | null, to: string | null) => events.push({ ticketId: t.id, actorId, kind, from, to, ticketVersion: nextVersion, at });
  const status = t.status as TicketStatus;
  if (req.status !== undefined && req.status !== status) {
    changes.status = req.status;
    changes.active = isActive(req.status) ? 1 : 0;
    if (!isActive(req.status) && !t.resolved_at) changes.resolved_at = at;
    if (isActive(req.status)) changes.resolved_at = null;
    ev('status', status, req.status);
  }
  const priority = priorityName(t.priority);
  if (req.priority !== undefined && req.priority !== priority) {
    changes.priority = priorityCode(req.priority);
    ev('priority', priority, req.priority);
  }
  if (req.categoryId !== undefined && req.categoryId !== t.category_id) {
    changes.category_id = req.categoryId;
    ev('category', String(t.category_id), String(req.categoryId));
  }
  if (req.assigneeId !== undefined && req.assigneeId !== t.assignee_id) {
    changes.assignee_id = req.assigneeId;
    ev('assignee', t.assignee_id === null ? null : String(t.assignee_id), req.assigneeId === null ? null : String(req.assigneeId));
    // Picking a new ticket up means someone is on it.
    if (status === 'new' && req.assigneeId !== null && req.status === undefined) {
      changes.status = 'open';
      changes.active = 1;
      ev('status', 'new', 'open');
    }
  }
  if (req.teamId !== undefined && req.teamId !== t.team_id) {
    changes.team_id = req.teamId;
    ev('team', t.team_id === null ? null : String(t.team_id), req.teamId === null ? null : String(req.teamId));
  }
  if (req.title !== undefined && req.title !== t.title) {
    changes.title = req.title;
    ev('title', t.title, req.title);
  }
  if (req.description !== undefined && req.description !== t.description) {
    changes.description = req.description;
    events.push({ ticketId: t.id, actorId, kind: 'description', body: t.description, ticketVersion: nextVersion, at });
  }
  return { changes, events };
}

export type CommentResult =
  | { kind: 'ok' }
  | { kind: 'invalid'; errors: FieldErrors; body: string }
  /** The ticket has activity the writer had not seen; nothing was written (see `seen`). */
  | { kind: 'changed'; body: string; newEvents: EventRow[] };

export interface CommentInput {
  body: unknown;
  internal: unknown;
  /** Agents: the status to set with the reply ("Send and resolve"); absent or empty: unchanged. */
  status?: unknown;
  /** Agents: `me` takes the ticket with the reply. */
  assignee?: unknown;
  /** The newest event id the writer's page showed; absent: post without checking. */
  seen?: unknown;
}

/**
 * A reply (or, for agents, an internal note), with any files, or files alone, and the
 * status and assignment changes the same post asks for: one transaction, one event per
 * change. When the form says which activity the writer had seen and there is newer
 * activity they may see, nothing is written and the caller gets it, to show above the kept
 * draft. Files are kept (made durable) only once the reply is known to be good, and before
 * the transaction that records them; a refused reply keeps none.
 */
export async function addComment(database: Database, actor: Actor, ticketId: number, input: CommentInput, listener: EventListener, files: UploadedFile[] = []): Promise<CommentResult> {
  const body = cleanText(input.body);
  const internal = input.internal === 'on' || input.internal === 'true';
  const errors: FieldErrors = {};
  if (!body && files.length === 0) errors.body = internal ? 'Write the note before saving it' : 'Write your reply before sending it';
  else if (body.length > LIMITS.comment) errors.body = `Keep it to ${LIMITS.comment.toLocaleString('en-GB')} characters or fewer (it is ${body.length.toLocaleString('en-GB')})`;
  if (internal && !actor.isAgent) errors.body = 'Only agents can write internal notes';
  const statusRaw = input.status === undefined ? '' : input.status;
  const assigneeRaw = input.assignee === undefined ? '' : input.assignee;
  const fields: FieldRequest = {};
  if (statusRaw !== '') {
    if (!actor.isAgent) errors.status = 'Only agents can change the status with a reply';
    else if (isStatus(statusRaw)) fields.status = statusRaw;
    else errors.status = 'Choose one of the listed statuses';
  }
  if (assigneeRaw !== '') {
    if (!actor.isAgent) errors.assignee = 'Only agents can take a ticket';
    else if (assigneeRaw === 'me') fields.assigneeId = actor.personId;
    else errors.assignee = 'A reply can only assign the ticket to you ("me")';
  }
  let seen: number | undefined;
  if (input.seen !== undefined && input.seen !== '') {
    if (typeof input.seen === 'string' && /^\d{1,12}$/.test(input.seen)) seen = Number(input.seen);
    else errors.seen = 'This form is missing what it last showed; reload the ticket and try again';
  }
  if (Object.keys(errors).length) {
    await dropUploads(files);
    return { kind: 'invalid', errors, body };
  }
  const newer = () => listEvents(database.db, ticketId, { includeInternal: actor.isAgent, afterId: seen });
  // Asked before the files are kept, so a reply that comes back keeps none; asked again below, where it counts.
  if (seen !== undefined && (await newer()).length) {
    await dropUploads(files);
    return { kind: 'changed', body, newEvents: await newer() };
  }
  const stored = await keepUploads(files);
  const outcome = await database.write(async (trx): Promise<'ok' | 'changed'> => {
    if (seen !== undefined && (await listEvents(trx, ticketId, { includeInternal: actor.isAgent, afterId: seen })).length) return 'changed';
    await insertComment(trx, database.dialect, actor, ticketId, { body, internal, fields }, listener, {}, stored);
    return 'ok';
  });
  // In the rare race the files were kept and not recorded: the sweeper removes bytes nothing points at.
  if (outcome === 'changed') return { kind: 'changed', body, newEvents: await newer() };
  return { kind: 'ok' };
}

/**
 * A checked reply or note, its files (already kept) and what it changes (`fields`, an
 * agent's status or assignment), inside the caller's transaction; returns its events (with
 * ids when someone listens). A requester's reply to a ticket that was waiting on them
 * ("pending") puts it back in the queue as "open".
 */
export async function insertComment(
  trx: Transaction<DB>,
  dialect: DialectName,
  actor: Actor,
  ticketId: number,
  c: { body: string; internal: boolean; fields?: FieldRequest },
  listener: EventListener,
  context: EventsContext = {},
  stored: StoredUpload[] = [],
) {
  const at = nowIso();
  const t = await getTicketForUpdate(trx, ticketId);
  if (!t) throw new Error(`ticket ${ticketId} disappeared`);
  // A post may be files alone: then there is no reply event, only theirs.
  const events: NewEvent[] = c.body ? [{ ticketId, actorId: actor.personId, kind: c.internal ? 'note' : 'comment', body: c.body, ticketVersion: t.version, at }] : [];
  let after = shapeOf(t);
  let plan = planChanges(t, c.fields ?? {}, actor.personId, at);
  if (!actor.isAgent && !c.internal && t.status === 'pending' && t.requester_id === actor.personId) plan = planChanges(t, { status: 'open' }, actor.personId, at);
  if (plan.events.length) {
    // Inside this transaction the row is ours; the version check only guards the rule.
    const ok = await updateTicketAtVersion(trx, ticketId, t.version, plan.changes, at);
    if (ok) {
      events.push(...plan.events);
      after = shapeOf(t, plan.changes, t.version + 1);
    }
  } else {
    await touchTicket(trx, ticketId, at);
  }
  events.push(...(await insertAttachments(trx, dialect, { ticketId, actorId: actor.personId, internal: c.internal, ticketVersion: t.version, at }, stored)));
  const recorded = await recordEvents(trx, dialect, listener, events, context);
  // An agent's public answer to someone else's ticket is its first response, if it is the first.
  await afterTicketChanged(trx, shapeOf(t), after, at, { agentReplied: !c.internal && actor.isAgent && actor.personId !== t.requester_id });
  return recorded;
}

/** What an agent asked to change on the edit form; absent fields stay as they are. */
export interface EditRequest extends FieldRequest {
  version: number;
}

export interface EditForm {
  version: string;
  status?: string;
  priority?: string;
  category?: string;
  assignee?: string;
  team?: string;
}

/**
 * Check an edit of a ticket's fields; absent fields are left alone. A team or assignee is
 * accepted when it is offered (an active team, an agent) or is the ticket's own already.
 */
export async function parseEdit(database: Database, body: Record<string, unknown>, currentAssigneeId: number | null, currentTeamId: number | null = null): Promise<{ form: EditForm; errors: FieldErrors; request?: EditRequest }> {
  const pick = (k: string) => (typeof body[k] === 'string' ? (body[k]).trim() : undefined);
  const form: EditForm = { version: pick('version') ?? '', status: pick('status'), priority: pick('priority'), category: pick('category'), assignee: pick('assignee'), team: pick('team') };
  const errors: FieldErrors = {};
  const request: EditRequest = { version: 0 };
  if (!/^\d{1,9}$/.test(form.version)) errors.version = 'This form is missing the ticket version; reload the ticket and try again';
  else request.version = Number(form.version);
  if (form.status !== undefined) {
    if (isStatus(form.status)) request.status = form.status;
    else errors.status = 'Choose one of the listed statuses';
  }
  if (form.priority !== undefined) {
    if (isPriority(form.priority)) request.priority = form.priority;
    else errors.priority = 'Choose low, normal, high or urgent';
  }
  if (form.category !== undefined) {
    const categories = await listCategories(database.db, { activeOnly: false });
    const c = /^\d{1,9}$/.test(form.category) ? categories.find((x) => x.id === Number(form.category)) : undefined;
    if (c) request.categoryId = c.id;
    else errors.category = 'Choose one of the listed categories';
  }
  if (form.assignee !== undefined) {
    if (form.assignee === '' || form.assignee === 'none') request.assigneeId = null;
    else if (/^\d{1,9}$/.test(form.assignee)) {
      const id = Number(form.assignee);
      const agents = await listAgents(database.db);
      if (agents.some((a) => a.id === id) || id === currentAssigneeId) request.assigneeId = id;
      else errors.assignee = 'Choose one of the listed agents';
    } else errors.assignee = 'Choose one of the listed agents';
  }
  if (form.team !== undefined) {
    if (form.team === '' || form.team === 'none') request.teamId = null;
    else {
      const id = /^\d{1,9}$/.test(form.team) ? Number(form.team) : NaN;
      const teams = await listTeams(database.db, { activeOnly: true });
      if (teams.some((x) => x.id === id) || id === currentTeamId) request.teamId = id;
      else errors.team = 'Choose one of the listed teams';
    }
  }
  if (Object.keys(errors).length) return { form, errors };
  return { form, errors, request };
}

export interface FieldState {
  status: TicketStatus;
  priority: PriorityName;
  categoryId: number;
  assigneeId: number | null;
  teamId: number | null;
}

export type EditResult =
  | { kind: 'ok'; changed: number }
  | { kind: 'not-found' }
  | { kind: 'conflict'; current: FieldState & { version: number }; theirEvents: EventRow[]; yours: EditRequest };

/**
 * Apply an agent's edit if the ticket is still at the version their form showed.
 * Otherwise nothing is written and the caller gets what the other person changed.
 */
export async function editTicket(database: Database, actor: Actor, ticketId: number, req: EditRequest, listener: EventListener): Promise<EditResult> {
  const outcome = await database.write(async (trx): Promise<EditResult> => {
    const t = await getTicketForUpdate(trx, ticketId);
    if (!t) return { kind: 'not-found' };
    const current: FieldState & { version: number } = {
      status: t.status as TicketStatus,
      priority: priorityName(t.priority),
      categoryId: t.category_id,
      assigneeId: t.assignee_id,
      teamId: t.team_id,
      version: t.version,
    };
    if (t.version !== req.version) return { kind: 'conflict', current, theirEvents: [], yours: req };
    const at = nowIso();
    const { changes, events } = planChanges(t, req, actor.personId, at);
    if (events.length === 0) return { kind: 'ok', changed: 0 };
    const ok = await updateTicketAtVersion(trx, ticketId, t.version, changes, at);
    if (!ok) return { kind: 'conflict', current, theirEvents: [], yours: req };
    await recordEvents(trx, database.dialect, listener, events);
    await afterTicketChanged(trx, shapeOf(t), shapeOf(t, changes, t.version + 1), at);
    return { kind: 'ok', changed: events.length };
  });
  if (outcome.kind === 'conflict') {
    outcome.theirEvents = (await listEvents(database.db, ticketId, { includeInternal: true, afterVersion: req.version })).filter((e) => FIELD_EVENTS.has(e.kind));
    outcome.yours = changedByYou(req, outcome.current, outcome.theirEvents);
  }
  return outcome;
}

const FIELD_EVENTS = new Set(['status', 'priority', 'category', 'assignee', 'team']);

/**
 * The edit form posts every field, so "your changes" are only the fields that differ from
 * the ticket as your form showed it: the ticket now, with the other person's events undone.
 * Re-applying must not quietly revert what they changed and you did not touch.
 */
function changedByYou(yours: EditRequest, current: FieldState, theirEvents: EventRow[]): EditRequest {
  const shown: Record<string, string | null> = {
    status: current.status,
    priority: current.priority,
    category: String(current.categoryId),
    assignee: current.assigneeId === null ? null : String(current.assigneeId),
    team: current.teamId === null ? null : String(current.teamId),
  };
  // Newest first, so each field ends with the value before the earliest change.
  for (const e of [...theirEvents].reverse()) if (e.kind in shown) shown[e.kind] = e.from_value;
  const out: EditRequest = { version: yours.version };
  if (yours.status !== undefined && yours.status !== shown.status) out.status = yours.status;
  if (yours.priority !== undefined && yours.priority !== shown.priority) out.priority = yours.priority;
  if (yours.categoryId !== undefined && String(yours.categoryId) !== shown.category) out.categoryId = yours.categoryId;
  if (yours.assigneeId !== undefined && (yours.assigneeId === null ? null : String(yours.assigneeId)) !== shown.assignee) out.assigneeId = yours.assigneeId;
  if (yours.teamId !== undefined && (yours.teamId === null ? null : String(yours.teamId)) !== shown.team) out.teamId = yours.teamId;
  return out;
}

export interface TextForm {
  version: string;
  title: string;
  description: string;
}

export interface TextEdit {
  version: number;
  title: string;
  description: string;
}

export function parseTextEdit(body: Record<string, unknown>): { form: TextForm; errors: FieldErrors; request?: TextEdit } {
  const form: TextForm = { version: text(body.version).trim(), title: oneLine(body.title), description: cleanText(body.description) };
  const errors: FieldErrors = {};
  if (!form.title) errors.title = 'Enter a short summary of the problem';
  else if (form.title.length > LIMITS.title) errors.title = `Summary must be ${LIMITS.title} characters or fewer (it is ${form.title.length})`;
  if (!form.description) errors.description = 'Describe the problem';
  else if (form.description.length > LIMITS.description) errors.description = `Description must be ${LIMITS.description.toLocaleString('en-GB')} characters or fewer (it is ${form.description.length.toLocaleString('en-GB')})`;
  if (!/^\d{1,9}$/.test(form.version)) errors.version = 'This form is missing the ticket version; reload the ticket and try again';
  if (Object.keys(errors).length) return { form, errors };
  return { form, errors, request: { version: Number(form.version), title: form.title, description: form.description } };
}

export type TextEditResult =
  | { kind: 'ok'; changed: number }
  | { kind: 'not-found' }
  /** Someone changed the ticket since the form was opened: here is it now, and what they did. */
  | { kind: 'conflict'; current: { title: string; description: string; version: number }; theirEvents: EventRow[] };

/**
 * Change a ticket's title and description if it is still at the version the form showed.
 * The events keep the old text: a title event its old title, a description event its old
 * description, so the timeline can always show what a ticket said before.
 */
export async function editText(database: Database, actor: Actor, ticketId: number, req: TextEdit, listener: EventListener): Promise<TextEditResult> {
  const outcome = await database.write(async (trx): Promise<TextEditResult> => {
    const t = await getTicketForUpdate(trx, ticketId);
    if (!t) return { kind: 'not-found' };
    const current = { title: t.title, description: t.description, version: t.version };
    if (t.version !== req.version) return { kind: 'conflict', current, theirEvents: [] };
    const at = nowIso();
    const { changes, events } = planChanges(t, { title: req.title, description: req.description }, actor.personId, at);
    if (events.length === 0) return { kind: 'ok', changed: 0 };
    if (!(await updateTicketAtVersion(trx, ticketId, t.version, changes, at))) return { kind: 'conflict', current, theirEvents: [] };
    await recordEvents(trx, database.dialect, listener, events);
    return { kind: 'ok', changed: events.length };
  });
  if (outcome.kind === 'conflict') outcome.theirEvents = await listEvents(database.db, ticketId, { includeInternal: actor.isAgent, afterVersion: req.version });
  return outcome;
}

/**
 * A requester closing their own ticket, or reopening it; applies to the current state, or
 * (`atVersion`, the API's If-Match) only while the ticket is still at that version.
 */
export async function setOwnStatus(database: Database, actor: Actor, ticketId: number, action: 'close' | 'reopen', listener: EventListener, atVersion?: number): Promise<boolean> {
  return database.write(async (trx) => {
    const t = await getTicketForUpdate(trx, ticketId);
    if (!t) return false;
    if (atVersion !== undefined && t.version !== atVersion) return false;
    const to: TicketStatus = action === 'close' ? 'closed' : 'open';
    if (t.status === to) return true;
    const at = nowIso();
    const changes: TicketFieldChanges = { status: to, active: isActive(to) ? 1 : 0, resolved_at: isActive(to) ? null : t.resolved_at ? toDate(t.resolved_at)!.toISOString() : at };
    const ok = await updateTicketAtVersion(trx, ticketId, t.version, changes, at);
    if (!ok) return false;
    await recordEvents(trx, database.dialect, listener, [{ ticketId, actorId: actor.personId, kind: 'status', from: t.status, to, ticketVersion: t.version + 1, at }]);
    await afterTicketChanged(trx, shapeOf(t), shapeOf(t, changes, t.version + 1), at);
    return true;
  });
}
