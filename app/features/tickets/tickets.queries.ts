import { sql, type Kysely, type Transaction } from 'kysely';
import type { TicketStatus } from '../../access/policy';
import type { DialectName } from '../../db/dialect';
import { insertReturning, insertReturningId, MAX_PARAMETERS, paged, rowsAfter, ticketTextMatch } from '../../db/portable';
import type { DB } from '../../db/schema';
import { isActive } from './ticket-values';

export type TicketSort = 'updated' | 'created' | 'oldest' | 'priority';

/** A ticket list request, in database terms (ids and codes, not names). */
export interface TicketQuery {
  status: TicketStatus | 'active' | 'done' | 'all';
  priority?: number;
  categoryId?: number;
  /** null: unassigned. */
  assigneeId?: number | null;
  requesterId?: number;
  words?: string[];
  sort: TicketSort;
}

export interface TicketListRow {
  id: number;
  title: string;
  status: TicketStatus;
  priority: number;
  category_id: number;
  category_name: string;
  requester_id: number;
  requester_name: string | null;
  requester_login: string;
  assignee_id: number | null;
  assignee_name: string | null;
  assignee_login: string | null;
  created_at: string | Date;
  updated_at: string | Date;
  comment_count: number;
}

export interface TicketRow extends TicketListRow {
  description: string;
  resolved_at: string | Date | null;
  version: number;
  requester_email: string | null;
  requester_department: string | null;
}

// Two ways into the people table for one ticket: requester and assignee.
type Q = Kysely<DB>;

function filtered(db: Q, dialect: DialectName, q: TicketQuery) {
  let qb = db.selectFrom('tickets');
  if (q.status === 'active') qb = qb.where('tickets.active', '=', 1);
  else if (q.status === 'done') qb = qb.where('tickets.active', '=', 0);
  // One status also fixes `active`, which lets the (…, active, updated_at, id) indexes
  // serve "open tickets assigned to X" in order instead of sorting.
  else if (q.status !== 'all') qb = qb.where('tickets.active', '=', isActive(q.status) ? 1 : 0).where('tickets.status', '=', q.status);
  if (q.priority !== undefined) qb = qb.where('tickets.priority', '=', q.priority);
  if (q.categoryId !== undefined) qb = qb.where('tickets.category_id', '=', q.categoryId);
  if (q.assigneeId === null) qb = qb.where('tickets.assignee_id', 'is', null);
  else if (q.assigneeId !== undefined) qb = qb.where('tickets.assignee_id', '=', q.assigneeId);
  if (q.requesterId !== undefined) qb = qb.where('tickets.requester_id', '=', q.requesterId);
  if (q.words && q.words.length) qb = qb.where(ticketTextMatch(dialect, q.words));
  return qb;
}

/** The columns of each order, most significant first, and its direction; `id` ends each, so the order is total. */
type OrderColumn = 'tickets.id' | 'tickets.updated_at' | 'tickets.priority';
const ORDER_COLUMNS: Record<TicketSort, { columns: readonly OrderColumn[]; desc: boolean }> = {
  updated: { columns: ['tickets.updated_at', 'tickets.id'], desc: true },
  created: { columns: ['tickets.id'], desc: true },
  oldest: { columns: ['tickets.id'], desc: false },
  priority: { columns: ['tickets.priority', 'tickets.updated_at', 'tickets.id'], desc: true },
};

function ordered<T extends ReturnType<typeof filtered>>(qb: T, sort: TicketSort): T {
  const { columns, desc } = ORDER_COLUMNS[sort] ?? ORDER_COLUMNS.updated;
  let out = qb;
  for (const c of columns) out = out.orderBy(c, desc ? 'desc' : 'asc') as T;
  return out;
}

/** Where a list left off: the last ticket's sort keys, so the next page starts right after it. */
export interface ListAnchor {
  id: number;
  updatedAt: string;
  priority: number;
}

