/**
 * The Kysely driver over mssql's ConnectionPool, driven through Database (openTarget)
 * with a stand-in for the mssql module that logs what reaches it. This checks our
 * plumbing (where statements go, transactions, retries, the migration lock); the
 * behaviour of a real server is for tests/mssql.
 */
import { parseDatabaseUrl, type MssqlTarget } from '../../../app/db/connection-string';
import { openDatabase, openTarget } from '../../../app/db/database';
import { migrateToLatest, migrationNames, MigrationError } from '../../../app/db/migrate';
import type { MssqlModule } from '../../../app/db/mssql-driver';
import { isDeadlockVictim, retryDeadlocks, sqlServerErrorNumber } from '../../../app/db/retry';

type Answer = { recordset?: Record<string, unknown>[]; rowsAffected?: number[] } | Error;

function fakeMssql(answer: (sqlText: string, params: unknown[], where: string) => Answer = () => ({ recordset: [], rowsAffected: [0] })) {
  const log: string[] = [];
  let seq = 0;
  class Req {
    params: unknown[] = [];
    types: unknown[] = [];
    constructor(private readonly where: string) {}
    input(_name: string, type: unknown, value: unknown) {
      this.types.push(type);
      this.params.push(value);
    }
    async query(text: string) {
      log.push(`${this.where}: ${text}${this.params.length ? ` [${this.params.map((p, i) => `${String(this.types[i])}:${String(p)}`).join(', ')}]` : ''}`);
      const r = answer(text, this.params, this.where);
      if (r instanceof Error) throw r;
      return r;
    }
  }
  class Pool {
    constructor(public readonly config: unknown) {}
    async connect() {
      log.push('connect');
    }
    async close() {
      log.push('close');
    }
    request() {
      return new Req('pool');
    }
    on() {
      return this;
    }
  }
  class Tx {
    id = ++seq;
    async begin(iso: number) {
      log.push(`begin tx${this.id} iso=${iso}`);
    }
    async commit() {
      log.push(`commit tx${this.id}`);
    }
    async rollback() {
      log.push(`rollback tx${this.id}`);
      // As mssql does after the server rolled back a deadlock victim.
      throw Object.assign(new Error('Transaction has been aborted.'), { code: 'EABORT' });
    }
    request() {
      return new Req(`tx${this.id}`);
    }
  }
  const mod = {
    ConnectionPool: Pool,
    Transaction: Tx,
    ISOLATION_LEVEL: { READ_UNCOMMITTED: 1, READ_COMMITTED: 2, REPEATABLE_READ: 3, SERIALIZABLE: 4, SNAPSHOT: 5 },
    NVarChar: (n: number) => (n === -1 ? 'nvarchar(max)' : `nvarchar(${n})`),
    MAX: -1,
    Int: 'int',
    BigInt: 'bigint',
    Float: 'float',
    Bit: 'bit',
    DateTime2: (s: number) => `datetime2(${s})`,
    VarBinary: (n: number) => `varbinary(${n})`,
  } as unknown as MssqlModule;
  return { mod, log };
}

const target = parseDatabaseUrl('mssql://deskside:pw@sql01/Deskside') as MssqlTarget;
const deadlock = () => Object.assign(new Error('Transaction (Process ID 61) was deadlocked on lock resources with another process and has been chosen as the deadlock victim. Rerun the transaction.'), { number: 1205 });

