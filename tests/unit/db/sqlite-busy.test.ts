import Sqlite from 'better-sqlite3';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { sql } from 'kysely';
import { openDatabase, type Database } from '../../../app/db/database';
import { migrateToLatest } from '../../../app/db/migrate';
import { retryBusy } from '../../../app/db/retry';

/** Another process holding SQLite's write lock, as a second iisnode process would. */
describe('SQLite behind another writer', () => {
  let dir: string;
  let file: string;
  let database: Database;
  let other: Sqlite.Database;
  beforeEach(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'deskside-busy-'));
    file = path.join(dir, 'busy.db');
    database = openDatabase(`sqlite:${file}`, { writeBudgetMs: 3000 });
    await migrateToLatest(database.db, database.dialect);
    other = new Sqlite(file);
  });
  afterEach(async () => {
    if (other.inTransaction) other.exec('rollback');
    other.close();
    await database.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const countPeople = async () => Number((await sql<{ n: number }>`select count(*) as n from people`.execute(database.db)).rows[0].n);
  const holdLockFor = (ms: number) => {
    other.exec('begin immediate');
    setTimeout(() => other.exec('commit'), ms);
  };

  test('when a write transaction finds the lock taken, then it waits and succeeds once it is free', async () => {
    holdLockFor(400);
    await database.write((trx) =>
      trx.insertInto('people').values({ login: 'CORP\\w', login_key: 'corp\\w', display_name: null, email: null, department: null, title: null, is_agent: 0, created_at: 'x', updated_at: 'x' }).execute(),
    );
    expect(await countPeople()).toBe(1);
  });

  test('when a single statement outside a transaction finds the lock taken, then it waits too', async () => {
    holdLockFor(300);
    await database.db.insertInto('people').values({ login: 'CORP\\s', login_key: 'corp\\s', display_name: null, email: null, department: null, title: null, is_agent: 0, created_at: 'x', updated_at: 'x' }).execute();
    expect(await countPeople()).toBe(1);
  });

  test('when the lock is held past the budget, then the write fails as busy and nothing is half-written', async () => {
    other.exec('begin immediate');
    const short = openDatabase(`sqlite:${file}`, { writeBudgetMs: 200 });
    try {
      await expect(
        short.write(async (trx) => {
          await trx.insertInto('people').values({ login: 'CORP\\x', login_key: 'corp\\x', display_name: null, email: null, department: null, title: null, is_agent: 0, created_at: 'x', updated_at: 'x' }).execute();
        }),
      ).rejects.toMatchObject({ code: expect.stringMatching(/^SQLITE_BUSY/) });
    } finally {
      other.exec('rollback');
      await short.close();
    }
    expect(await countPeople()).toBe(0);
  });

  test('when the lock is held, then reads still answer (WAL)', async () => {
    other.exec('begin immediate');
    expect(await countPeople()).toBe(0);
  });
});

describe('retryBusy', () => {
  test('when the error is not "busy", then it is not retried', async () => {
    let calls = 0;
    await expect(
      retryBusy(
        async () => {
          calls++;
          throw Object.assign(new Error('constraint'), { code: 'SQLITE_CONSTRAINT_UNIQUE' });
        },
        { budgetMs: 1000 },
      ),
    ).rejects.toThrow('constraint');
    expect(calls).toBe(1);
  });

  test('when busy clears, then the result of the successful try is returned', async () => {
    let calls = 0;
    const slept: number[] = [];
    const value = await retryBusy(
      async () => {
        if (++calls < 4) throw Object.assign(new Error('busy'), { code: 'SQLITE_BUSY' });
        return 'done';
      },
      { budgetMs: 1000, sleep: async (ms) => void slept.push(ms), random: () => 0.5 },
    );
    expect(value).toBe('done');
    expect(calls).toBe(4);
    expect(slept).toEqual([10, 20, 40]);
  });
});
