import type { TicketStatus } from '../../access/policy';
import type { Transaction } from 'kysely';
import type { Database } from '../../db/database';
import type { DialectName } from '../../db/dialect';
import type { DB } from '../../db/schema';
import { nowIso, toDate } from '../../db/values';
import { parseLogin } from '../../login';
import { findPersonByKey, listAgents, type AgentRow } from '../../people/people.queries';
import { dropUploads, insertAttachments, keepUploads, type StoredUpload } from '../attachments/attachments.service';
import type { UploadedFile } from '../attachments/multipart';
import { listCategories, type CategoryRow } from '../categories/categories.queries';
import { cleanText, oneLine, text, type FieldErrors } from '../shared/form-values';
import { isActive, isPriority, isStatus, LIMITS, priorityCode, priorityName, type PriorityName } from './ticket-values';
import { recordEvents, type EventListener, type EventsContext } from './ticket-events';
import type { TicketReadCache } from './tickets.cache';
import { FilterError, parseListParams, toQuery, type ListParams } from './tickets.filters';
import {
  getTicketForUpdate,
  insertTicket,
  listEvents,
  listTickets,
  touchTicket,
  type ListAnchor,
  updateTicketAtVersion,
  type EventRow,
  type NewEvent,
  type TicketFieldChanges,
  type TicketListRow,
} from './tickets.queries';

export type { FieldErrors } from '../shared/form-values';

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
}

