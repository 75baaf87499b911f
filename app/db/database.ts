import Sqlite from 'better-sqlite3';
import { closeSync, mkdirSync, openSync } from 'node:fs';
import path from 'node:path';
import { Kysely, sql, type Transaction } from 'kysely';
import { DatabaseConfigError, describeTarget, parseDatabaseUrl, type DatabaseTarget, type MssqlTarget } from './connection-string';
import { DesksideSqliteDialect, withStatementCache, type DialectName } from './dialect';
import { DesksideMssqlDialect, loadMssqlModule, mssqlPoolConfig, MssqlPoolDriver, type MssqlModule } from './mssql-driver';
import { retryBusy, retryDeadlocks } from './retry';
import type { DB } from './schema';
import { APP_ROOT } from '../paths';

export { DatabaseConfigError } from './connection-string';


export interface Database {
  db: Kysely<DB>;
  dialect: DialectName;
  /** Where the data lives, for logs and /healthz (never includes a password). */
  describe: string;
  /**
   * Run fn in a write transaction that waits its turn behind other writers. On SQL
   * Server a transaction chosen as deadlock victim is run again (a bounded number of
   * times), so fn must not have effects outside the transaction.
   */
  write<T>(fn: (trx: Transaction<DB>) => Promise<T>): Promise<T>;
  ping(): Promise<void>;
  close(): Promise<void>;
  /**
   * Changes whenever anything is committed, by this process or another; equal stamps mean
   * nothing changed in between. Optional: a database that cannot tell cheaply leaves it out
   * and callers must not reuse answers as exact.
   */
  changeStamp?(): string;
  /**
   * Look again for other processes' commits, at the start of every request: changeStamp()
   * asks SQLite about them at most once per turn of the event loop otherwise (own writes
   * always count at once). Optional, with changeStamp.
   */
  lookForChanges?(): void;
  /**
   * Insert many rows into one table inside the caller's write transaction, as fast as the
   * engine allows (SQLite: one reused prepared statement per row, no query building).
   * Optional: callers fall back to multi-row inserts through Kysely.
   */
  bulkInsert?(table: string, rows: Record<string, unknown>[]): void;
  /**
   * Run a large load into these tables with their secondary indexes and triggers set
   * aside, then rebuild them once (sorting beats a million random index inserts), and
   * the ticket text index from scratch. Optional; only for loads into empty tables: if
   * the process dies midway the tables are left without indexes until reseeded.
   */
  bulkLoad?<T>(tables: string[], fn: () => Promise<T>): Promise<T>;
}

export interface OpenOptions {
  /** SQLite: how long one statement may block this process waiting for a lock. */
  busyTimeoutMs?: number;
  /** SQLite: how long a write keeps retrying (asynchronously) behind another process's writer. */
  writeBudgetMs?: number;
  /** SQL Server: most connections this process keeps (DESKSIDE_DATABASE_POOL_SIZE). */
  poolSize?: number;
  /** SQL Server: longest a single statement may run (DESKSIDE_DATABASE_REQUEST_TIMEOUT). */
  requestTimeoutMs?: number;
  /** SQL Server: total tries of a write transaction that keeps losing deadlocks. */
  deadlockAttempts?: number;
  /** SQL Server: the mssql module to use instead of loading one (tests pass a fake). */
  mssqlModule?: MssqlModule;
  /** SQLite: page cache in MB for this connection (bulk loads ask for a large one). */
  cacheMb?: number;
}

/**
 * Tickets are private: on POSIX systems the data folder and a new database file are
 * created readable by their owner only. SQLite gives the -wal and -shm files the
 * database file's permissions. (On Windows the folder's ACL decides; the install script
 * grants the app pool alone.)
 */
function createPrivately(file: string): void {
  const posix = process.platform !== 'win32';
  mkdirSync(path.dirname(file), { recursive: true, ...(posix ? { mode: 0o700 } : {}) });
  if (posix) closeSync(openSync(file, 'a', 0o600));
}

export function sqlitePathFrom(url: string, root = APP_ROOT): string {
  const raw = url.replace(/^sqlite:/i, '');
  if (raw === ':memory:') return raw;
  return path.isAbsolute(raw) ? raw : path.resolve(root, raw);
}

/**
 * Open the database named by DESKSIDE_DATABASE. No I/O happens before this is called;
 * for SQL Server the pool connects on the first query (server.ts pings at start).
 */
export function openDatabase(url: string, opts: OpenOptions = {}): Database {
  let target;
  try {
    target = parseDatabaseUrl(url);
  } catch (err) {
    if (err instanceof DatabaseConfigError) throw new DatabaseConfigError(`DESKSIDE_DATABASE ${err.message}`);
    throw err;
  }
  return openTarget(target, opts);
}

