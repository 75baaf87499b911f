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

export class DatabaseConfigError extends Error {}

export function sqlitePathFrom(url: string, root = APP_ROOT): string {
  const raw = url.replace(/^sqlite:/i, '');
  if (raw === ':memory:') return raw;
  return path.isAbsolute(raw) ? raw : path.resolve(root, raw);
}

/** Open the database named by DESKSIDE_DATABASE. No I/O happens before this is called. */
export function openDatabase(url: string, opts: { busyTimeoutMs?: number; cacheMb?: number } = {}): Database {
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
  // Page cache per connection (better-sqlite3 builds SQLite with 16 MB). Bulk loads ask for more, so
  // index pages stay in memory instead of being re-read for every insert.
  if (opts.cacheMb) native.pragma(`cache_size = -${Math.round(opts.cacheMb * 1024)}`);
  const db = new Kysely<DB>({ dialect: new DesksideSqliteDialect({ database: withStatementCache(native) }) });
  // data_version moves when another connection (another iisnode process) commits;
  // total_changes counts this connection's own writes.
  const stampQuery = native.prepare<[], { t: number; d: number }>('select total_changes() as t, data_version as d from pragma_data_version');
  const inserts = new Map<string, Sqlite.Statement>();
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
      const r = stampQuery.get()!;
      return `${r.d}:${r.t}`;
    },
  };
}
