import { sql, type ColumnDefinitionBuilder, type Kysely } from 'kysely';
import type { DialectName } from '../dialect';

/**
 * The agent's workbench (issue 15): how a ticket reached the desk, agents' saved queue
 * views, canned replies, and the indexes the queue's column sorts need.
 */
export async function up(db: Kysely<unknown>, dialect: DialectName): Promise<void> {
  const ts = dialect === 'mssql' ? sql`datetime2(3)` : sql`text`;
  const text = (n: number) => (dialect === 'mssql' ? sql.raw(`nvarchar(${n})`) : sql`text`);
  const longText = dialect === 'mssql' ? sql`nvarchar(max)` : sql`text`;
  const id = (c: ColumnDefinitionBuilder) => (dialect === 'mssql' ? c.identity().primaryKey() : c.primaryKey().autoIncrement());

  // Existing tickets were all raised through the web form. A default on an added NOT NULL
  // column is a metadata change on both engines: no rewrite of a million rows.
  await db.schema
    .alterTable('tickets')
    .addColumn('channel', text(16), (c) => c.notNull().defaultTo('web').check(sql`channel in ('web','phone','walk-in','email')`))
    .execute();

  // The queue sorts by number (= creation order) and by priority within each default view
  // (all open, resolved and closed, assigned to someone, unassigned); each of these reads
  // the order straight off an index, forwards or backwards (decision 0016).
  await db.schema.createIndex('tickets_active_id_idx').on('tickets').columns(['active', 'id']).execute();
  await db.schema.createIndex('tickets_assignee_id_idx').on('tickets').columns(['assignee_id', 'active', 'id']).execute();
  await db.schema.createIndex('tickets_assignee_priority_idx').on('tickets').columns(['assignee_id', 'active', 'priority', 'updated_at', 'id']).execute();

  await db.schema
    .createTable('saved_views')
    .addColumn('id', 'integer', id)
    .addColumn('owner_id', 'integer', (c) => c.notNull().references('people.id'))
    .addColumn('name', text(60), (c) => c.notNull())
    // The list address's query string (filters and sort, no page), as listUrl writes it.
    .addColumn('query', text(1000), (c) => c.notNull())
    // 1: every agent sees it as a tab (only admins may share).
    .addColumn('shared', 'smallint', (c) => c.notNull().defaultTo(0))
    .addColumn('created_at', ts, (c) => c.notNull())
    .execute();
  await db.schema.createIndex('saved_views_owner_idx').on('saved_views').columns(['owner_id', 'id']).execute();
  await db.schema.createIndex('saved_views_shared_idx').on('saved_views').columns(['shared', 'id']).execute();

  await db.schema
    .createTable('canned_responses')
    .addColumn('id', 'integer', id)
    .addColumn('title', text(120), (c) => c.notNull())
    .addColumn('body', longText, (c) => c.notNull())
    .addColumn('active', 'smallint', (c) => c.notNull().defaultTo(1))
    .addColumn('created_at', ts, (c) => c.notNull())
    .addColumn('updated_at', ts, (c) => c.notNull())
    .execute();
  await db.schema.createIndex('canned_responses_active_idx').on('canned_responses').columns(['active', 'title']).execute();
}