/** openDatabase for an already parsed target (the SQL Server test suite points it at a database it creates). */
export function openTarget(target: DatabaseTarget, opts: OpenOptions = {}): Database {
  if (target.kind === 'mssql') return openMssql(target, opts);
  const file = sqlitePathFrom(`sqlite:${target.path}`);
  if (file !== ':memory:') createPrivately(file);
  const native = new Sqlite(file);
  // WAL lets readers carry on while one process writes. A second writer (another iisnode
  // process) waits: briefly inside SQLite (which blocks this process's event loop), then
  // asynchronously in retryBusy, so a person never sees "database is locked".
  native.pragma('journal_mode = WAL');
  native.pragma(`busy_timeout = ${opts.busyTimeoutMs ?? 100}`);
  native.pragma('synchronous = NORMAL');
  native.pragma('foreign_keys = ON');
  // Page cache per connection: 8 MB (better-sqlite3 builds SQLite with 16 MB, which writes
  // at a million tickets fill, adding to each process's memory; pages read again come from
  // the OS's file cache, and list pages are mostly answered from TicketReadCache). Bulk loads
  // ask for more, so index pages stay in memory instead of being re-read for every insert.
  native.pragma(`cache_size = -${Math.round((opts.cacheMb ?? 8) * 1024)}`);
  const db = new Kysely<DB>({ dialect: new DesksideSqliteDialect({ database: withStatementCache(native) }) });
  // data_version moves when another connection (another iisnode process) commits;
  // total_changes counts this connection's own writes. Asking for data_version opens a read
  // transaction (a few microseconds, and a page asks ten times), so it is read once per
  // request (lookForChanges, at its start: nothing committed before the request was sent
  // is missed) and reused until this turn of the event loop ends, so work outside requests
  // never sees an older one. total_changes costs nothing and is read every time, so this
  // process's own writes move the stamp at once, even within a request.
  const otherCommits = native.prepare<[], number>('pragma data_version').pluck();
  const ownChanges = native.prepare<[], number>('select total_changes()').pluck();
  let seen: number | undefined;
  let forgetting = false;
  const forget = () => {
    seen = undefined;
    forgetting = false;
  };
  const readOtherCommits = (): number => {
    seen = otherCommits.get()!;
    if (!forgetting) {
      forgetting = true;
      setImmediate(forget);
    }
    return seen;
  };
  const inserts = new Map<string, Sqlite.Statement>();
  return {
    db,
    dialect: 'sqlite',
    describe: `sqlite:${file}`,
    write: (fn) => retryBusy(() => db.transaction().execute(fn), { budgetMs: opts.writeBudgetMs ?? 5000 }),
    async ping() {
      await sql`select 1`.execute(db);
      // Readers never wait in WAL mode, so also take (and release) the write lock: a
      // database that cannot be written is not healthy. Bounded well under a second.
      await retryBusy(() => db.transaction().execute(async () => undefined), { budgetMs: 600 });
    },
    async close() {
      await db.destroy();
    },
    bulkInsert(table, rows) {
      if (rows.length === 0) return;
      const columns = Object.keys(rows[0]);
      const key = `${table}(${columns.join(',')})`;
      let insert = inserts.get(key);
      if (!insert) {
        const quote = (name: string) => `"${name.replace(/"/g, '""')}"`;
        insert = native.prepare(`insert into ${quote(table)} (${columns.map(quote).join(', ')}) values (${columns.map((c) => `@${c}`).join(', ')})`);
        inserts.set(key, insert);
      }
      for (const row of rows) insert.run(row);
    },
    async bulkLoad(tables, fn) {
      const held = native
        .prepare(`select type, name, sql from sqlite_master where type in ('index', 'trigger') and sql is not null and tbl_name in (${tables.map(() => '?').join(', ')})`)
        .all(...tables) as { type: 'index' | 'trigger'; name: string; sql: string }[];
      for (const o of held) native.exec(`drop ${o.type} "${o.name.replace(/"/g, '""')}"`);
      try {
        return await fn();
      } finally {
        // Let SQLite's sorter use a helper thread per extra core while building indexes.
        native.pragma('threads = 4');
        native.transaction(() => {
          for (const o of held) native.exec(o.sql);
          // The text index follows the tickets table through triggers; rebuild it in one go.
          if (tables.includes('tickets')) native.exec(`insert into tickets_fts(tickets_fts) values ('rebuild')`);
        })();
      }
    },
    changeStamp() {
      return `${seen ?? readOtherCommits()}:${ownChanges.get()!}`;
    },
    lookForChanges() {
      // A closed database is reported by the request's own queries (503), not from here.
      if (native.open) readOtherCommits();
    },
  };
}

function openMssql(target: MssqlTarget, opts: OpenOptions): Database {
  const mod = opts.mssqlModule ?? loadMssqlModule(target);
  const config = mssqlPoolConfig(target, { poolSize: opts.poolSize ?? 10, requestTimeoutMs: opts.requestTimeoutMs ?? 30_000 });
  const db = new Kysely<DB>({ dialect: new DesksideMssqlDialect(() => new MssqlPoolDriver(mod, config)) });
  return {
    db,
    dialect: 'mssql',
    describe: describeTarget(target),
    write: (fn) => retryDeadlocks(() => db.transaction().execute(fn), { attempts: opts.deadlockAttempts ?? 3 }),
    async ping() {
      await sql`select 1 as ok`.execute(db);
    },
    async close() {
      await db.destroy();
    },
  };
}