describe('the SQL Server driver', () => {
  test('when a query runs outside a transaction, then it goes to the pool with typed @1… parameters and its rows and counts come back', async () => {
    const { mod, log } = fakeMssql((text) => (/^select/.test(text) ? { recordset: [{ id: 5, login: 'CORP\\alice' }], rowsAffected: [1] } : { rowsAffected: [3] }));
    const database = openTarget(target, { mssqlModule: mod });
    const row = await database.db.selectFrom('people').select(['id', 'login']).where('login_key', '=', 'corp\\alice').where('id', '>', 2).executeTakeFirst();
    expect(row).toEqual({ id: 5, login: 'CORP\\alice' });
    const upd = await database.db.updateTable('people').set({ is_agent: 1 }).where('is_agent', '=', 0).executeTakeFirst();
    expect(upd.numUpdatedRows).toBe(3n);
    await database.close();
    expect(log).toEqual([
      'connect',
      'pool: select "id", "login" from "people" where "login_key" = @1 and "id" > @2 [nvarchar(4000):corp\\alice, int:2]',
      'pool: update "people" set "is_agent" = @1 where "is_agent" = @2 [int:1, int:0]',
      'close',
    ]);
    expect(database.describe).toBe('mssql://deskside@sql01:1433/Deskside?encrypt=true');
  });

  test('when a write transaction runs, then all its statements share one mssql Transaction at READ COMMITTED, which commits', async () => {
    const { mod, log } = fakeMssql(() => ({ recordset: [{ id: 9 }], rowsAffected: [1] }));
    const database = openTarget(target, { mssqlModule: mod });
    const id = await database.write(async (trx) => {
      const r = await trx.selectFrom('tickets').select('id').where('id', '=', 9).executeTakeFirstOrThrow();
      await trx.updateTable('tickets').set({ version: 2 }).where('id', '=', r.id).execute();
      return r.id;
    });
    expect(id).toBe(9);
    expect(log.slice(1)).toEqual(['begin tx1 iso=2', expect.stringMatching(/^tx1: select/), expect.stringMatching(/^tx1: update/), 'commit tx1']);
  });

  test('when SQL Server picks a write as deadlock victim, then it is run again from the start, and the error surfaces after the last try', async () => {
    let losses = 1;
    const { mod, log } = fakeMssql((text) => (/^update/.test(text) && losses-- > 0 ? deadlock() : { rowsAffected: [1] }));
    const database = openTarget(target, { mssqlModule: mod });
    let runs = 0;
    await database.write(async (trx) => {
      runs++;
      await trx.updateTable('tickets').set({ version: 2 }).where('id', '=', 1).execute();
    });
    expect(runs).toBe(2);
    expect(log.filter((l) => /^(begin|commit|rollback)/.test(l))).toEqual(['begin tx1 iso=2', 'rollback tx1', 'begin tx2 iso=2', 'commit tx2']);

    losses = 99;
    runs = 0;
    await expect(
      database.write(async (trx) => {
        runs++;
        await trx.updateTable('tickets').set({ version: 2 }).where('id', '=', 1).execute();
      }),
    ).rejects.toMatchObject({ number: 1205 });
    expect(runs).toBe(3);
  });

  test('when a write fails for another reason, then it is rolled back once and not retried', async () => {
    const { mod, log } = fakeMssql(() => Object.assign(new Error('Violation of UNIQUE KEY constraint'), { number: 2627 }));
    const database = openTarget(target, { mssqlModule: mod });
    let runs = 0;
    await expect(
      database.write(async (trx) => {
        runs++;
        await trx.insertInto('categories').values({ name: 'Hardware', description: null, sort_order: 1, active: 1, created_at: '2026-01-01T00:00:00.000Z' }).execute();
      }),
    ).rejects.toThrow(/UNIQUE KEY/);
    expect(runs).toBe(1);
    expect(log.filter((l) => /^(begin|commit|rollback)/.test(l))).toEqual(['begin tx1 iso=2', 'rollback tx1']);
  });

  test('when migrating, then an exclusive application lock is held in its own transaction around the whole Migrator run', async () => {
    const { mod, log } = fakeMssql((text) => (/sp_getapplock/.test(text) ? { recordset: [{ status: 1 }], rowsAffected: [] } : { recordset: [], rowsAffected: [0] }));
    const database = openTarget(target, { mssqlModule: mod });
    expect(await migrateToLatest(database.db, 'mssql', { lockTimeoutMs: 5000 })).toEqual(migrationNames());
    const lock = log.findIndex((l) => /^tx1: declare @status int;\nexec @status = sp_getapplock @Resource = 'deskside_migrations', @LockMode = 'Exclusive', @LockOwner = 'Transaction', @LockTimeout = 5000;\nselect @status as status$/.test(l));
    expect(lock).toBe(2);
    const createPeople = log.findIndex((l) => /^tx2: create table "people"/.test(l));
    const lockCommit = log.indexOf('commit tx1');
    expect(createPeople).toBeGreaterThan(lock);
    expect(log.indexOf('commit tx2')).toBeGreaterThan(createPeople);
    expect(lockCommit).toBeGreaterThan(log.indexOf('commit tx2'));
    // Kysely's own session lock (sp_getapplock as dbo, unchecked) is not used.
    expect(log.filter((l) => /sp_getapplock/.test(l))).toHaveLength(1);
  });

  test('when the migration lock cannot be had, then nothing is migrated and the error says why', async () => {
    const { mod, log } = fakeMssql((text) => (/sp_getapplock/.test(text) ? { recordset: [{ status: -1 }] } : { recordset: [], rowsAffected: [0] }));
    const database = openTarget(target, { mssqlModule: mod });
    await expect(migrateToLatest(database.db, 'mssql')).rejects.toThrow(MigrationError);
    expect(log.some((l) => /create table/.test(l))).toBe(false);
    expect(log).toContain('rollback tx1');
  });

  test('when SQL Server cannot be reached, then the real mssql/tedious stack reports the address and never the password', async () => {
    const database = openDatabase('Server=tcp:127.0.0.1,9;Database=Deskside;User Id=deskside;Password=Hunter2secret;Encrypt=False;Connect Timeout=3');
    let message = '';
    try {
      await database.ping();
    } catch (err) {
      message = (err as Error).message;
    }
    await database.close().catch(() => undefined);
    expect(message).toMatch(/127\.0\.0\.1.*9|ECONNREFUSED/);
    expect(message).not.toContain('Hunter2');
  });
});

describe('deadlock retry', () => {
  test('when the error number is nested the way mssql, tedious or msnodesqlv8 put it, then a deadlock is recognised', () => {
    expect(sqlServerErrorNumber({ number: 1205 })).toBe(1205);
    expect(sqlServerErrorNumber({ originalError: { info: { number: 1205 } } })).toBe(1205);
    expect(sqlServerErrorNumber({ cause: { number: 2627 } })).toBe(2627);
    expect(isDeadlockVictim(new Error('deadlock'))).toBe(false);
    expect(isDeadlockVictim({ originalError: { originalError: { number: 1205 } } })).toBe(true);
  });

  test('when retrying, then the waits grow and are jittered, and other errors are not retried', async () => {
    const waits: number[] = [];
    let n = 0;
    const result = await retryDeadlocks(
      async () => {
        if (++n < 4) throw deadlock();
        return 'done';
      },
      { attempts: 4, baseDelayMs: 100, random: () => 0.5, sleep: async (ms) => void waits.push(ms) },
    );
    expect(result).toBe('done');
    expect(waits).toEqual([100, 200, 400]);
    let calls = 0;
    await expect(
      retryDeadlocks(
        async () => {
          calls++;
          throw new Error('timeout');
        },
        { sleep: async () => undefined },
      ),
    ).rejects.toThrow('timeout');
    expect(calls).toBe(1);
  });
});