/** "After `anchor` in this order": one seek into the index that orders the list. */
function afterAnchor(dialect: DialectName, sort: TicketSort, anchor: ListAnchor) {
  const { columns, desc } = ORDER_COLUMNS[sort] ?? ORDER_COLUMNS.updated;
  const values: Record<OrderColumn, string | number> = { 'tickets.id': anchor.id, 'tickets.updated_at': anchor.updatedAt, 'tickets.priority': anchor.priority };
  return rowsAfter(dialect, columns, columns.map((c) => values[c]), desc ? '<' : '>');
}

function withDetails(db: Q) {
  return db
    .selectFrom('tickets')
    .innerJoin('categories', 'categories.id', 'tickets.category_id')
    .innerJoin('people as requester', 'requester.id', 'tickets.requester_id')
    .leftJoin('people as assignee', 'assignee.id', 'tickets.assignee_id')
    .select([
      'tickets.id',
      'tickets.title',
      'tickets.status',
      'tickets.priority',
      'tickets.category_id',
      'categories.name as category_name',
      'tickets.requester_id',
      'requester.display_name as requester_name',
      'requester.login as requester_login',
      'tickets.assignee_id',
      'assignee.display_name as assignee_name',
      'assignee.login as assignee_login',
      'tickets.created_at',
      'tickets.updated_at',
      sql<number>`(select count(*) from ticket_events e where e.ticket_id = tickets.id and e.kind = 'comment')`.as('comment_count'),
    ]);
}

/**
 * One page of tickets. The page's ids are found first from the covering indexes, then
 * only those rows are joined to names, so page 1,000 costs an index walk, not 25,000 joins.
 */
export async function listTickets(db: Q, dialect: DialectName, q: TicketQuery, limit: number, offset: number, after?: ListAnchor): Promise<TicketListRow[]> {
  let ids$ = filtered(db, dialect, q);
  // A page after an anchor (the API's cursor) seeks instead of counting rows to skip.
  if (after) ids$ = ids$.where(afterAnchor(dialect, q.sort, after));
  const idRows = (await paged(ordered(ids$.select('tickets.id'), q.sort), dialect, limit, offset).execute()) as { id: number }[];
  const ids = idRows.map((r) => r.id);
  if (ids.length === 0) return [];
  const rows = (await withDetails(db).where('tickets.id', 'in', ids).execute()) as TicketListRow[];
  const byId = new Map(rows.map((r) => [r.id, r]));
  return ids.map((id) => byId.get(id)!).filter(Boolean);
}

export async function countTickets(db: Q, dialect: DialectName, q: TicketQuery): Promise<number> {
  const row = await filtered(db, dialect, q).select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirst();
  return Number(row?.n ?? 0);
}

export async function getTicket(db: Q, id: number): Promise<TicketRow | undefined> {
  return (await withDetails(db)
    .select([
      'tickets.description',
      'tickets.resolved_at',
      'tickets.version',
      'requester.email as requester_email',
      'requester.department as requester_department',
    ])
    .where('tickets.id', '=', id)
    .executeTakeFirst()) as TicketRow | undefined;
}

export interface EventRow {
  id: number;
  kind: string;
  body: string | null;
  from_value: string | null;
  to_value: string | null;
  ticket_version: number;
  created_at: string | Date;
  actor_id: number | null;
  actor_name: string | null;
  actor_login: string | null;
}

/** Events only agents see: internal notes, and files attached to or removed from them. */
export const INTERNAL_EVENT_KINDS = ['note', 'note-attached', 'note-detached'] as const;

/** Events with who did them: the timeline's shape, and a notification's. */
function eventsWithActors(db: Q) {
  return db
    .selectFrom('ticket_events')
    .leftJoin('people', 'people.id', 'ticket_events.actor_id')
    .select([
      'ticket_events.id',
      'ticket_events.kind',
      'ticket_events.body',
      'ticket_events.from_value',
      'ticket_events.to_value',
      'ticket_events.ticket_version',
      'ticket_events.created_at',
      'ticket_events.actor_id',
      'people.display_name as actor_name',
      'people.login as actor_login',
    ]);
}

