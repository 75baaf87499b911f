import type { Kysely, Selectable, Transaction } from 'kysely';
import type { DialectName } from '../../db/dialect';
import { insertReturningId, paged } from '../../db/portable';
import type { DB, KnownIssuesTable, KnownIssueStatus } from '../../db/schema';

type Q = Kysely<DB> | Transaction<DB>;

export type KnownIssueRow = Selectable<KnownIssuesTable>;

export interface KnownIssueEventRow {
  id: number;
  kind: string;
  body: string | null;
  from_value: string | null;
  to_value: string | null;
  public: number;
  created_at: string | Date;
  actor_id: number | null;
  actor_name: string | null;
  actor_login: string | null;
}

/** Active known issues first (most recently changed first), then resolved ones, newest first. */
export async function listKnownIssues(db: Q, dialect: DialectName, opts: { activeOnly: boolean; limit: number }): Promise<KnownIssueRow[]> {
  let qb = db.selectFrom('known_issues').selectAll();
  if (opts.activeOnly) qb = qb.where('active', '=', 1);
  return paged(qb.orderBy('active', 'desc').orderBy('updated_at', 'desc').orderBy('id', 'desc'), dialect, opts.limit, 0).execute();
}

export async function getKnownIssue(db: Q, id: number): Promise<KnownIssueRow | undefined> {
  return db.selectFrom('known_issues').selectAll().where('id', '=', id).executeTakeFirst();
}

export async function listKnownIssueEvents(db: Q, id: number, opts: { includePrivate: boolean }): Promise<KnownIssueEventRow[]> {
  let qb = db
    .selectFrom('known_issue_events')
    .leftJoin('people', 'people.id', 'known_issue_events.actor_id')
    .select([
      'known_issue_events.id',
      'known_issue_events.kind',
      'known_issue_events.body',
      'known_issue_events.from_value',
      'known_issue_events.to_value',
      'known_issue_events.public',
      'known_issue_events.created_at',
      'known_issue_events.actor_id',
      'people.display_name as actor_name',
      'people.login as actor_login',
    ])
    .where('known_issue_events.known_issue_id', '=', id);
  if (!opts.includePrivate) qb = qb.where('known_issue_events.public', '=', 1);
  return qb.orderBy('known_issue_events.id', 'asc').execute();
}

export interface NewKnownIssue {
  title: string;
  summary: string;
  status: KnownIssueStatus;
  categoryId: number | null;
  createdBy: number;
  at: string;
}

export async function insertKnownIssue(trx: Transaction<DB>, dialect: DialectName, k: NewKnownIssue): Promise<number> {
  return insertReturningId(
    trx.insertInto('known_issues').values({
      title: k.title,
      summary: k.summary,
      status: k.status,
      active: k.status === 'resolved' ? 0 : 1,
      category_id: k.categoryId,
      created_by: k.createdBy,
      created_at: k.at,
      updated_at: k.at,
      resolved_at: k.status === 'resolved' ? k.at : null,
      version: 1,
    }),
    dialect,
  );
}

export interface KnownIssueChanges {
  title?: string;
  summary?: string;
  status?: KnownIssueStatus;
  active?: number;
  category_id?: number | null;
  resolved_at?: string | null;
}

/** Apply changes only if the known issue is still at `version`; true when it was. */
export async function updateKnownIssueAtVersion(trx: Transaction<DB>, id: number, version: number, changes: KnownIssueChanges, at: string): Promise<boolean> {
  const r = await trx
    .updateTable('known_issues')
    .set({ ...changes, updated_at: at, version: version + 1 })
    .where('id', '=', id)
    .where('version', '=', version)
    .executeTakeFirst();
  return Number(r.numUpdatedRows) === 1;
}

export async function touchKnownIssue(trx: Transaction<DB>, id: number, at: string): Promise<void> {
  await trx.updateTable('known_issues').set({ updated_at: at }).where('id', '=', id).execute();
}

export interface NewKnownIssueEvent {
  knownIssueId: number;
  actorId: number | null;
  kind: 'published' | 'status' | 'edited' | 'update' | 'ticket-linked';
  body?: string | null;
  from?: string | null;
  to?: string | null;
  public: boolean;
  at: string;
}

