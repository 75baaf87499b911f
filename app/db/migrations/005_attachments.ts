import { sql, type ColumnDefinitionBuilder, type Kysely } from 'kysely';
import type { DialectName } from '../dialect';

/**
 * Attachments (issue 16): what was attached to which ticket, by whom, under which name;
 * the bytes themselves live in a content-addressed store (app/storage), a folder by
 * default. `attachment_blob_heads` and `attachment_blobs` hold those bytes when the site
 * keeps them in the database instead (DESKSIDE_ATTACHMENT_STORE=database); they are made
 * on every site, so switching later needs no migration.
 */
export async function up(db: Kysely<unknown>, dialect: DialectName): Promise<void> {
  const mssql = dialect === 'mssql';
  const ts = mssql ? sql`datetime2(3)` : sql`text`;
  const text = (n: number) => (mssql ? sql.raw(`nvarchar(${n})`) : sql`text`);
  // Lowercase hex, compared byte for byte. NVARCHAR because the driver sends every string
  // parameter as NVARCHAR: a VARCHAR key would be converted row by row and never sought.
  const sha256 = mssql ? sql`nvarchar(64) collate Latin1_General_100_BIN2` : sql`text`;
  const id = (c: ColumnDefinitionBuilder) => (mssql ? c.identity().primaryKey() : c.primaryKey().autoIncrement());

  await db.schema
    .createTable('attachments')
    .addColumn('id', 'integer', id)
    .addColumn('ticket_id', 'integer', (c) => c.notNull().references('tickets.id'))
    .addColumn('sha256', sha256, (c) => c.notNull())
    .addColumn('size', 'bigint', (c) => c.notNull())
    // Safe to store, show and send back (file-names.ts: at most 200 UTF-8 bytes).
    .addColumn('name', text(200), (c) => c.notNull())
    // What the person's browser sent, less any path (at most 1,000 UTF-16 units): shown only escaped.
    .addColumn('original_name', text(1000), (c) => c.notNull())
    // Told from the bytes once, at upload (content-types.ts); only four image types are ever inline.
    .addColumn('content_type', text(100), (c) => c.notNull())
    // 1 when it came with an internal note: agents only, like the note.
    .addColumn('internal', 'smallint', (c) => c.notNull())
    .addColumn('uploaded_by', 'integer', (c) => c.notNull().references('people.id'))
    .addColumn('created_at', ts, (c) => c.notNull())
    // Removed by an agent: no longer served; its bytes stay until the sweeper's retention passes.
    .addColumn('removed_at', ts)
    .addColumn('removed_by', 'integer', (c) => c.references('people.id'))
    .execute();
  await db.schema.createIndex('attachments_ticket_idx').on('attachments').columns(['ticket_id', 'id']).execute();
  // The sweeper asks "does any row still need these bytes?" by hash.
  await db.schema.createIndex('attachments_sha256_idx').on('attachments').columns(['sha256', 'removed_at']).execute();

  await db.schema
    .createTable('attachment_blob_heads')
    .addColumn('sha256', sha256, (c) => c.primaryKey())
    .addColumn('size', 'bigint', (c) => c.notNull())
    .addColumn('created_at', ts, (c) => c.notNull())
    .execute();
  await db.schema
    .createTable('attachment_blobs')
    .addColumn('sha256', sha256, (c) => c.notNull())
    .addColumn('seq', 'integer', (c) => c.notNull())
    .addColumn('data', mssql ? sql`varbinary(max)` : sql`blob`, (c) => c.notNull())
    .addPrimaryKeyConstraint('attachment_blobs_pk', ['sha256', 'seq'])
    .execute();
}
