import { sql, type Insertable, type Kysely, type Selectable, type Transaction } from 'kysely';
import type { DialectName } from '../../db/dialect';
import * as outbox from '../shared/outbox.queries';
import { insertIfAbsent, insertReturningId, MAX_PARAMETERS, paged } from '../../db/portable';
import type { DB, MailInboundOutcome, MailInboundTable, MailOutboxStatus, MailOutboxTable, MailPreferencesTable } from '../../db/schema';

type Q = Kysely<DB> | Transaction<DB>;

// ---------------------------------------------------------------------------------------
// The outbox

export type OutboxRow = Selectable<MailOutboxTable>;
export type NewOutboxRow = Insertable<MailOutboxTable>;

/** Insert notifications in as few statements as the parameter limit allows (a known issue's update may mail thousands). */
export async function insertOutboxRows(trx: Transaction<DB>, rows: NewOutboxRow[]): Promise<void> {
  if (rows.length === 0) return;
  const perStatement = Math.max(1, Math.floor(MAX_PARAMETERS / Object.keys(rows[0]).length));
  for (let i = 0; i < rows.length; i += perStatement) {
    await trx
      .insertInto('mail_outbox')
      .values(rows.slice(i, i + perStatement))
      .execute();
  }
}

/** Ids of notifications due now that nobody holds a live lease on, oldest due first (shared/outbox.queries.ts). */
export async function dueOutboxIds(db: Q, dialect: DialectName, now: string, limit: number): Promise<number[]> {
  return outbox.dueOutboxIds(db, dialect, 'mail_outbox', now, limit);
}

/** Take a notification for sending until `until`, counting the attempt: the one claim every outbox uses (shared/outbox.queries.ts). */
export async function claimOutboxRow(db: Q, id: number, owner: string, now: string, until: string): Promise<boolean> {
  return outbox.claimOutboxRow(db, 'mail_outbox', id, owner, now, until);
}

export async function getOutboxRow(db: Q, id: number): Promise<OutboxRow | undefined> {
  return db.selectFrom('mail_outbox').selectAll().where('id', '=', id).executeTakeFirst();
}

export interface OutboxOutcome {
  status: MailOutboxStatus;
  lastAnswer: string | null;
  /** When queued again: the next try. */
  nextAttemptAt?: string;
  sentAt?: string;
}

/** Record how a send went and let go of the lease, if `owner` still holds it; false when it does not. */
export async function finishOutboxRow(db: Q, id: number, owner: string, outcome: OutboxOutcome, now: string): Promise<boolean> {
  return outbox.finishOutboxRow(db, 'mail_outbox', id, owner, outcome, outcome.sentAt ? { sent_at: outcome.sentAt } : {}, now);
}

/** The admin page's list: newest first, one status or all. */
export async function listOutbox(db: Q, dialect: DialectName, status: MailOutboxStatus | 'all', limit: number, offset: number): Promise<OutboxRow[]> {
  let qb = db.selectFrom('mail_outbox').selectAll();
  if (status !== 'all') qb = qb.where('status', '=', status);
  return paged(qb.orderBy('id', 'desc'), dialect, limit, offset).execute();
}

export async function countOutboxByStatus(db: Q): Promise<Record<MailOutboxStatus, number>> {
  const rows = await db
    .selectFrom('mail_outbox')
    .select(['status', (eb) => eb.fn.countAll<number>().as('n')])
    .groupBy('status')
    .execute();
  const out: Record<MailOutboxStatus, number> = { queued: 0, sent: 0, failed: 0 };
  for (const r of rows) out[r.status] = Number(r.n);
  return out;
}

/** Forget sent and failed notifications last touched before `before` (queued ones are kept whatever their age). */
export async function deleteFinishedOutbox(db: Q, before: string): Promise<number> {
  const r = await db.deleteFrom('mail_outbox').where('status', 'in', ['sent', 'failed']).where('updated_at', '<', before).executeTakeFirst();
  return Number(r.numDeletedRows);
}

// ---------------------------------------------------------------------------------------
// Mail read from the desk's mailbox

export type InboundRow = Selectable<MailInboundTable>;

export async function findInbound(db: Q, messageKey: string): Promise<Pick<InboundRow, 'id' | 'outcome' | 'ticket_id'> | undefined> {
  return db.selectFrom('mail_inbound').select(['id', 'outcome', 'ticket_id']).where('message_key', '=', messageKey).executeTakeFirst();
}

export interface NewInbound {
  messageKey: string;
  messageId: string | null;
  fromAddress: string | null;
  subject: string | null;
  outcome: MailInboundOutcome;
  reason: string | null;
  ticketId: number | null;
  eventId: number | null;
  personId: number | null;
  original: string | null;
  at: string;
}

/**
 * Record a message as handled. Inside the transaction that acts on it, the unique key makes
 * a second reader's transaction for the same message fail rather than act twice.
 */
