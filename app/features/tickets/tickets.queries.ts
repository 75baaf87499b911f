import { expressionBuilder, sql, type Expression, type Kysely, type SqlBool, type Transaction } from 'kysely';
import type { TicketStatus } from '../../access/policy';
import type { DialectName } from '../../db/dialect';
import { firstOnly, insertReturning, insertReturningId, MAX_PARAMETERS, paged, rowsAfter, textMatchPageByNumber, ticketTextMatch } from '../../db/portable';
import type { DB } from '../../db/schema';
import { NO_DUE } from '../../db/values';
import { isActive } from './ticket-values';

/**
 * What a list can be ordered by; `id` and `created` are the same order (ids are given in
 * creation order); `due` is the next service-level due instant (none sorts last, ascending).
 */
export type SortKey = 'id' | 'created' | 'updated' | 'priority' | 'due';

export interface TicketOrder {
  key: SortKey;
  /** Descending flips every key of the order, tie-breaks included, so one index serves both. */
  desc: boolean;
}

/** A ticket list request, in database terms (ids and codes, not names). */
export interface TicketQuery {
  status: TicketStatus | 'active' | 'done' | 'all';
  priority?: number;
  categoryId?: number;
  /** null: unassigned. */
  assigneeId?: number | null;
  requesterId?: number;
  /** In one of these teams; null: in no team. */
  teamIds?: number[] | null;
  /** At risk of missing the next service-level target, or past it, at `now` (ISO). */
  sla?: { state: 'at-risk' | 'breached'; now: string };
  words?: string[];
  sort: TicketOrder;
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
  team_id: number | null;
  team_name: string | null;
  created_at: string | Date;
  updated_at: string | Date;
  /** The next due instant of a running service-level clock, or NO_DUE (see dueOf). */
  sla_due_at: string | Date;
  sla_warn_at: string | Date | null;
  sla_due_kind: 'response' | 'resolution' | 'paused' | null;
  comment_count: number;
  /** For the bulk checkboxes: a change applies only to the version the page showed. */
  version: number;
}

export interface TicketRow extends TicketListRow {
  description: string;
  resolved_at: string | Date | null;
  channel: string;
  requester_email: string | null;
  requester_department: string | null;
}

// Two ways into the people table for one ticket: requester and assignee.
type Q = Kysely<DB>;

/** The conditions a status filter makes. */
function statusConditions(status: TicketQuery['status']): Expression<SqlBool>[] {
  const eb = expressionBuilder<DB, 'tickets'>();
  if (status === 'active') return [eb('tickets.active', '=', 1)];
  if (status === 'done') return [eb('tickets.active', '=', 0)];
  if (status === 'all') return [];
  // One status also fixes `active`, which lets the (…, active, updated_at, id) indexes
  // serve "open tickets assigned to X" in order instead of sorting.
  return [eb('tickets.active', '=', isActive(status) ? 1 : 0), eb('tickets.status', '=', status)];
}

/** Words, ordered by ticket number, narrowed by nothing rarer than a status: the text index can lead. */
function searchByNumber(q: TicketQuery): q is TicketQuery & { words: string[] } {
  return (
    !!q.words?.length &&
    (q.sort.key === 'id' || q.sort.key === 'created') &&
    q.priority === undefined &&
    q.categoryId === undefined &&
    q.assigneeId === undefined &&
    q.requesterId === undefined &&
    q.teamIds === undefined &&
    q.sla === undefined
  );
}

function filtered(db: Q, dialect: DialectName, q: TicketQuery) {
  let qb = db.selectFrom('tickets');
  for (const c of statusConditions(q.status)) qb = qb.where(c);
  if (q.priority !== undefined) qb = qb.where('tickets.priority', '=', q.priority);
  if (q.categoryId !== undefined) qb = qb.where('tickets.category_id', '=', q.categoryId);
  if (q.assigneeId === null) qb = qb.where('tickets.assignee_id', 'is', null);
  else if (q.assigneeId !== undefined) qb = qb.where('tickets.assignee_id', '=', q.assigneeId);
  if (q.requesterId !== undefined) qb = qb.where('tickets.requester_id', '=', q.requesterId);
  if (q.teamIds === null) qb = qb.where('tickets.team_id', 'is', null);
  else if (q.teamIds !== undefined) qb = q.teamIds.length ? qb.where('tickets.team_id', 'in', q.teamIds) : qb.where(sql<SqlBool>`1 = 0`);
  // Past due: the next due instant has come. At risk: it has not, but the warning has.
  // Closed tickets have no due instant (NO_DUE), so neither can match them.
  if (q.sla?.state === 'breached') qb = qb.where('tickets.active', '=', 1).where('tickets.sla_due_at', '<=', q.sla.now);
  else if (q.sla?.state === 'at-risk') qb = qb.where('tickets.active', '=', 1).where('tickets.sla_warn_at', '<=', q.sla.now).where('tickets.sla_due_at', '>', q.sla.now);
  if (q.words && q.words.length) qb = qb.where(ticketTextMatch(dialect, q.words));
  return qb;
}