export interface TicketListPage {
  params: ListParams;
  defaults: { status: ListParams['status'] };
  rows: TicketListRow[];
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

/**
 * One page of the ticket list for this viewer, from the list URL's query: the filters
 * checked, "me" and logins resolved to people, requesters held to their own tickets,
 * and the total (possibly approximate at scale, see TicketReadCache).
 */
/**
 * `page`: the API's way through a list: `limit` tickets right after `after` (the last one
 * the caller saw), found by a seek rather than by counting rows to skip, so each page
 * costs the same however deep and nothing is skipped or repeated when tickets are added.
 */
export async function listTicketsFor(database: Database, cache: TicketReadCache, v: ListViewer, query: Record<string, unknown>, page?: { limit: number; after?: ListAnchor }): Promise<TicketListResult> {
  const defaults = { status: (v.agent ? 'active' : 'all') as ListParams['status'] };
  let params: ListParams;
  try {
    params = parseListParams(query, defaults);
  } catch (err) {
    if (err instanceof FilterError) return { kind: 'invalid', message: `This ticket list address is not valid: ${err.message}.` };
    throw err;
  }
  const notices: string[] = [];
  const personFilter = async (value: string, what: 'assignee' | 'requester'): Promise<number | TicketListResult> => {
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
  const q = toQuery(params, { assigneeId, requesterId });
  const perPage = page?.limit ?? LIMITS.pageSize;
  const offset = page?.after ? 0 : (params.page - 1) * perPage;
  const [rows, count, categories, agents] = await Promise.all([
    listTickets(database.db, database.dialect, q, perPage, offset, page?.after),
    cache.count(q),
    cache.categories(),
    v.agent ? cache.agents() : Promise.resolve([]),
  ]);
  // A stale count is labelled "about"; the page itself may know better for free.
  let total = count.n;
  let totalExact = count.exact;
  if (!page?.after && !totalExact && rows.length < perPage && (rows.length > 0 || offset === 0)) {
    total = offset + rows.length; // the list ends on this page
    totalExact = true;
  } else if (total < offset + rows.length) total = offset + rows.length;
  if (params.q && (!q.words || q.words.length === 0)) notices.push('Search needs at least one letter or digit; showing every ticket instead.');
  const pages = Math.max(1, Math.ceil(total / perPage));
  return { kind: 'ok', params, defaults, rows, total, totalExact, pages, offset, categories, agents, notices };
}

export interface NewTicketValues {
  title: string;
  description: string;
  categoryId: number;
  priority: PriorityName;
}

export interface NewTicketForm {
  title: string;
  description: string;
  category: string;
  priority: string;
}

export async function validateNewTicket(database: Database, body: Record<string, unknown>): Promise<{ form: NewTicketForm; errors: FieldErrors; values?: NewTicketValues }> {
  const form: NewTicketForm = {
    title: oneLine(body.title),
    description: cleanText(body.description),
    category: text(body.category).trim(),
    priority: text(body.priority).trim() || 'normal',
  };
  const errors: FieldErrors = {};
  if (!form.title) errors.title = 'Enter a short summary of the problem';
  else if (form.title.length > LIMITS.title) errors.title = `Summary must be ${LIMITS.title} characters or fewer (it is ${form.title.length})`;
  if (!form.description) errors.description = 'Describe the problem: what happened, and what you expected';
  else if (form.description.length > LIMITS.description) errors.description = `Description must be ${LIMITS.description.toLocaleString('en-GB')} characters or fewer (it is ${form.description.length.toLocaleString('en-GB')})`;
  const categories = await listCategories(database.db, { activeOnly: true });
  const category = /^\d{1,9}$/.test(form.category) ? categories.find((c) => c.id === Number(form.category)) : undefined;
  if (!form.category) errors.category = 'Choose the category that fits best';
  else if (!category) errors.category = 'Choose one of the listed categories';
  if (!isPriority(form.priority)) errors.priority = 'Choose low, normal, high or urgent';
  if (Object.keys(errors).length) return { form, errors };
  return {
    form,
    errors,
    values: { title: form.title, description: form.description, categoryId: category!.id, priority: form.priority as PriorityName },
  };
}

/**
 * Create the ticket, its "created" event and its files in one transaction; returns the
 * new id. The files' bytes are made durable first, before any row points at them.
 */
export async function createTicket(database: Database, requesterId: number, v: NewTicketValues, listener: EventListener, files: UploadedFile[] = []): Promise<number> {
  const stored = await keepUploads(files);
  return database.write((trx) => insertNewTicket(trx, database.dialect, requesterId, v, nowIso(), listener, {}, stored));
}

/**
 * A new ticket, its "created" event and its files (already kept), inside the caller's
 * transaction (which may do more, e.g. link it); returns its id.
 */
export async function insertNewTicket(
  trx: Transaction<DB>,
  dialect: DialectName,
  requesterId: number,
  v: NewTicketValues,
  at: string,
  listener: EventListener,
  context: EventsContext = {},
  stored: StoredUpload[] = [],
): Promise<number> {
  const id = await insertTicket(trx, dialect, {
    title: v.title,
    description: v.description,
    status: 'new',
    active: 1,
    priority: priorityCode(v.priority),
    categoryId: v.categoryId,
    requesterId,
    assigneeId: null,
    at,
  });
  const files = await insertAttachments(trx, dialect, { ticketId: id, actorId: requesterId, internal: false, ticketVersion: 1, at }, stored);
  await recordEvents(trx, dialect, listener, [{ ticketId: id, actorId: requesterId, kind: 'created', ticketVersion: 1, at }, ...files], context);
  return id;
}

export type CommentResult = { kind: 'ok' } | { kind: 'invalid'; errors: FieldErrors; body: string };

/**
 * A reply (or, for agents, an internal note), with any files, or files alone. A
 * requester's reply to a ticket that was waiting on them ("pending") puts it back in the
 * queue as "open". Files are kept (made durable) only once the reply is known to be
 * good, and before the transaction that records them; a refused reply keeps none.
 */
export async function addComment(
  database: Database,
  actor: Actor,
  ticketId: number,
  input: { body: unknown; internal: unknown },
  listener: EventListener,
  files: UploadedFile[] = [],
): Promise<CommentResult> {
  const body = cleanText(input.body);
  const internal = input.internal === 'on' || input.internal === 'true';
  const errors: FieldErrors = {};
  if (!body && files.length === 0) errors.body = internal ? 'Write the note before saving it' : 'Write your reply before sending it';
  else if (body.length > LIMITS.comment) errors.body = `Keep it to ${LIMITS.comment.toLocaleString('en-GB')} characters or fewer (it is ${body.length.toLocaleString('en-GB')})`;
  if (internal && !actor.isAgent) errors.body = 'Only agents can write internal notes';
  if (Object.keys(errors).length) {
    await dropUploads(files);
    return { kind: 'invalid', errors, body };
  }
  const stored = await keepUploads(files);
  await database.write((trx) => insertComment(trx, database.dialect, actor, ticketId, { body, internal }, listener, {}, stored));
  return { kind: 'ok' };
}

/**
 * A checked reply or note, its files (already kept) and what it changes, inside the
 * caller's transaction; returns its events (with ids when someone listens). A requester's
 * reply to a ticket that was waiting on them ("pending") puts it back in the queue as "open".
 */
export async function insertComment(
  trx: Transaction<DB>,
  dialect: DialectName,
  actor: Actor,
  ticketId: number,
  c: { body: string; internal: boolean },
  listener: EventListener,
  context: EventsContext = {},
  stored: StoredUpload[] = [],
) {
  const at = nowIso();
  const t = await getTicketForUpdate(trx, ticketId);
  if (!t) throw new Error(`ticket ${ticketId} disappeared`);
  // A post may be files alone: then there is no reply event, only theirs.
  const events: NewEvent[] = c.body ? [{ ticketId, actorId: actor.personId, kind: c.internal ? 'note' : 'comment', body: c.body, ticketVersion: t.version, at }] : [];
  if (!c.internal && !actor.isAgent && t.status === 'pending' && t.requester_id === actor.personId) {
    const ok = await updateTicketAtVersion(trx, ticketId, t.version, { status: 'open', active: 1 }, at);
    if (ok) events.push({ ticketId, actorId: actor.personId, kind: 'status', from: 'pending', to: 'open', ticketVersion: t.version + 1, at });
  } else {
    await touchTicket(trx, ticketId, at);
  }
  events.push(...(await insertAttachments(trx, dialect, { ticketId, actorId: actor.personId, internal: c.internal, ticketVersion: t.version, at }, stored)));
  return recordEvents(trx, dialect, listener, events, context);
}

/** What an agent asked to change; absent fields stay as they are. */
export interface EditRequest {
  version: number;
  status?: TicketStatus;
  priority?: PriorityName;
  categoryId?: number;
  /** null: unassign. */
  assigneeId?: number | null;
}

export interface EditForm {
  version: string;
  status?: string;
  priority?: string;
  category?: string;
  assignee?: string;
}

export async function parseEdit(database: Database, body: Record<string, unknown>, currentAssigneeId: number | null): Promise<{ form: EditForm; errors: FieldErrors; request?: EditRequest }> {
  const pick = (k: string) => (typeof body[k] === 'string' ? (body[k]).trim() : undefined);
  const form: EditForm = { version: pick('version') ?? '', status: pick('status'), priority: pick('priority'), category: pick('category'), assignee: pick('assignee') };
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
  if (Object.keys(errors).length) return { form, errors };
  return { form, errors, request };
}

export interface FieldState {
  status: TicketStatus;
  priority: PriorityName;
  categoryId: number;
  assigneeId: number | null;
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
      version: t.version,
    };
    if (t.version !== req.version) return { kind: 'conflict', current, theirEvents: [], yours: req };
    const at = nowIso();
    const nextVersion = t.version + 1;
    const changes: TicketFieldChanges = {};
    const events: NewEvent[] = [];
    const ev = (kind: NewEvent['kind'], from: string | null, to: string | null) =>
      events.push({ ticketId, actorId: actor.personId, kind, from, to, ticketVersion: nextVersion, at });
    if (req.status !== undefined && req.status !== current.status) {
      changes.status = req.status;
      changes.active = isActive(req.status) ? 1 : 0;
      if (!isActive(req.status) && !t.resolved_at) changes.resolved_at = at;
      if (isActive(req.status)) changes.resolved_at = null;
      ev('status', current.status, req.status);
    }
    if (req.priority !== undefined && req.priority !== current.priority) {
      changes.priority = priorityCode(req.priority);
      ev('priority', current.priority, req.priority);
    }
    if (req.categoryId !== undefined && req.categoryId !== current.categoryId) {
      changes.category_id = req.categoryId;
      ev('category', String(current.categoryId), String(req.categoryId));
    }
    if (req.assigneeId !== undefined && req.assigneeId !== current.assigneeId) {
      changes.assignee_id = req.assigneeId;
      ev('assignee', current.assigneeId === null ? null : String(current.assigneeId), req.assigneeId === null ? null : String(req.assigneeId));
      // Picking a new ticket up means someone is on it.
      if (current.status === 'new' && req.assigneeId !== null && req.status === undefined) {
        changes.status = 'open';
        changes.active = 1;
        ev('status', 'new', 'open');
      }
    }
    if (events.length === 0) return { kind: 'ok', changed: 0 };
    const ok = await updateTicketAtVersion(trx, ticketId, t.version, changes, at);
    if (!ok) return { kind: 'conflict', current, theirEvents: [], yours: req };
    await recordEvents(trx, database.dialect, listener, events);
    return { kind: 'ok', changed: events.length };
  });
  if (outcome.kind === 'conflict') {
    outcome.theirEvents = (await listEvents(database.db, ticketId, { includeInternal: true, afterVersion: req.version })).filter((e) => e.kind !== 'comment' && e.kind !== 'note');
    outcome.yours = changedByYou(req, outcome.current, outcome.theirEvents);
  }
  return outcome;
}

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
  };
  // Newest first, so each field ends with the value before the earliest change.
  for (const e of [...theirEvents].reverse()) if (e.kind in shown) shown[e.kind] = e.from_value;
  const out: EditRequest = { version: yours.version };
  if (yours.status !== undefined && yours.status !== shown.status) out.status = yours.status;
  if (yours.priority !== undefined && yours.priority !== shown.priority) out.priority = yours.priority;
  if (yours.categoryId !== undefined && String(yours.categoryId) !== shown.category) out.categoryId = yours.categoryId;
  if (yours.assigneeId !== undefined && (yours.assigneeId === null ? null : String(yours.assigneeId)) !== shown.assignee) out.assigneeId = yours.assigneeId;
  return out;
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
    return true;
  });
}
