import Sqlite from 'better-sqlite3';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseMigrateArgs } from '../../../app/cli/migrate';
import { openDatabase, type Database } from '../../../app/db/database';
import { assertSchemaCurrent, migrateToLatest, migrationScript, pendingMigrations } from '../../../app/db/migrate';

// Every migration file in app/db/migrations, in order: each must be registered and run.
const ALL = readdirSync(path.resolve(__dirname, '../../../app/db/migrations'))
  .filter((f) => /^\d{3}_.*\.ts$/.test(f))
  .map((f) => f.replace(/\.ts$/, ''))
  .sort();

describe('migrations', () => {
  let dir: string;
  const opened: Database[] = [];
  const open = (name: string) => {
    const d = openDatabase(`sqlite:${path.join(dir, name)}`);
    opened.push(d);
    return d;
  };
  beforeEach(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'deskside-migrate-'));
  });
  afterEach(async () => {
    await Promise.all(opened.splice(0).map((d) => d.close()));
    rmSync(dir, { recursive: true, force: true });
  });

  test('when DESKSIDE_MIGRATE_ON_START=false meets an empty database, then the start-up check fails naming the pending migrations and what to run', async () => {
    const d = open('empty.db');
    expect(await pendingMigrations(d.db, d.dialect)).toEqual(ALL);
    await expect(assertSchemaCurrent(d.db, d.dialect)).rejects.toThrow(new RegExp(`not current: ${ALL.length} migrations not applied \\(${ALL.join(', ')}\\).*npm run migrate.*--print`));
    // Checking changed nothing.
    expect(await pendingMigrations(d.db, d.dialect)).toEqual(ALL);
  });

  test('when migrations have run, then the check passes and running them again does nothing', async () => {
    const d = open('m.db');
    expect(await migrateToLatest(d.db, d.dialect)).toEqual(ALL);
    await expect(assertSchemaCurrent(d.db, d.dialect)).resolves.toBeUndefined();
    expect(await migrateToLatest(d.db, d.dialect)).toEqual([]);
  });

  test('when a DBA runs the printed SQLite script by hand, then the app sees a current schema with the starting categories', async () => {
    const script = await migrationScript('sqlite');
    const native = new Sqlite(path.join(dir, 'by-hand.db'));
    native.exec(script);
    native.close();
    const d = open('by-hand.db');
    expect(await pendingMigrations(d.db, d.dialect)).toEqual([]);
    const cats = await d.db.selectFrom('categories').select('name').orderBy('sort_order').execute();
    expect(cats.map((c) => c.name)).toEqual(['Hardware', 'Software', 'Accounts & access', 'Email & calendar', 'Network & VPN', 'Printing', 'New starter / leaver', 'Other']);
    expect(await migrateToLatest(d.db, d.dialect)).toEqual([]);
  });

  test('when --after names the last migration, then the script has nothing to apply; an unknown name is refused', async () => {
    const last = ALL[ALL.length - 1];
    expect(await migrationScript('mssql', { after: last })).toMatch(new RegExp(`Applies: \\(nothing: no migrations after ${last}\\)\\.[\\s\\S]*BEGIN TRANSACTION;\\nCOMMIT TRANSACTION;`));
    expect(await migrationScript('mssql', { after: '001_initial' })).toMatch(new RegExp(`Applies: ${ALL.slice(1).join(', ')}\\.`));
    await expect(migrationScript('mssql', { after: '000_nope' })).rejects.toThrow(/no such migration; known: 001_initial, 002_sign_in_attempts/);
  });
});

describe('npm run migrate arguments', () => {
  test('when flags are given, then apply, print (with dialect and after) and status are told apart and mistakes are refused', () => {
    expect(parseMigrateArgs([])).toEqual({ mode: 'apply' });
    expect(parseMigrateArgs(['--print', '--dialect', 'mssql'])).toEqual({ mode: 'print', dialect: 'mssql' });
    expect(parseMigrateArgs(['--print', '--after=001_initial'])).toEqual({ mode: 'print', after: '001_initial' });
    expect(parseMigrateArgs(['--status'])).toEqual({ mode: 'status' });
    expect(() => parseMigrateArgs(['--dialect', 'oracle', '--print'])).toThrow(/--dialect must be mssql or sqlite/);
    expect(() => parseMigrateArgs(['--dialect', 'mssql'])).toThrow(/go with --print/);
    expect(() => parseMigrateArgs(['--force'])).toThrow(/unknown option --force/);
  });
});
