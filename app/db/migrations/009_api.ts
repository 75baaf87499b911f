import { sql, type ColumnDefinitionBuilder, type Kysely } from 'kysely';
import type { DialectName } from '../dialect';

/**
 * The JSON API's tokens and the webhooks (issue 19).
 *
 * `api_tokens`: personal access tokens. Only the SHA-256 of a token is kept (as for
 * sessions), so a copy of the database cannot be turned into working tokens. Each token
 * acts for its person with at most `role` (requester: their own tickets; agent: the
 * queue) and, with scope `read`, only reads. `rate_window`/`rate_count` are the token's
 * per-minute request count, shared by every process through this row.
 *
 * `webhooks`: endpoints an administrator added; `events`, `priorities` and `teams` are
 * comma-separated lists (no list: every priority or team). The secret signs each
 * delivery, so it is kept as it is (the HMAC needs it).
 *
 * `webhook_deliveries`: the outbox, written in the same transaction as the ticket events
 * it tells of and sent by whichever process claims it (lease_owner/lease_expires_at), kept
 * with the receiver's last answer. `delivery_key` (endpoint and first event) is unique:
 * one delivery per endpoint and event, whatever retries or races happen.
 */
export async function up(db: Kysely<unknown>, dialect: DialectName): Promise<void> {
  const mssql = dialect === 'mssql';
  const ts = mssql ? sql`datetime2(3)` : sql`text`;
  const text = (n: number) => (mssql ? sql.raw(`nvarchar(${n})`) : sql`text`);
  // Compared byte for byte (the app makes them); NVARCHAR so the driver's parameters seek.
  const key = (n: number) => (mssql ? sql.raw(`nvarchar(${n}) collate Latin1_General_100_BIN2`) : sql`text`);
  const longText = mssql ? sql`nvarchar(max)` : sql`text`;
  const id = (c: ColumnDefinitionBuilder) => (mssql ? c.identity().primaryKey() : c.primaryKey().autoIncrement());

  await db.schema
    .createTable('api_tokens')
    .addColumn('id', 'integer', id)
    .addColumn('person_id', 'integer', (c) => c.notNull().references('people.id'))
    .addColumn('name', text(100), (c) => c.notNull())
    .addColumn('token_hash', key(64), (c) => c.notNull())
    // The token's first characters, so a person can tell their tokens apart (never enough to guess it).
    .addColumn('hint', text(16), (c) => c.notNull())
    .addColumn('scope', text(16), (c) => c.notNull().check(sql`scope in ('read','read-write')`))
    .addColumn('role', text(16), (c) => c.notNull().check(sql`role in ('requester','agent')`))
    .addColumn('created_at', ts, (c) => c.notNull())
    .addColumn('expires_at', ts, (c) => c.notNull())
    .addColumn('last_used_at', ts)
    .addColumn('revoked_at', ts)
    .addColumn('revoked_by', 'integer', (c) => c.references('people.id'))
    // Minutes since 1970 of the current rate window, and requests in it.
    .addColumn('rate_window', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('rate_count', 'integer', (c) => c.notNull().defaultTo(0))
    .execute();
  await db.schema.createIndex('api_tokens_hash_uq').on('api_tokens').column('token_hash').unique().execute();
  await db.schema.createIndex('api_tokens_person_idx').on('api_tokens').columns(['person_id', 'id']).execute();

  await db.schema
    .createTable('webhooks')
    .addColumn('id', 'integer', id)
    .addColumn('name', text(100), (c) => c.notNull())
    .addColumn('url', text(2000), (c) => c.notNull())
    .addColumn('secret', text(100), (c) => c.notNull())
    // ticket.raised, ticket.changed, ticket.commented
    .addColumn('events', text(200), (c) => c.notNull())
    .addColumn('priorities', text(100))
    .addColumn('teams', text(400))
    .addColumn('format', text(16), (c) => c.notNull().check(sql`format in ('json','teams')`))
    // 1: internal notes are sent too (an agents-only receiver).
    .addColumn('internal', 'smallint', (c) => c.notNull())
    .addColumn('active', 'smallint', (c) => c.notNull())
    // Where links in the messages point: the address the administrator used, or one they gave.
    .addColumn('link_base', text(400), (c) => c.notNull())
    .addColumn('created_by', 'integer', (c) => c.references('people.id'))
    .addColumn('created_at', ts, (c) => c.notNull())
    .addColumn('updated_at', ts, (c) => c.notNull())
    .addColumn('version', 'integer', (c) => c.notNull().defaultTo(1))
    .execute();

  await db.schema
    .createTable('webhook_deliveries')
    .addColumn('id', 'integer', id)
    .addColumn('webhook_id', 'integer', (c) => c.notNull().references('webhooks.id'))
    // `w<endpoint>:e<first event id>` for ticket events, `w<endpoint>:ping:<random>` for a test.
    .addColumn('delivery_key', key(100), (c) => c.notNull())
    .addColumn('event', text(32), (c) => c.notNull())
    .addColumn('ticket_id', 'integer', (c) => c.references('tickets.id'))
    // Exactly what is sent, fixed when queued: every retry carries the same body.
    .addColumn('body', longText, (c) => c.notNull())
    .addColumn('status', text(16), (c) => c.notNull().check(sql`status in ('queued','delivered','failed')`))
    .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('next_attempt_at', ts, (c) => c.notNull())
    .addColumn('lease_owner', text(200))
    .addColumn('lease_expires_at', ts)
    // The receiver's HTTP status on the last try (null: no answer).
    .addColumn('last_status', 'integer')
    .addColumn('last_answer', text(1000))
    .addColumn('created_at', ts, (c) => c.notNull())
    .addColumn('updated_at', ts, (c) => c.notNull())
    .addColumn('delivered_at', ts)
    .execute();
  await db.schema.createIndex('webhook_deliveries_key_uq').on('webhook_deliveries').column('delivery_key').unique().execute();
  await db.schema.createIndex('webhook_deliveries_due_idx').on('webhook_deliveries').columns(['status', 'next_attempt_at', 'id']).execute();
  await db.schema.createIndex('webhook_deliveries_hook_idx').on('webhook_deliveries').columns(['webhook_id', 'id']).execute();
}