export async function listEvents(db: Q, ticketId: number, opts: { includeInternal: boolean; afterVersion?: number }): Promise<EventRow[]> {
  let qb = eventsWithActors(db).where('ticket_events.ticket_id', '=', ticketId);
  if (!opts.includeInternal) qb = qb.where('ticket_events.kind', 'not in', INTERNAL_EVENT_KINDS);
  if (opts.afterVersion !== undefined) qb = qb.where('ticket_events.ticket_version', '>', opts.afterVersion);
  return qb.orderBy('ticket_events.id', 'asc').execute();
}

export interface NewTicket {
  title: string;
  description: string;
  status: TicketStatus;
  active: number;
  priority: number;
  categoryId: number;
  requesterId: number;
  assigneeId: number | null;
  at: string;
}

export async function insertTicket(trx: Transaction<DB> | Q, dialect: DialectName, t: NewTicket): Promise<number> {
  return insertReturningId(
    trx.insertInto('tickets').values({
      title: t.title,
      description: t.description,
      status: t.status,
      active: t.active,
      priority: t.priority,
      category_id: t.categoryId,
      requester_id: t.requesterId,
      assignee_id: t.assigneeId,
      created_at: t.at,
      updated_at: t.at,
      resolved_at: null,
      version: 1,
    }),
    dialect,
  );
}

export interface NewEvent {
  ticketId: number;
  actorId: number | null;
  /**
   * `issue-linked`: linked to a known issue (to = its id); `issue-update`: a known issue's public update (body).
   * `attached`/`note-attached`: a file came with a reply or ticket, or with an internal note
   * (to = the attachment's id, from = its name); `detached`/`note-detached`: an agent removed it.
   */
  kind: 'created' | 'comment' | 'note' | 'status' | 'priority' | 'category' | 'assignee' | 'issue-linked' | 'issue-update' | 'attached' | 'note-attached' | 'detached' | 'note-detached';
  body?: string | null;
  from?: string | null;
  to?: string | null;
  ticketVersion: number;
  at: string;
}

/** An event as its table row. */
function eventRow(e: NewEvent) {
  return {
    ticket_id: e.ticketId,
    actor_id: e.actorId,
    kind: e.kind,
    body: e.body ?? null,
    from_value: e.from ?? null,
    to_value: e.to ?? null,
    ticket_version: e.ticketVersion,
    created_at: e.at,
  };
}

/** Insert events in as few statements as SQL Server's parameter limit allows (a known issue's update may reach thousands of tickets). */
export async function insertEvents(trx: Transaction<DB> | Q, events: NewEvent[]): Promise<void> {
  const perStatement = Math.floor(MAX_PARAMETERS / 8);
  for (let i = 0; i < events.length; i += perStatement) {
    await trx
      .insertInto('ticket_events')
      .values(events.slice(i, i + perStatement).map(eventRow))
      .execute();
  }
}

/** A ticket event as written, with the id the database gave it. */
export interface RecordedEvent extends NewEvent {
  id: number;
}

/**
 * insertEvents, giving each event its id. Rows come back from the database in no promised
 * order, so each is matched to its event by what it says (ticket, kind, from, to); events
 * that say the same thing are interchangeable for everyone who reads the ids.
 */
