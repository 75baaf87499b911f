import Sqlite from 'better-sqlite3';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { openDatabase, type Database } from '../../../app/db/database';
import { migrateToLatest } from '../../../app/db/migrate';

/**
 * The change stamp every per-process memory is checked against (decision 0019): another
 * process's commit (here a second connection to the same file, as a second iisnode process
 * is) must move it by the next request, and this process's own writes at once.
 */
describe('the SQLite change stamp', () => {
  let dir: string;
  let database: Database;
  let other: Sqlite.Database;
  beforeEach(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'deskside-stamp-'));
    const file = path.join(dir, 'stamp.db');
    database = openDatabase(`sqlite:${file}`);
    await migrateToLatest(database.db, database.dialect);
    other = new Sqlite(file);
  });
  afterEach(async () => {
    other.close();
    await database.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const stamp = () => database.changeStamp!();
  const commitElsewhere = () => other.prepare(`insert into categories (name, sort_order, active, created_at) values (?, 1, 1, 'x')`).run(`c${Math.random()}`);
  const nextTurn = () => new Promise((resolve) => setImmediate(resolve));

  test('when another process commits, then a request starting afterwards (lookForChanges) sees a new stamp, even in the same turn of the event loop', () => {
    database.lookForChanges!();
    const before = stamp();
    commitElsewhere();
    expect(stamp()).toBe(before); // the same request: asked once
    database.lookForChanges!();
    expect(stamp()).not.toBe(before);
  });

  test('when another process commits, then work in a later turn of the event loop sees a new stamp without being told to look', async () => {
    const before = stamp();
    commitElsewhere();
    await nextTurn();
    expect(stamp()).not.toBe(before);
  });

  test("when this process writes, then the stamp moves at once, inside the same request", async () => {
    database.lookForChanges!();
    const before = stamp();
    await database.write((trx) => trx.insertInto('categories').values({ name: 'Printers', sort_order: 1, active: 1, created_at: 'x' }).execute());
    const after = stamp();
    expect(after).not.toBe(before);
    await database.write((trx) => trx.updateTable('categories').set({ sort_order: 2 }).where('name', '=', 'Printers').execute());
    expect(stamp()).not.toBe(after);
  });

  test('when nothing is committed anywhere, then the stamp stays the same across requests and turns', async () => {
    database.lookForChanges!();
    const before = stamp();
    await nextTurn();
    database.lookForChanges!();
    expect(stamp()).toBe(before);
  });
});