export async function insertInbound(trx: Q, dialect: DialectName, m: NewInbound): Promise<number> {
  return insertReturningId(
    trx.insertInto('mail_inbound').values({
      message_key: m.messageKey,
      message_id: m.messageId === null ? null : m.messageId.slice(0, 1000),
      from_address: m.fromAddress === null ? null : m.fromAddress.slice(0, 320),
      subject: m.subject === null ? null : m.subject.slice(0, 400),
      outcome: m.outcome,
      reason: m.reason === null ? null : m.reason.slice(0, 1000),
      ticket_id: m.ticketId,
      event_id: m.eventId,
      person_id: m.personId,
      original: m.original,
      received_at: m.at,
    }),
    dialect,
  );
}

/** What became of a message recorded at the start of its transaction. */
export async function updateInbound(
  trx: Q,
  id: number,
  m: { outcome: MailInboundOutcome; reason: string; ticketId?: number | null; eventId?: number | null; personId?: number | null; original?: string | null },
): Promise<void> {
  await trx
    .updateTable('mail_inbound')
    .set({
      outcome: m.outcome,
      reason: m.reason.slice(0, 1000),
      ...(m.ticketId !== undefined ? { ticket_id: m.ticketId } : {}),
      ...(m.eventId !== undefined ? { event_id: m.eventId } : {}),
      ...(m.personId !== undefined ? { person_id: m.personId } : {}),
      ...(m.original !== undefined ? { original: m.original } : {}),
    })
    .where('id', '=', id)
    .execute();
}

export type InboundListRow = Omit<InboundRow, 'original'>;

export async function listInbound(db: Q, dialect: DialectName, limit: number): Promise<InboundListRow[]> {
  return paged(
    db
      .selectFrom('mail_inbound')
      .select(['id', 'message_key', 'message_id', 'from_address', 'subject', 'outcome', 'reason', 'ticket_id', 'event_id', 'person_id', 'received_at'])
      .orderBy('id', 'desc'),
    dialect,
    limit,
    0,
  ).execute();
}

/** Which of a ticket's events came by e-mail (event id → the message's row id). */
export async function inboundOfTicket(db: Q, ticketId: number): Promise<{ id: number; event_id: number | null; original: boolean }[]> {
  const rows = await db
    .selectFrom('mail_inbound')
    .select(['id', 'event_id', sql<number>`case when original is null then 0 else 1 end`.as('has_original')])
    .where('ticket_id', '=', ticketId)
    .where('event_id', 'is not', null)
    .execute();
  return rows.map((r) => ({ id: Number(r.id), event_id: r.event_id, original: Number(r.has_original) === 1 }));
}

/** One message's whole text, as it belongs to a ticket, with the kind of event it became (a reply, or an internal note). */
export async function inboundOriginal(
  db: Q,
  ticketId: number,
  id: number,
): Promise<(Pick<InboundRow, 'id' | 'event_id' | 'from_address' | 'subject' | 'original' | 'received_at'> & { event_kind: string | null }) | undefined> {
  return db
    .selectFrom('mail_inbound')
    .leftJoin('ticket_events', 'ticket_events.id', 'mail_inbound.event_id')
    .select(['mail_inbound.id', 'mail_inbound.event_id', 'mail_inbound.from_address', 'mail_inbound.subject', 'mail_inbound.original', 'mail_inbound.received_at', 'ticket_events.kind as event_kind'])
    .where('mail_inbound.ticket_id', '=', ticketId)
    .where('mail_inbound.id', '=', id)
    .executeTakeFirst();
}

/** Message-IDs of mail `from` sent about these tickets, newest last: notifications to them reference these. */
export async function inboundMessageIds(db: Q, ticketIds: number[], from: string[]): Promise<{ ticket_id: number; from_address: string; message_id: string }[]> {
  if (ticketIds.length === 0 || from.length === 0) return [];
  const rows = await db
    .selectFrom('mail_inbound')
    .select(['ticket_id', 'from_address', 'message_id'])
    .where('ticket_id', 'in', ticketIds.slice(0, MAX_PARAMETERS / 2))
    .where('from_address', 'in', from.slice(0, MAX_PARAMETERS / 2))
    .where('message_id', 'is not', null)
    .orderBy('id')
    .execute();
  return rows.map((r) => ({ ticket_id: Number(r.ticket_id), from_address: r.from_address!, message_id: r.message_id! }));
}

export async function deleteInboundBefore(db: Q, before: string): Promise<number> {
  const r = await db.deleteFrom('mail_inbound').where('received_at', '<', before).executeTakeFirst();
  return Number(r.numDeletedRows);
}

// ---------------------------------------------------------------------------------------
// Who wants which mail

export type Preferences = Pick<Selectable<MailPreferencesTable>, 'my_tickets' | 'assigned' | 'new_tickets'>;