/** The columns of each order, most significant first; `id` always ends it, so the order is total. */
const ORDER_COLUMNS = {
  id: ['tickets.id'],
  created: ['tickets.id'],
  updated: ['tickets.updated_at', 'tickets.id'],
  priority: ['tickets.priority', 'tickets.updated_at', 'tickets.id'],
  due: ['tickets.sla_due_at', 'tickets.id'],
} as const satisfies Record<SortKey, readonly string[]>;

function ordered<T extends ReturnType<typeof filtered>>(qb: T, sort: TicketOrder, reverse = false): T {
  const dir = sort.desc !== reverse ? 'desc' : 'asc';
  let out = qb;
  for (const c of ORDER_COLUMNS[sort.key]) out = out.orderBy(c, dir) as T;
  return out;
}

/**
 * "Past `anchor` in this order" (`backwards`: before it): one seek into the index that
 * orders the list. Past, in a descending order, means smaller keys.
 */
function pastAnchor(dialect: DialectName, sort: TicketOrder, anchor: ListAnchor, backwards = false) {
  const values: Record<string, string | number> = { 'tickets.id': anchor.id, 'tickets.updated_at': anchor.updatedAt, 'tickets.priority': anchor.priority, 'tickets.sla_due_at': anchor.dueAt ?? NO_DUE };
  const cols = ORDER_COLUMNS[sort.key];
  return rowsAfter(dialect, cols, cols.map((c) => values[c]), sort.desc !== backwards ? '<' : '>');
}

function withDetails(db: Q) {
  return db
    .selectFrom('tickets')
    .innerJoin('categories', 'categories.id', 'tickets.category_id')
    .innerJoin('people as requester', 'requester.id', 'tickets.requester_id')
    .leftJoin('people as assignee', 'assignee.id', 'tickets.assignee_id')
    .leftJoin('teams', 'teams.id', 'tickets.team_id')
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
      'tickets.team_id',
      'teams.name as team_name',
      'tickets.created_at',
      'tickets.updated_at',
      'tickets.version',
      'tickets.sla_due_at',
      'tickets.sla_warn_at',
      'tickets.sla_due_kind',
      sql<number>`(select count(*) from ticket_events e where e.ticket_id = tickets.id and e.kind = 'comment')`.as('comment_count'),
    ]);
}

/**
 * One page of tickets: `limit` after skipping `offset`, or (`after`, the API's cursor) the
 * `limit` right after that place in the order, found by a seek instead of counting rows
 * to skip. The page's ids are found first from the covering indexes, then only those rows
 * are joined to names, so page 1,000 costs an index walk, not 25,000 joins.
 */
export async function listTickets(db: Q, dialect: DialectName, q: TicketQuery, limit: number, offset: number, after?: ListAnchor): Promise<TicketListRow[]> {
  return (await pageOf(db, dialect, q, limit, offset, after)).rows;
}

