/**
 * `npm run migrate`: apply pending schema migrations to DESKSIDE_DATABASE and exit.
 * `npm run migrate -- --print [--dialect mssql|sqlite] [--after NAME]`: print the SQL
 * instead, without connecting, for a DBA to review and run (DESKSIDE_MIGRATE_ON_START=false).
 * `npm run migrate -- --status`: list pending migrations without changing anything.
 */
import { ConfigError, parseDatabaseConfig } from '../config/schema';
import { parseDatabaseUrl } from '../db/connection-string';
import { loadSettingsFiles } from '../compose';
import { openDatabase } from '../db/database';
import { DIALECT_NAMES, isDialectName, type DialectName } from '../db/dialect';
import { migrateToLatest, migrationScript, pendingMigrations } from '../db/migrate';

const USAGE = 'usage: npm run migrate [-- --print [--dialect mssql|sqlite] [--after NAME] | --status]';

export interface MigrateArgs {
  mode: 'apply' | 'print' | 'status';
  dialect?: DialectName;
  after?: string;
}

export function parseMigrateArgs(argv: string[]): MigrateArgs {
  const args: MigrateArgs = { mode: 'apply' };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const value = () => {
      const v = a.includes('=') ? a.slice(a.indexOf('=') + 1) : argv[++i];
      if (!v) throw new Error(`${a.split('=')[0]} needs a value; ${USAGE}`);
      return v;
    };
    if (a === '--print') args.mode = 'print';
    else if (a === '--status') args.mode = 'status';
    else if (a === '--dialect' || a.startsWith('--dialect=')) {
      const d = value().toLowerCase();
      if (!isDialectName(d)) throw new Error(`--dialect must be ${DIALECT_NAMES.join(' or ')}; ${USAGE}`);
      args.dialect = d;
    } else if (a === '--after' || a.startsWith('--after=')) args.after = value();
    else if (a === '--help' || a === '-h') throw new Error(USAGE);
    else throw new Error(`unknown option ${a}; ${USAGE}`);
  }
  if (args.mode !== 'print' && (args.dialect || args.after)) throw new Error(`--dialect and --after go with --print; ${USAGE}`);
  return args;
}

async function main(): Promise<void> {
  const args = parseMigrateArgs(process.argv.slice(2));
  loadSettingsFiles();
  if (args.mode === 'print' && args.dialect) {
    process.stdout.write(await migrationScript(args.dialect, { after: args.after }));
    return;
  }
  const settings = parseDatabaseConfig(process.env);
  if (args.mode === 'print') {
    const dialect: DialectName = parseDatabaseUrl(settings.database).kind;
    process.stdout.write(await migrationScript(dialect, { after: args.after }));
    return;
  }
  const database = openDatabase(settings.database, { poolSize: settings.databasePoolSize, requestTimeoutMs: settings.databaseRequestTimeoutMs });
  try {
    if (args.mode === 'status') {
      const pending = await pendingMigrations(database.db, database.dialect);
      process.stdout.write(pending.length ? `${database.describe}: pending ${pending.join(', ')}\n` : `${database.describe}: schema is current\n`);
      process.exitCode = pending.length ? 2 : 0;
      return;
    }
    const applied = await migrateToLatest(database.db, database.dialect, { lockTimeoutMs: settings.databaseRequestTimeoutMs - 1000 });
    process.stdout.write(applied.length ? `${database.describe}: applied ${applied.join(', ')}\n` : `${database.describe}: schema is current, nothing to do\n`);
  } finally {
    await database.close();
  }
}

if (require.main === module) {
  main().catch((err: unknown) => {
    process.stderr.write(`${err instanceof ConfigError ? err.message : `migrate failed: ${err instanceof Error ? err.message : String(err)}`}\n`);
    process.exit(1);
  });
}