export async function insertEventsReturningIds(trx: Transaction<DB>, dialect: DialectName, events: NewEvent[]): Promise<RecordedEvent[]> {
  const perStatement = Math.floor(MAX_PARAMETERS / 8);
  const out: RecordedEvent[] = [];
  const sameness = (ticketId: number, kind: string, from: string | null, to: string | null) => JSON.stringify([ticketId, kind, from, to]);
  for (let i = 0; i < events.length; i += perStatement) {
    const batch = events.slice(i, i + perStatement);
    const rows = await insertReturning<{ id: number; ticket_id: number; kind: string; from_value: string | null; to_value: string | null }>(
      trx.insertInto('ticket_events').values(batch.map(eventRow)),
      dialect,
      ['id', 'ticket_id', 'kind', 'from_value', 'to_value'],
    );
    const ids = new Map<string, number[]>();
    for (const r of [...rows].sort((a, b) => Number(a.id) - Number(b.id))) {
      const k = sameness(r.ticket_id, r.kind, r.from_value, r.to_value);
      ids.set(k, [...(ids.get(k) ?? []), Number(r.id)]);
    }
    for (const e of batch) {
      const id = ids.get(sameness(e.ticketId, e.kind, e.from ?? null, e.to ?? null))?.shift();
      if (id === undefined) throw new Error(`the database did not return the id of a ${e.kind} event on ticket ${e.ticketId}`);
      out.push({ ...e, id });
    }
  }
  return out;
}

/** Events by id, oldest first, with who did them: what a notification tells of. */
export async function listEventsByIds(db: Q, ids: number[]): Promise<EventRow[]> {
  if (ids.length === 0) return [];
  return eventsWithActors(db)
    .where('ticket_events.id', 'in', ids.slice(0, MAX_PARAMETERS))
    .orderBy('ticket_events.id', 'asc')
    .execute();
}

export interface TicketFieldChanges {
  status?: TicketStatus;
  active?: number;
  priority?: number;
  category_id?: number;
  assignee_id?: number | null;
  resolved_at?: string | null;
}

/** Apply changes only if nobody changed the ticket since `version`; returns whether it did. */
export async function updateTicketAtVersion(trx: Transaction<DB>, id: number, version: number, changes: TicketFieldChanges, at: string): Promise<boolean> {
  const r = await trx
    .updateTable('tickets')
    .set({ ...changes, updated_at: at, version: version + 1 })
    .where('id', '=', id)
    .where('version', '=', version)
    .executeTakeFirst();
  return Number(r.numUpdatedRows) === 1;
}

/** A comment moves the ticket up the "recently updated" queue without changing its fields' version. */
export async function touchTicket(trx: Transaction<DB>, id: number, at: string): Promise<void> {
  await trx.updateTable('tickets').set({ updated_at: at }).where('id', '=', id).execute();
}

export async function getTicketForUpdate(trx: Transaction<DB>, id: number) {
  return trx
    .selectFrom('tickets')
    .select(['id', 'status', 'priority', 'category_id', 'assignee_id', 'requester_id', 'version', 'resolved_at'])
    .where('id', '=', id)
    .executeTakeFirst();
}

/**
 * The queue's headline numbers for the agent home page: exact counts, or whatever
 * `count` answers (the home page passes its per-process cache, which may say "about").
 */
export function queueSummary(db: Q, dialect: DialectName, agentId: number): Promise<{ active: number; unassigned: number; mine: number; urgent: number }>;
export function queueSummary<C>(db: Q, dialect: DialectName, agentId: number, count: (q: TicketQuery) => Promise<C>): Promise<{ active: C; unassigned: C; mine: C; urgent: C }>;
export async function queueSummary(db: Q, dialect: DialectName, agentId: number, count?: (q: TicketQuery) => Promise<unknown>) {
  const n = count ?? ((q: TicketQuery) => countTickets(db, dialect, q));
  const [active, unassigned, mine, urgent] = await Promise.all([
    n({ status: 'active', sort: 'updated' }),
    n({ status: 'active', assigneeId: null, sort: 'updated' }),
    n({ status: 'active', assigneeId: agentId, sort: 'updated' }),
    n({ status: 'active', priority: 4, sort: 'updated' }),
  ]);
  return { active, unassigned, mine, urgent };
}