export async function insertKnownIssueEvents(trx: Transaction<DB>, events: NewKnownIssueEvent[]): Promise<void> {
  if (events.length === 0) return;
  await trx
    .insertInto('known_issue_events')
    .values(
      events.map((e) => ({
        known_issue_id: e.knownIssueId,
        actor_id: e.actorId,
        kind: e.kind,
        body: e.body ?? null,
        from_value: e.from ?? null,
        to_value: e.to ?? null,
        public: e.public ? 1 : 0,
        created_at: e.at,
      })),
    )
    .execute();
}

export async function isLinked(db: Q, knownIssueId: number, ticketId: number): Promise<boolean> {
  const r = await db.selectFrom('known_issue_tickets').select('ticket_id').where('known_issue_id', '=', knownIssueId).where('ticket_id', '=', ticketId).executeTakeFirst();
  return r !== undefined;
}

export async function insertLink(trx: Transaction<DB>, link: { knownIssueId: number; ticketId: number; linkedBy: number | null; at: string }): Promise<void> {
  await trx.insertInto('known_issue_tickets').values({ known_issue_id: link.knownIssueId, ticket_id: link.ticketId, linked_by: link.linkedBy, linked_at: link.at }).execute();
}

export interface LinkedTicketRow {
  id: number;
  title: string;
  status: string;
  version: number;
  requester_id: number;
  requester_name: string | null;
  requester_login: string;
}

/** Every ticket linked to the known issue, newest link first (agents only ever see this). */
export async function listLinkedTickets(db: Q, knownIssueId: number): Promise<LinkedTicketRow[]> {
  return db
    .selectFrom('known_issue_tickets')
    .innerJoin('tickets', 'tickets.id', 'known_issue_tickets.ticket_id')
    .innerJoin('people', 'people.id', 'tickets.requester_id')
    .select(['tickets.id', 'tickets.title', 'tickets.status', 'tickets.version', 'tickets.requester_id', 'people.display_name as requester_name', 'people.login as requester_login'])
    .where('known_issue_tickets.known_issue_id', '=', knownIssueId)
    .orderBy('known_issue_tickets.linked_at', 'desc')
    .orderBy('tickets.id', 'desc')
    .execute();
}

/** The linked tickets' state inside a write, for copying an update to each or resolving them. */
export async function linkedTicketsForUpdate(trx: Transaction<DB>, knownIssueId: number) {
  return trx
    .selectFrom('known_issue_tickets')
    .innerJoin('tickets', 'tickets.id', 'known_issue_tickets.ticket_id')
    .select(['tickets.id', 'tickets.status', 'tickets.version', 'tickets.resolved_at', 'tickets.priority', 'tickets.category_id', 'tickets.team_id', 'tickets.assignee_id', 'tickets.requester_id', 'tickets.created_at'])
    .where('known_issue_tickets.known_issue_id', '=', knownIssueId)
    .orderBy('tickets.id')
    .execute();
}

/** The person's own ticket for this known issue, if they raised or were linked to one. */
export async function ownLinkedTicket(db: Q, dialect: DialectName, knownIssueId: number, requesterId: number): Promise<{ id: number; status: string } | undefined> {
  return paged(
    db
      .selectFrom('known_issue_tickets')
      .innerJoin('tickets', 'tickets.id', 'known_issue_tickets.ticket_id')
      .select(['tickets.id', 'tickets.status'])
      .where('known_issue_tickets.known_issue_id', '=', knownIssueId)
      .where('tickets.requester_id', '=', requesterId)
      .orderBy('tickets.active', 'desc')
      .orderBy('tickets.id', 'desc'),
    dialect,
    1,
    0,
  ).executeTakeFirst();
}

/** The known issues a ticket is linked to, for the ticket page. */
export async function knownIssuesOfTicket(db: Q, ticketId: number): Promise<Pick<KnownIssueRow, 'id' | 'title' | 'status'>[]> {
  return db
    .selectFrom('known_issue_tickets')
    .innerJoin('known_issues', 'known_issues.id', 'known_issue_tickets.known_issue_id')
    .select(['known_issues.id', 'known_issues.title', 'known_issues.status'])
    .where('known_issue_tickets.ticket_id', '=', ticketId)
    .orderBy('known_issues.id')
    .execute();
}
