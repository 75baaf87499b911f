import { Migrator, sql, type Kysely, type Migration, type MigrationProvider, type MigrationResultSet } from 'kysely';
import { compileOnly, inlineParameters } from './compile-only';
import type { DialectName } from './dialect';
import * as m001 from './migrations/001_initial';
import * as m002 from './migrations/002_sign_in_attempts';
import * as m003 from './migrations/003_known_issues';
import * as m005a from './migrations/005_attachments';
import * as m005w from './migrations/005_worker_leases';
import * as m006 from './migrations/006_mail';
import * as m007 from './migrations/007_workbench';
import * as m008 from './migrations/008_teams_service_levels';
import * as m009 from './migrations/009_api';

type DialectMigration = { up(db: Kysely<unknown>, dialect: DialectName): Promise<void> };

/**
 * Every migration, in order. Names sort lexically; never rename or edit a released one.
 * SQL Server runs a printed script as one batch, so a migration that must start a new
 * batch (CREATE VIEW/TRIGGER, or using a column added earlier in the same migration)
 * wraps that statement in `exec(N'…')`.
 */
const MIGRATIONS: Record<string, DialectMigration> = {
  '001_initial': m001,
  '002_sign_in_attempts': m002,
  '003_known_issues': m003,
  '005_attachments': m005a,
  '005_worker_leases': m005w,
  '006_mail': m006,
  '007_workbench': m007,
  '008_teams_service_levels': m008,
  '009_api': m009,
};

export const MIGRATION_TABLE = 'deskside_migrations';
export const MIGRATION_LOCK_TABLE = 'deskside_migrations_lock';
/** The sp_getapplock resource every Deskside process on one database agrees on. */
const MSSQL_LOCK_RESOURCE = 'deskside_migrations';

class InCodeProvider implements MigrationProvider {
  constructor(
    private readonly dialect: DialectName,
    private readonly only?: (name: string) => boolean,
  ) {}
  async getMigrations(): Promise<Record<string, Migration>> {
    const out: Record<string, Migration> = {};
    for (const [name, mig] of Object.entries(MIGRATIONS)) {
      if (this.only && !this.only(name)) continue;
      out[name] = { up: (db) => mig.up(db, this.dialect) };
    }
    return out;
  }
}

export class MigrationError extends Error {}

function migrator(db: Kysely<any>, dialect: DialectName): Migrator {
  return new Migrator({ db, provider: new InCodeProvider(dialect), migrationTableName: MIGRATION_TABLE, migrationLockTableName: MIGRATION_LOCK_TABLE });
}

/**
 * Bring the schema up to date. Forward-only: there is no "down".
 *
 * Several processes (iisnode runs several per server, and a farm has several servers)
 * may start at once. SQLite serialises them with BEGIN IMMEDIATE. On SQL Server one
 * process takes an exclusive application lock (sp_getapplock, owned by a transaction
 * on its own connection, return code checked) and the others wait for it, then find
 * nothing left to do. This needs no rights beyond those migrations need anyway.
 */
export async function migrateToLatest(db: Kysely<any>, dialect: DialectName, opts: { lockTimeoutMs?: number } = {}): Promise<string[]> {
  const run = async () => {
    const result: MigrationResultSet = await migrator(db, dialect).migrateToLatest();
    if (result.error) {
      const failed = result.results?.find((r) => r.status === 'Error')?.migrationName ?? 'unknown';
      throw new MigrationError(`database migration ${failed} failed: ${result.error instanceof Error ? result.error.message : JSON.stringify(result.error)}`);
    }
    return (result.results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName);
  };
  if (dialect !== 'mssql') return run();
  const timeout = Math.max(1000, opts.lockTimeoutMs ?? 60_000);
  return db.transaction().execute(async (lock) => {
    const got = await sql<{ status: number }>`declare @status int;
exec @status = sp_getapplock @Resource = ${sql.lit(MSSQL_LOCK_RESOURCE)}, @LockMode = 'Exclusive', @LockOwner = 'Transaction', @LockTimeout = ${sql.lit(timeout)};
select @status as status`.execute(lock);
    const status = Number(got.rows[0]?.status ?? -999);
    // 0: granted at once, 1: granted after waiting; negative: timeout, deadlock, refused.
    if (status < 0) throw new MigrationError(`could not take the migration lock (sp_getapplock returned ${status}); another process may be stuck migrating`);
    return run();
  });
}