/** listTickets, also saying which ids the index walk found (a row may vanish before the join). */
async function pageOf(db: Q, dialect: DialectName, q: TicketQuery, limit: number, offset: number, after?: ListAnchor): Promise<{ ids: number[]; rows: TicketListRow[] }> {
  // A search by number reads the text index in order (a cursor's seek takes the general query).
  const fromText = !after && searchByNumber(q) ? await textMatchPageByNumber(db, dialect, q.words, statusConditions(q.status), q.sort.desc, limit, offset) : undefined;
  let ids = fromText;
  if (!ids) {
    let ids$ = filtered(db, dialect, q);
    if (after) ids$ = ids$.where(pastAnchor(dialect, q.sort, after));
    ids = ((await paged(ordered(ids$.select('tickets.id'), q.sort), dialect, limit, offset).execute()) as { id: number }[]).map((r) => r.id);
  }
  if (ids.length === 0) return { ids, rows: [] };
  const rows = (await withDetails(db).where('tickets.id', 'in', ids).execute()) as TicketListRow[];
  const byId = new Map(rows.map((r) => [r.id, r]));
  return { ids, rows: ids.map((id) => byId.get(id)).filter((r): r is TicketListRow => r !== undefined) };
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
      'tickets.channel',
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

/** Events only agents see: internal notes, files attached to or removed from them, missed targets. */
export const INTERNAL_EVENT_KINDS = ['note', 'note-attached', 'note-detached', 'sla'] as const;

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

export async function listEvents(db: Q, ticketId: number, opts: { includeInternal: boolean; afterVersion?: number; afterId?: number }): Promise<EventRow[]> {
  let qb = eventsWithActors(db).where('ticket_events.ticket_id', '=', ticketId);
  if (!opts.includeInternal) qb = qb.where('ticket_events.kind', 'not in', INTERNAL_EVENT_KINDS);
  if (opts.afterVersion !== undefined) qb = qb.where('ticket_events.ticket_version', '>', opts.afterVersion);
  if (opts.afterId !== undefined) qb = qb.where('ticket_events.id', '>', opts.afterId);
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
  /** How it reached the desk; absent: the web form. */
  channel?: TicketChannel;
  teamId?: number | null;
  at: string;
}

export type TicketChannel = 'web' | 'phone' | 'walk-in' | 'email';

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
      team_id: t.teamId ?? null,
      created_at: t.at,
      updated_at: t.at,
      resolved_at: null,
      version: 1,
      channel: t.channel ?? 'web',
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
   * `title` keeps the old title in from_value; `description` keeps the old text in body.
   * `team`: from/to team ids; `sla`: a target missed (from = response|resolution, to = its due instant), agents only.
   */
  kind:
    | 'created'
    | 'comment'
    | 'note'
    | 'status'
    | 'priority'
    | 'category'
    | 'assignee'
    | 'team'
    | 'sla'
    | 'title'
    | 'description'
    | 'issue-linked'
    | 'issue-update'
    | 'attached'
    | 'note-attached'
    | 'detached'
    | 'note-detached';
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
  title?: string;
  description?: string;
  status?: TicketStatus;
  active?: number;
  priority?: number;
  category_id?: number;
  assignee_id?: number | null;
  team_id?: number | null;
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

const FOR_UPDATE = ['id', 'title', 'description', 'status', 'priority', 'category_id', 'assignee_id', 'team_id', 'requester_id', 'version', 'resolved_at', 'created_at'] as const;

export async function getTicketForUpdate(trx: Transaction<DB>, id: number) {
  return trx.selectFrom('tickets').select(FOR_UPDATE).where('id', '=', id).executeTakeFirst();
}

export type TicketForUpdate = NonNullable<Awaited<ReturnType<typeof getTicketForUpdate>>>;

/** Several tickets as getTicketForUpdate reads one (a bulk change holds at most a page of them). */
export async function getTicketsForUpdate(trx: Transaction<DB>, ids: number[]): Promise<TicketForUpdate[]> {
  if (ids.length === 0) return [];
  return trx.selectFrom('tickets').select(FOR_UPDATE).where('id', 'in', ids).execute();
}

/** Where a ticket stood in a list's order; previous/next are found from here (decision 0016). */
export interface ListAnchor {
  id: number;
  updatedAt: string;
  priority: number;
  /** The next due instant (ISO); absent: NO_DUE (the anchor only matters for sort=due). */
  dueAt?: string;
}

export interface NeighbourRow {
  id: number;
  title: string;
  updated_at: string | Date;
  priority: number;
  sla_due_at: string | Date;
}

/**
 * The tickets just before and just after `anchor` in the list's order, matching its
 * filters. Each is one seek into the index that orders the list: (keys) < anchor, in
 * order, first row. The anchor's own ticket need not match the filters any more.
 */
export async function neighbourTickets(db: Q, dialect: DialectName, q: TicketQuery, anchor: ListAnchor): Promise<{ prev?: NeighbourRow; next?: NeighbourRow }> {
  const one = async (forward: boolean) => {
    const qb = ordered(filtered(db, dialect, q), q.sort, !forward)
      .select(['tickets.id', 'tickets.title', 'tickets.updated_at', 'tickets.priority', 'tickets.sla_due_at'])
      .where(pastAnchor(dialect, q.sort, anchor, !forward));
    return (await firstOnly(qb, dialect).executeTakeFirst());
  };
  const [prev, next] = await Promise.all([one(false), one(true)]);
  return { prev, next };
}

/**
 * Every ticket of a list, in its order, `batch` at a time: each batch is one seek past the
 * last row of the one before (never an OFFSET), so the millionth row costs what the first
 * did, and no statement holds the connection while the caller writes the rows out.
 */
export async function* allTickets(db: Q, dialect: DialectName, q: TicketQuery, batch: number): AsyncGenerator<TicketListRow[]> {
  let after: ListAnchor | undefined;
  for (;;) {
    const { ids, rows } = await pageOf(db, dialect, q, batch, 0, after);
    if (ids.length === 0) return;
    yield rows;
    if (ids.length < batch) return;
    const last = rows[rows.length - 1];
    // The last ticket vanished between the two reads (deleted): nothing to seek from.
    if (last?.id !== ids[ids.length - 1]) return;
    after = anchorOf(last);
  }
}

/**
 * Where this ticket stands in any list's order: its sort keys, as the database gave them
 * (a seek compares them with the stored values).
 */
export function anchorOf(t: { id: number; updated_at: string | Date; priority: number; sla_due_at?: string | Date }): ListAnchor {
  return { id: t.id, updatedAt: toIso(t.updated_at), priority: t.priority, dueAt: t.sla_due_at === undefined ? NO_DUE : toIso(t.sla_due_at) };
}

const toIso = (v: string | Date) => (v instanceof Date ? v.toISOString() : v);

export interface OpenTicketRow {
  id: number;
  title: string;
  status: TicketStatus;
  priority: number;
  updated_at: string | Date;
}

/** A requester's open tickets, most recently updated first (the ticket page's side panel). */
export async function openTicketsOf(db: Q, dialect: DialectName, requesterId: number, limit: number): Promise<OpenTicketRow[]> {
  const qb = db
    .selectFrom('tickets')
    .select(['tickets.id', 'tickets.title', 'tickets.status', 'tickets.priority', 'tickets.updated_at'])
    .where('tickets.requester_id', '=', requesterId)
    .where('tickets.active', '=', 1)
    .orderBy('tickets.updated_at', 'desc')
    .orderBy('tickets.id', 'desc');
  return (await paged(qb, dialect, limit, 0).execute()) as OpenTicketRow[];
}

/** Whether anyone but the requester has replied publicly (after which the requester's own text is fixed). */
export async function hasOthersReply(db: Q, dialect: DialectName, ticketId: number, requesterId: number): Promise<boolean> {
  const qb = db
    .selectFrom('ticket_events')
    .select('ticket_events.id')
    .where('ticket_events.ticket_id', '=', ticketId)
    .where('ticket_events.kind', '=', 'comment')
    .where('ticket_events.actor_id', '<>', requesterId);
  return (await firstOnly(qb, dialect).executeTakeFirst()) !== undefined;
}

/** The queue's default order: most recently updated first. */
export const BY_UPDATED: TicketOrder = { key: 'updated', desc: true };

/**
 * The queue's headline numbers for the agent home page: exact counts, or whatever
 * `count` answers (the home page passes its per-process cache, which may say "about").
 */
export function queueSummary(db: Q, dialect: DialectName, agentId: number): Promise<{ active: number; unassigned: number; mine: number; urgent: number }>;
export function queueSummary<C>(db: Q, dialect: DialectName, agentId: number, count: (q: TicketQuery) => Promise<C>): Promise<{ active: C; unassigned: C; mine: C; urgent: C }>;
export async function queueSummary(db: Q, dialect: DialectName, agentId: number, count?: (q: TicketQuery) => Promise<unknown>) {
  const n = count ?? ((q: TicketQuery) => countTickets(db, dialect, q));
  const [active, unassigned, mine, urgent] = await Promise.all([
    n({ status: 'active', sort: BY_UPDATED }),
    n({ status: 'active', assigneeId: null, sort: BY_UPDATED }),
    n({ status: 'active', assigneeId: agentId, sort: BY_UPDATED }),
    n({ status: 'active', priority: 4, sort: BY_UPDATED }),
  ]);
  return { active, unassigned, mine, urgent };
}
