import { sql, type ColumnDefinitionBuilder, type Kysely } from 'kysely';
import type { DialectName } from '../dialect';

/**
 * Known issues: what the service desk publishes for everyone ("E-mail is down in
 * Building B"), with its own public title, summary and status, apart from any ticket's
 * private text. Tickets link to a known issue; each public update is copied into every
 * linked ticket's timeline as a ticket event, so requesters read it on their own ticket.
 */
export async function up(db: Kysely<unknown>, dialect: DialectName): Promise<void> {
  const ts = dialect === 'mssql' ? sql`datetime2(3)` : sql`text`;
  const text = (n: number) => (dialect === 'mssql' ? sql.raw(`nvarchar(${n})`) : sql`text`);
  const longText = dialect === 'mssql' ? sql`nvarchar(max)` : sql`text`;
  const id = (c: ColumnDefinitionBuilder) => (dialect === 'mssql' ? c.identity().primaryKey() : c.primaryKey().autoIncrement());

  await db.schema
    .createTable('known_issues')
    .addColumn('id', 'integer', id)
    .addColumn('title', text(200), (c) => c.notNull())
    .addColumn('summary', longText, (c) => c.notNull())
    .addColumn('status', text(16), (c) => c.notNull().check(sql`status in ('investigating','identified','monitoring','resolved')`))
    // 1 until resolved: the home page and the new-ticket form list the active ones.
    .addColumn('active', 'smallint', (c) => c.notNull())
    // The category of tickets raised with "this is my problem too".
    .addColumn('category_id', 'integer', (c) => c.references('categories.id'))
    .addColumn('created_by', 'integer', (c) => c.notNull().references('people.id'))
    .addColumn('created_at', ts, (c) => c.notNull())
    .addColumn('updated_at', ts, (c) => c.notNull())
    .addColumn('resolved_at', ts)
    .addColumn('version', 'integer', (c) => c.notNull().defaultTo(1))
    .execute();
  await db.schema.createIndex('known_issues_active_idx').on('known_issues').columns(['active', 'updated_at', 'id']).execute();

  // The known issue's own history: public (published, status, update, edited) and for
  // agents only (ticket-linked).
  await db.schema
    .createTable('known_issue_events')
    .addColumn('id', 'integer', id)
    .addColumn('known_issue_id', 'integer', (c) => c.notNull().references('known_issues.id'))
    .addColumn('actor_id', 'integer', (c) => c.references('people.id'))
    .addColumn('kind', text(16), (c) => c.notNull())
    .addColumn('body', longText)
    .addColumn('from_value', text(200))
    .addColumn('to_value', text(200))
    .addColumn('public', 'smallint', (c) => c.notNull())
    .addColumn('created_at', ts, (c) => c.notNull())
    .execute();
  await db.schema.createIndex('known_issue_events_issue_idx').on('known_issue_events').columns(['known_issue_id', 'id']).execute();

  await db.schema
    .createTable('known_issue_tickets')
    .addColumn('known_issue_id', 'integer', (c) => c.notNull().references('known_issues.id'))
    .addColumn('ticket_id', 'integer', (c) => c.notNull().references('tickets.id'))
    .addColumn('linked_by', 'integer', (c) => c.references('people.id'))
    .addColumn('linked_at', ts, (c) => c.notNull())
    .addPrimaryKeyConstraint('known_issue_tickets_pk', ['known_issue_id', 'ticket_id'])
    .execute();
  await db.schema.createIndex('known_issue_tickets_ticket_idx').on('known_issue_tickets').columns(['ticket_id', 'known_issue_id']).execute();
}
