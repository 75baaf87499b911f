/**
 * The data contract on a real SQL Server: `DESKSIDE_TEST_MSSQL="<connection string>"
 * npm run test:mssql`. The login needs CREATE DATABASE (dbcreator): the suite creates
 * deskside_test_<random>, runs every case there and drops it, leaving the server as found.
 * Without the variable it is skipped in `npm test` and fails under `npm run test:mssql`.
 */
import { randomBytes } from 'node:crypto';
import { sql } from 'kysely';
import { parseDatabaseUrl, type MssqlTarget } from '../../app/db/connection-string';
import { openTarget } from '../../app/db/database';
import { dataContract } from '../support/data-contract';

const connection = process.env.DESKSIDE_TEST_MSSQL?.trim();

if (!connection) {
  if (process.env.npm_lifecycle_event === 'test:mssql') {
    throw new Error('DESKSIDE_TEST_MSSQL is not set: give a SQL Server connection string whose login may CREATE DATABASE, e.g. DESKSIDE_TEST_MSSQL="Server=tcp:sql01,1433;Database=master;User Id=…;Password=…;TrustServerCertificate=True"');
  }
  describe('data contract on SQL Server', () => {
    test.skip('skipped: set DESKSIDE_TEST_MSSQL to a SQL Server connection string and run npm run test:mssql', () => undefined);
  });
} else {
  const server = parseDatabaseUrl(connection);
  if (server.kind !== 'mssql') throw new Error('DESKSIDE_TEST_MSSQL must name a SQL Server (mssql://… or Server=…;…)');
  dataContract(`SQL Server (${server.server})`, async () => {
    const name = `deskside_test_${randomBytes(5).toString('hex')}`;
    const admin = openTarget(server, { poolSize: 2 });
    await sql`create database ${sql.id(name)}`.execute(admin.db);
    // What the README recommends for production: readers never wait for writers.
    await sql`alter database ${sql.id(name)} set read_committed_snapshot on with rollback immediate`.execute(admin.db);
    const target: MssqlTarget = { ...server, database: name };
    const database = openTarget(target, { poolSize: 6, requestTimeoutMs: 30_000 });
    return {
      database,
      async dispose() {
        await database.close();
        await sql`alter database ${sql.id(name)} set single_user with rollback immediate`.execute(admin.db);
        await sql`drop database ${sql.id(name)}`.execute(admin.db);
        await admin.close();
      },
    };
  });
}
