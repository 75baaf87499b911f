import { sql, type Kysely } from 'kysely';
import type { DialectName } from '../dialect';

/**
 * Leases for background work that one process at a time should do (the attachment
 * sweeper first): iisnode runs several processes per server and a farm several servers,
 * all on one database, so "who does it now" is a row here, held until `expires_at`.
 */
export async function up(db: Kysely<unknown>, dialect: DialectName): Promise<void> {
  const mssql = dialect === 'mssql';
  await db.schema
    .createTable('worker_leases')
    .addColumn('name', mssql ? sql`nvarchar(64) collate Latin1_General_100_BIN2` : sql`text`, (c) => c.primaryKey())
    // Which process holds it: host, pid and a random part, for logs and for renewing.
    .addColumn('holder', mssql ? sql`nvarchar(200)` : sql`text`, (c) => c.notNull())
    .addColumn('expires_at', mssql ? sql`datetime2(3)` : sql`text`, (c) => c.notNull())
    .execute();
}