/** Migrations the database has not run yet, in order. Reads only; creates nothing. */
export async function pendingMigrations(db: Kysely<any>, dialect: DialectName): Promise<string[]> {
  const all = await migrator(db, dialect).getMigrations();
  return all.filter((m) => !m.executedAt).map((m) => m.name);
}

/**
 * With DESKSIDE_MIGRATE_ON_START=false a DBA owns schema changes; starting against a
 * schema that is behind would fail later, on some request, in a confusing way.
 */
export async function assertSchemaCurrent(db: Kysely<any>, dialect: DialectName): Promise<void> {
  const pending = await pendingMigrations(db, dialect);
  if (pending.length) {
    throw new MigrationError(
      `the database schema is not current: ${pending.length} migration${pending.length === 1 ? '' : 's'} not applied (${pending.join(', ')}). ` +
        'DESKSIDE_MIGRATE_ON_START=false, so Deskside will not change it: run `npm run migrate`, or have a DBA run the script from `npm run migrate -- --print`.',
    );
  }
}

export function migrationNames(): string[] {
  return Object.keys(MIGRATIONS).sort();
}

/**
 * The SQL that migrating an empty database (or, with `after`, one that has run every
 * migration up to and including `after`) would execute, compiled for `dialect` without
 * connecting anywhere: what `npm run migrate -- --print` shows a DBA. It includes the
 * bookkeeping tables and rows, so the app sees the schema as current afterwards.
 */
export async function migrationScript(dialect: DialectName, opts: { after?: string; now?: Date } = {}): Promise<string> {
  const names = migrationNames();
  if (opts.after !== undefined && !names.includes(opts.after)) throw new MigrationError(`--after ${opts.after}: no such migration; known: ${names.join(', ')}`);
  const todo = opts.after === undefined ? names : names.filter((n) => n > opts.after!);
  const rec = compileOnly(dialect);
  if (opts.after === undefined) {
    // The real Migrator against a database that answers "nothing here": exactly the
    // statements (and bookkeeping) a first start would run.
    const result = await migrator(rec.db, dialect).migrateToLatest();
    if (result.error) throw result.error instanceof Error ? result.error : new MigrationError(JSON.stringify(result.error));
  } else {
    for (const name of todo) {
      await MIGRATIONS[name].up(rec.db as Kysely<unknown>, dialect);
      await rec.db
        .insertInto(MIGRATION_TABLE as any)
        .values({ name, timestamp: (opts.now ?? new Date()).toISOString() } as never)
        .execute();
    }
  }
  const statements = rec.queries
    .filter((q) => !/^\s*(select|with)\b/i.test(q.sql) && !/sp_(get|release)applock/i.test(q.sql))
    .map((q) => inlineParameters(dialect, q).trim());
  const head = [
    `-- Deskside database migrations for ${dialect === 'mssql' ? 'SQL Server' : 'SQLite'}, from \`npm run migrate -- --print\`.`,
    `-- Applies: ${todo.length ? todo.join(', ') : '(nothing: no migrations after ' + opts.after + ')'}${opts.after === undefined ? ' (to an empty database)' : ''}.`,
  ];
  if (dialect === 'mssql') {
    return [
      ...head,
      '-- Run it as one batch in the Deskside database, e.g. sqlcmd -b -I -d Deskside -i deskside.sql',
      '-- (or in SSMS); any error rolls the whole script back.',
      'SET QUOTED_IDENTIFIER ON;',
      'SET ANSI_NULLS ON;',
      'SET XACT_ABORT ON;',
      'BEGIN TRANSACTION;',
      ...statements.map((s) => `${s};`),
      'COMMIT TRANSACTION;',
      '',
    ].join('\n');
  }
  return [...head, 'BEGIN IMMEDIATE;', ...statements.map((s) => `${s};`), 'COMMIT;', ''].join('\n');
}
