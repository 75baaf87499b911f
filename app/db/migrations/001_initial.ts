import { sql, type Kysely } from 'kysely';
import type { DialectName } from '../dialect';

/**
 * The first schema. Forward-only: once released, a migration never changes; later
 * changes are new files. Text columns are given lengths so SQL Server can make them
 * NVARCHAR(n) and index them; timestamps are ISO-8601 UTC strings in SQLite.
 */
export async function up(db: Kysely<unknown>, dialect: DialectName): Promise<void> {
  const ts = dialect === 'mssql' ? sql`datetime2(3)` : sql`text`;
  const text = (n: number) => (dialect === 'mssql' ? sql.raw(`nvarchar(${n})`) : sql`text`);
  const longText = dialect === 'mssql' ? sql`nvarchar(max)` : sql`text`;

  await db.schema
    .createTable('people')
    .addColumn('id', 'integer', (c) => (dialect === 'mssql' ? c.identity().primaryKey() : c.primaryKey().autoIncrement()))
    .addColumn('login', text(320), (c) => c.notNull())
    // Already lower-cased by the app; compared byte for byte on both engines, whatever
    // the SQL Server database's default collation says about case and accents.
    .addColumn('login_key', dialect === 'mssql' ? sql`nvarchar(320) collate Latin1_General_100_BIN2` : sql`text`, (c) => c.notNull())
    .addColumn('display_name', text(256))
    .addColumn('email', text(320))
    .addColumn('department', text(256))
    .addColumn('title', text(256))
    .addColumn('is_agent', 'smallint', (c) => c.notNull().defaultTo(0))
    .addColumn('created_at', ts, (c) => c.notNull())
    .addColumn('updated_at', ts, (c) => c.notNull())
    .execute();
  await db.schema.createIndex('people_login_key_uq').on('people').column('login_key').unique().execute();
  await db.schema.createIndex('people_agent_idx').on('people').columns(['is_agent', 'display_name']).execute();

  await db.schema
    .createTable('sessions')
    .addColumn('id', text(64), (c) => c.primaryKey())
    .addColumn('person_id', 'integer', (c) => c.notNull().references('people.id'))
    .addColumn('auth_type', text(64), (c) => c.notNull())
    .addColumn('source', text(32), (c) => c.notNull())
    .addColumn('created_at', ts, (c) => c.notNull())
    .addColumn('expires_at', ts, (c) => c.notNull())
    .execute();
  await db.schema.createIndex('sessions_expires_idx').on('sessions').column('expires_at').execute();
  await db.schema.createIndex('sessions_person_idx').on('sessions').column('person_id').execute();

  await db.schema
    .createTable('categories')
    .addColumn('id', 'integer', (c) => (dialect === 'mssql' ? c.identity().primaryKey() : c.primaryKey().autoIncrement()))
    .addColumn('name', text(80), (c) => c.notNull())
    .addColumn('description', text(400))
    .addColumn('sort_order', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('active', 'smallint', (c) => c.notNull().defaultTo(1))
    .addColumn('created_at', ts, (c) => c.notNull())
    .execute();
  await db.schema.createIndex('categories_name_uq').on('categories').column('name').unique().execute();

  await db.schema
    .createTable('tickets')
    .addColumn('id', 'integer', (c) => (dialect === 'mssql' ? c.identity().primaryKey() : c.primaryKey().autoIncrement()))
    .addColumn('title', text(200), (c) => c.notNull())
    .addColumn('description', longText, (c) => c.notNull())
    .addColumn('status', text(16), (c) => c.notNull().check(sql`status in ('new','open','pending','resolved','closed')`))
    .addColumn('active', 'smallint', (c) => c.notNull())
    .addColumn('priority', 'smallint', (c) => c.notNull().check(sql`priority between 1 and 4`))
    .addColumn('category_id', 'integer', (c) => c.notNull().references('categories.id'))
    .addColumn('requester_id', 'integer', (c) => c.notNull().references('people.id'))
    .addColumn('assignee_id', 'integer', (c) => c.references('people.id'))
    .addColumn('created_at', ts, (c) => c.notNull())
    .addColumn('updated_at', ts, (c) => c.notNull())
    .addColumn('resolved_at', ts)
    .addColumn('version', 'integer', (c) => c.notNull().defaultTo(1))
    .execute();
  // One index per way the queue is read; each ends in (updated_at, id) so the default
  // sort, "recently updated first" with id as tie-break, is read straight off it.
  await db.schema.createIndex('tickets_active_updated_idx').on('tickets').columns(['active', 'updated_at', 'id']).execute();
  await db.schema.createIndex('tickets_status_updated_idx').on('tickets').columns(['status', 'updated_at', 'id']).execute();
  await db.schema.createIndex('tickets_assignee_idx').on('tickets').columns(['assignee_id', 'active', 'updated_at', 'id']).execute();
  await db.schema.createIndex('tickets_requester_idx').on('tickets').columns(['requester_id', 'active', 'updated_at', 'id']).execute();
  // "My tickets" lists every status by default.
  await db.schema.createIndex('tickets_requester_all_idx').on('tickets').columns(['requester_id', 'updated_at', 'id']).execute();
  await db.schema.createIndex('tickets_category_idx').on('tickets').columns(['category_id', 'active', 'updated_at', 'id']).execute();
  await db.schema.createIndex('tickets_priority_idx').on('tickets').columns(['active', 'priority', 'updated_at', 'id']).execute();
  await db.schema.createIndex('tickets_updated_idx').on('tickets').columns(['updated_at', 'id']).execute();

  await db.schema
    .createTable('ticket_events')
    .addColumn('id', 'integer', (c) => (dialect === 'mssql' ? c.identity().primaryKey() : c.primaryKey().autoIncrement()))
    .addColumn('ticket_id', 'integer', (c) => c.notNull().references('tickets.id'))
    .addColumn('actor_id', 'integer', (c) => c.references('people.id'))
    .addColumn('kind', text(16), (c) => c.notNull())
    .addColumn('body', longText)
    .addColumn('from_value', text(200))
    .addColumn('to_value', text(200))
    .addColumn('ticket_version', 'integer', (c) => c.notNull())
    .addColumn('created_at', ts, (c) => c.notNull())
    .execute();
  // A ticket's timeline in order; `kind` rides along so the list's per-ticket reply count
  // is read from the index alone, however long the conversation.
  await db.schema.createIndex('ticket_events_ticket_idx').on('ticket_events').columns(['ticket_id', 'id', 'kind']).execute();

  if (dialect === 'sqlite') {
    // Word search over title and description. An external-content FTS5 table keeps one
    // copy of the text; triggers keep it in step inside the writing transaction.
    await sql`create virtual table tickets_fts using fts5(title, description, content='tickets', content_rowid='id', tokenize='unicode61 remove_diacritics 2')`.execute(db);
    await sql`create trigger tickets_fts_ai after insert on tickets begin
      insert into tickets_fts(rowid, title, description) values (new.id, new.title, new.description); end`.execute(db);
    await sql`create trigger tickets_fts_ad after delete on tickets begin
      insert into tickets_fts(tickets_fts, rowid, title, description) values ('delete', old.id, old.title, old.description); end`.execute(db);
    await sql`create trigger tickets_fts_au after update of title, description on tickets begin
      insert into tickets_fts(tickets_fts, rowid, title, description) values ('delete', old.id, old.title, old.description);
      insert into tickets_fts(rowid, title, description) values (new.id, new.title, new.description); end`.execute(db);
  }

  // A sensible starting set; administrators rename, add and retire categories later.
  const now = new Date().toISOString();
  const categories = [
    ['Hardware', 'Laptops, desktops, monitors, docks, phones'],
    ['Software', 'Installing, updating or fixing applications'],
    ['Accounts & access', 'Passwords, locked accounts, group membership, permissions'],
    ['Email & calendar', 'Outlook, shared mailboxes, distribution lists'],
    ['Network & VPN', 'Wi-Fi, wired network, remote access'],
    ['Printing', 'Printers, scanners, print queues'],
    ['New starter / leaver', 'Accounts and equipment for people joining or leaving'],
    ['Other', 'Anything that fits nowhere else'],
  ];
  await (db as Kysely<any>)
    .insertInto('categories')
    .values(categories.map(([name, description], i) => ({ name, description, sort_order: (i + 1) * 10, active: 1, created_at: now })))
    .execute();
}
