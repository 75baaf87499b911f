import { sql, type ColumnDefinitionBuilder, type Kysely } from 'kysely';
import type { DialectName } from '../dialect';

/**
 * E-mail both ways (issue 17).
 *
 * `mail_outbox`: every notification, written in the same transaction as the ticket event
 * that causes it, then sent by whichever process claims it (lease_owner/lease_expires_at) and
 * kept with the SMTP server's last answer. `dedupe_key` (lead event and address) is unique:
 * at most one notification per event and recipient, whatever retries or races happen.
 *
 * `mail_inbound`: every message read from the desk's mailbox and what became of it; its
 * unique `message_key` (the Message-ID, or a hash of a message without one) is how the same
 * message is processed once. `original` keeps the full text of a reply whose quoted part
 * was cut from the comment.
 *
 * `mail_preferences`: who wants which mail (no row: the defaults).
 * `mail_sender_arrivals`: recent arrivals per sender address, for the flood limit.
 * The mailbox reader's lease is a row in `worker_leases` (migration 005).
 */
export async function up(db: Kysely<unknown>, dialect: DialectName): Promise<void> {
  const mssql = dialect === 'mssql';
  const ts = mssql ? sql`datetime2(3)` : sql`text`;
  const text = (n: number) => (mssql ? sql.raw(`nvarchar(${n})`) : sql`text`);
  // Compared byte for byte (the app normalises them); NVARCHAR so the driver's parameters seek.
  const key = (n: number) => (mssql ? sql.raw(`nvarchar(${n}) collate Latin1_General_100_BIN2`) : sql`text`);
  const longText = mssql ? sql`nvarchar(max)` : sql`text`;
  const id = (c: ColumnDefinitionBuilder) => (mssql ? c.identity().primaryKey() : c.primaryKey().autoIncrement());

  await db.schema
    .createTable('mail_outbox')
    .addColumn('id', 'integer', id)
    // `e<lead event id>:<address>` for a ticket's notification, `test:<random>` for a test message.
    .addColumn('dedupe_key', key(450), (c) => c.notNull())
    .addColumn('kind', text(16), (c) => c.notNull().check(sql`kind in ('ticket','test')`))
    // Why this person hears of the ticket: the templates word the mail for them.
    .addColumn('audience', text(16), (c) => c.check(sql`audience in ('requester','assignee','agent')`))
    .addColumn('ticket_id', 'integer', (c) => c.references('tickets.id'))
    // The events this mail tells of, comma-separated, oldest first (never an internal note for a requester).
    .addColumn('event_ids', text(400))
    .addColumn('person_id', 'integer', (c) => c.references('people.id'))
    .addColumn('to_address', text(320), (c) => c.notNull())
    .addColumn('subject', text(400), (c) => c.notNull())
    // The same on every retry, so a receiving server can drop a second copy.
    .addColumn('message_id', text(400), (c) => c.notNull())
    // Message-IDs of mail this one answers (the requester's own message, for an acknowledgement).
    .addColumn('also_references', text(1000))
    .addColumn('status', text(16), (c) => c.notNull().check(sql`status in ('queued','sent','failed')`))
    .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('next_attempt_at', ts, (c) => c.notNull())
    // Which process is sending it, until when; a holder that dies lets the lease run out.
    .addColumn('lease_owner', text(200))
    .addColumn('lease_expires_at', ts)
    .addColumn('last_answer', text(1000))
    .addColumn('created_at', ts, (c) => c.notNull())
    .addColumn('updated_at', ts, (c) => c.notNull())
    .addColumn('sent_at', ts)
    .execute();
  await db.schema.createIndex('mail_outbox_dedupe_uq').on('mail_outbox').column('dedupe_key').unique().execute();
  // The sender's "what is due" and the admin page's tabs.
  await db.schema.createIndex('mail_outbox_due_idx').on('mail_outbox').columns(['status', 'next_attempt_at', 'id']).execute();
  await db.schema.createIndex('mail_outbox_status_idx').on('mail_outbox').columns(['status', 'id']).execute();

  await db.schema
    .createTable('mail_inbound')
    .addColumn('id', 'integer', id)
    .addColumn('message_key', key(450), (c) => c.notNull())
    .addColumn('message_id', text(1000))
    .addColumn('from_address', text(320))
    .addColumn('subject', text(400))
    // ticket, comment, ignored, rejected, rate-limited, failed
    .addColumn('outcome', text(16), (c) => c.notNull())
    .addColumn('reason', text(1000))
    .addColumn('ticket_id', 'integer', (c) => c.references('tickets.id'))
    .addColumn('event_id', 'integer', (c) => c.references('ticket_events.id'))
    .addColumn('person_id', 'integer', (c) => c.references('people.id'))
    .addColumn('original', longText)
    .addColumn('received_at', ts, (c) => c.notNull())
    .execute();
  await db.schema.createIndex('mail_inbound_key_uq').on('mail_inbound').column('message_key').unique().execute();
  await db.schema.createIndex('mail_inbound_ticket_idx').on('mail_inbound').columns(['ticket_id', 'id']).execute();
  await db.schema.createIndex('mail_inbound_event_idx').on('mail_inbound').columns(['event_id']).execute();
  await db.schema.createIndex('mail_inbound_received_idx').on('mail_inbound').columns(['received_at', 'id']).execute();

  await db.schema
    .createTable('mail_preferences')
    .addColumn('person_id', 'integer', (c) => c.primaryKey().references('people.id'))
    // Mail about tickets the person raised: acknowledgement, public replies, resolved, known issue updates.
    .addColumn('my_tickets', 'smallint', (c) => c.notNull())
    // Agents: a ticket assigned to them, and its requester's replies.
    .addColumn('assigned', 'smallint', (c) => c.notNull())
    // Agents: every new ticket.
    .addColumn('new_tickets', 'smallint', (c) => c.notNull())
    .addColumn('updated_at', ts, (c) => c.notNull())
    .execute();
  await db.schema.createIndex('mail_preferences_new_idx').on('mail_preferences').columns(['new_tickets', 'person_id']).execute();

  await db.schema
    .createTable('mail_sender_arrivals')
    .addColumn('id', 'integer', id)
    .addColumn('sender', key(320), (c) => c.notNull())
    .addColumn('arrived_at', ts, (c) => c.notNull())
    .execute();
  await db.schema.createIndex('mail_sender_arrivals_idx').on('mail_sender_arrivals').columns(['sender', 'arrived_at']).execute();
  await db.schema.createIndex('mail_sender_arrivals_at_idx').on('mail_sender_arrivals').column('arrived_at').execute();
}
