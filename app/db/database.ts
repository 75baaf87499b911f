import Sqlite from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { Kysely, sql, type Transaction } from 'kysely';
import { DesksideSqliteDialect, withStatementCache, type DialectName } from './dialect';
import type { DB } from './schema';

export const APP_ROOT = path.resolve(__dirname, '..', '..');

export interface Database {
  db: Kysely<DB>;
  dialect: DialectName;
  /** Where the data lives, for logs and /healthz (never includes a password). */
  describe: string;
  /** Run fn in a write transaction that waits its turn behind other writers. */
  write<T>(fn: (trx: Transaction<DB>) => Promise<T>): Promise<T>;
  ping(): Promise<void>;
  close(): Promise<void>;
  /**
   * Changes whenever anything is committed, by this process or another; equal stamps mean
   * nothing changed in between. Optional: a database that cannot tell cheaply leaves it out
   * and callers must not reuse answers as exact.
   */
  changeStamp?(): string;
}

export class DatabaseConfigError extends Error {}

export function sqlitePathFrom(url: string, root = APP_ROOT): string {
  const raw = url.replace(/^sqlite:/i, '');
  if (raw === ':memory:') return raw;
  return path.isAbsolute(raw) ? raw : path.resolve(root, raw);
}

/** Open the database named by DESKSIDE_DATABASE. No I/O happens before this is called. */
export function openDatabase(url: string, opts: { busyTimeoutMs?: number } = {}): Database {
  if (!/^sqlite:/i.test(url)) throw new DatabaseConfigError(`DESKSIDE_DATABASE: unsupported database "${url.split(':')[0]}"`);
  const file = sqlitePathFrom(url);
  if (file !== ':memory:') mkdirSync(path.dirname(file), { recursive: true });
  const native = new Sqlite(file);
  // WAL lets readers carry on while one process writes; the busy timeout makes a second
  // writer (another iisnode process) wait instead of failing with "database is locked".
  native.pragma('journal_mode = WAL');
  native.pragma(`busy_timeout = ${opts.busyTimeoutMs ?? 5000}`);
  native.pragma('synchronous = NORMAL');
  native.pragma('foreign_keys = ON');
  const db = new Kysely<DB>({ dialect: new DesksideSqliteDialect({ database: withStatementCache(native) }) });
  // data_version moves when another connection (another iisnode process) commits;
  // total_changes counts this connection's own writes.
  const stampQuery = native.prepare<[], { t: number; d: number }>('select total_changes() as t, data_version as d from pragma_data_version');
  return {
    db,
    dialect: 'sqlite',
    describe: `sqlite:${file}`,
    write: (fn) => db.transaction().execute(fn),
    async ping() {
      await sql`select 1`.execute(db);
    },
    async close() {
      await db.destroy();
    },
    changeStamp() {
      const r = stampQuery.get()!;
      return `${r.d}:${r.t}`;
    },
  };
}