/** What a person without a row gets: news of their own tickets and of tickets assigned to them, not every new ticket. */
export const DEFAULT_PREFERENCES: Readonly<Preferences> = Object.freeze({ my_tickets: 1, assigned: 1, new_tickets: 0 });

export async function getPreferences(db: Q, personId: number): Promise<Preferences> {
  const row = await db.selectFrom('mail_preferences').select(['my_tickets', 'assigned', 'new_tickets']).where('person_id', '=', personId).executeTakeFirst();
  return row ?? { ...DEFAULT_PREFERENCES };
}

/** Save a person's choices: one row per person, safe when two saves race. */
export async function savePreferences(db: Q, personId: number, p: Preferences, now: string): Promise<void> {
  const update = () => db.updateTable('mail_preferences').set({ ...p, updated_at: now }).where('person_id', '=', personId).executeTakeFirst();
  if (Number((await update()).numUpdatedRows) === 1) return;
  if (!(await insertIfAbsent(db, 'mail_preferences', { person_id: personId, ...p, updated_at: now }, 'person_id'))) await update();
}

/** The people mail may go to, with their choices (defaults filled in). */
export async function recipientsByIds(db: Q, ids: number[]): Promise<{ id: number; email: string | null; display_name: string | null; is_agent: number; prefs: Preferences }[]> {
  if (ids.length === 0) return [];
  const out = [];
  const per = MAX_PARAMETERS;
  for (let i = 0; i < ids.length; i += per) {
    const rows = await db
      .selectFrom('people')
      .leftJoin('mail_preferences', 'mail_preferences.person_id', 'people.id')
      .select(['people.id', 'people.email', 'people.display_name', 'people.is_agent', 'mail_preferences.my_tickets', 'mail_preferences.assigned', 'mail_preferences.new_tickets'])
      .where('people.id', 'in', ids.slice(i, i + per))
      .execute();
    for (const r of rows) {
      out.push({
        id: r.id,
        email: r.email,
        display_name: r.display_name,
        is_agent: r.is_agent,
        prefs: r.my_tickets === null ? { ...DEFAULT_PREFERENCES } : { my_tickets: r.my_tickets, assigned: r.assigned ?? 1, new_tickets: r.new_tickets ?? 0 },
      });
    }
  }
  return out;
}

/** Agents who asked for every new ticket. */
export async function agentsWantingNewTickets(db: Q): Promise<number[]> {
  const rows = await db
    .selectFrom('mail_preferences')
    .innerJoin('people', 'people.id', 'mail_preferences.person_id')
    .select('people.id')
    .where('mail_preferences.new_tickets', '=', 1)
    .where('people.is_agent', '=', 1)
    .execute();
  return rows.map((r) => r.id);
}

/**
 * People whose e-mail address is this one (lower-case), those with a Windows login first:
 * a sender is matched to the person the directory says has the address.
 */
export async function peopleByEmail(db: Q, address: string): Promise<{ id: number; login: string; is_agent: number }[]> {
  const rows = await db
    .selectFrom('people')
    .select(['id', 'login', 'is_agent'])
    .where(sql<boolean>`lower(email) = ${address}`)
    .orderBy('id')
    .execute();
  return rows.sort((a, b) => Number(a.login.toLowerCase() === address) - Number(b.login.toLowerCase() === address));
}

export async function isAgentPerson(db: Q, personId: number): Promise<boolean> {
  const row = await db.selectFrom('people').select('is_agent').where('id', '=', personId).executeTakeFirst();
  return row?.is_agent === 1;
}

/** Who holds a named lease in worker_leases (the mailbox reader's), until when; undefined when nobody ever did. */
export async function leaseHolder(db: Q, name: string): Promise<{ holder: string; expires_at: string | Date } | undefined> {
  return db.selectFrom('worker_leases').select(['holder', 'expires_at']).where('name', '=', name).executeTakeFirst();
}

// ---------------------------------------------------------------------------------------
// Arrivals per sender, for the flood limit

/** Arrivals from `sender` after `since` (the store keeps only the window's). */
export async function arrivalsSince(db: Q, sender: string, since: string): Promise<Date[]> {
  const rows = await db.selectFrom('mail_sender_arrivals').select('arrived_at').where('sender', '=', sender).where('arrived_at', '>', since).execute();
  return rows.map((r) => (r.arrived_at instanceof Date ? r.arrived_at : new Date(r.arrived_at)));
}

export async function recordArrival(db: Q, sender: string, at: string): Promise<void> {
  await db.insertInto('mail_sender_arrivals').values({ sender, arrived_at: at }).execute();
}

export async function deleteArrivalsBefore(db: Q, before: string): Promise<number> {
  const r = await db.deleteFrom('mail_sender_arrivals').where('arrived_at', '<', before).executeTakeFirst();
  return Number(r.numDeletedRows);
}
