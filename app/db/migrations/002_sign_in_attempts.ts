import { sql, type Kysely } from 'kysely';
import type { DialectName } from '../dialect';

/**
 * Password sign-in attempts, for the rate limits (per account and per client address).
 * In the database rather than in memory because iisnode runs several processes and a
 * farm several servers: a limit each process kept for itself would multiply by their
 * number. One row per attempt; rows older than the window are deleted as attempts come.
 */
export async function up(db: Kysely<unknown>, dialect: DialectName): Promise<void> {
  const ts = dialect === 'mssql' ? sql`datetime2(3)` : sql`text`;
  await db.schema
    .createTable('sign_in_attempts')
    .addColumn('id', 'integer', (c) => (dialect === 'mssql' ? c.identity().primaryKey() : c.primaryKey().autoIncrement()))
    // `account:corp\alice` or `address:10.1.2.3`; lower-cased by the app, compared byte for byte.
    .addColumn('subject', dialect === 'mssql' ? sql`nvarchar(400) collate Latin1_General_100_BIN2` : sql`text`, (c) => c.notNull())
    .addColumn('attempted_at', ts, (c) => c.notNull())
    .execute();
  await db.schema.createIndex('sign_in_attempts_subject_idx').on('sign_in_attempts').columns(['subject', 'id']).execute();
  await db.schema.createIndex('sign_in_attempts_at_idx').on('sign_in_attempts').column('attempted_at').execute();
}
