import {
  Kysely,
  SqliteAdapter,
  SqliteIntrospector,
  SqliteQueryCompiler,
  type CompiledQuery,
  type DatabaseConnection,
  type Dialect,
  type Driver,
  type QueryResult,
} from 'kysely';
import type { Database } from './database';
import type { DialectName } from './dialect';
import { DesksideMssqlDialect } from './mssql-driver';
import type { DB } from './schema';

/**
 * A Kysely that compiles and records every query instead of sending it anywhere: how
 * `migrate --print` produces SQL for a DBA without a connection, and how the tests check
 * the SQL Server text of every real query function on a machine without SQL Server.
 */

export interface RecordedQuery {
  sql: string;
  parameters: readonly unknown[];
  /** true between begin and commit/rollback. */
  inTransaction: boolean;
}

/**
 * What the "database" answers to a query; no rows unless told otherwise. Writes count as
 * one affected row (or as many as the rows given) unless `affected` says otherwise.
 */
export type Responder = (query: CompiledQuery) => Record<string, unknown>[] | { rows: Record<string, unknown>[]; affected: number } | undefined;

class RecordingConnection implements DatabaseConnection {
  inTransaction = false;
  constructor(
    private readonly log: RecordedQuery[],
    private readonly respond: Responder,
  ) {}
  async executeQuery<R>(query: CompiledQuery): Promise<QueryResult<R>> {
    this.log.push({ sql: query.sql, parameters: query.parameters, inTransaction: this.inTransaction });
    const answer = this.respond(query) ?? [];
    const rows = (Array.isArray(answer) ? answer : answer.rows) as R[];
    return { rows, numAffectedRows: BigInt(Array.isArray(answer) ? rows.length || 1 : answer.affected) };
  }
  async *streamQuery<R>(query: CompiledQuery): AsyncIterableIterator<QueryResult<R>> {
    yield await this.executeQuery<R>(query);
  }
}

class RecordingDriver implements Driver {
  constructor(
    private readonly log: RecordedQuery[],
    private readonly respond: Responder,
  ) {}
  async init(): Promise<void> {}
  async acquireConnection(): Promise<DatabaseConnection> {
    return new RecordingConnection(this.log, this.respond);
  }
  async beginTransaction(c: DatabaseConnection): Promise<void> {
    (c as RecordingConnection).inTransaction = true;
  }
  async commitTransaction(c: DatabaseConnection): Promise<void> {
    (c as RecordingConnection).inTransaction = false;
  }
  async rollbackTransaction(c: DatabaseConnection): Promise<void> {
    (c as RecordingConnection).inTransaction = false;
  }
  async releaseConnection(): Promise<void> {}
  async destroy(): Promise<void> {}
}

function dialectFor(name: DialectName, driver: () => Driver): Dialect {
  if (name === 'mssql') return new DesksideMssqlDialect(driver);
  return {
    createAdapter: () => new SqliteAdapter(),
    createDriver: driver,
    createQueryCompiler: () => new SqliteQueryCompiler(),
    createIntrospector: (db) => new SqliteIntrospector(db),
  };
}

export interface CompileOnly {
  db: Kysely<DB>;
  /** A Database whose write() is a recorded transaction: services run unchanged against it. */
  database: Database;
  queries: RecordedQuery[];
}

export function compileOnly(dialect: DialectName, respond: Responder = () => undefined): CompileOnly {
  const queries: RecordedQuery[] = [];
  const db = new Kysely<DB>({ dialect: dialectFor(dialect, () => new RecordingDriver(queries, (q) => respond(q))) });
  const database: Database = {
    db,
    dialect,
    describe: `compile-only:${dialect}`,
    write: (fn) => db.transaction().execute(fn),
    async ping() {},
    async close() {
      await db.destroy();
    },
  };
  return { db, database, queries };
}

function literal(dialect: DialectName, v: unknown): string {
  if (v === null || v === undefined) return 'NULL';
  if (typeof v === 'number' || typeof v === 'bigint') return String(v);
  if (typeof v === 'boolean') return v ? '1' : '0';
  const s = v instanceof Date ? v.toISOString() : typeof v === 'string' ? v : JSON.stringify(v);
  return `${dialect === 'mssql' ? 'N' : ''}'${s.replace(/'/g, "''")}'`;
}

/**
 * The statement with its parameters written in as literals, for a script a person runs
 * by hand. Placeholders inside quoted text or identifiers are left alone.
 */
export function inlineParameters(dialect: DialectName, q: { sql: string; parameters: readonly unknown[] }): string {
  let out = '';
  let next = 0;
  const s = q.sql;
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (c === "'" || c === '"' || c === '[' || c === '`') {
      const close = c === '[' ? ']' : c;
      let j = i + 1;
      while (j < s.length && !(s[j] === close && s[j + 1] !== close)) j += s[j] === close ? 2 : 1;
      out += s.slice(i, j + 1);
      i = j;
    } else if (dialect === 'mssql' && c === '@' && /\d/.test(s[i + 1] ?? '')) {
      let j = i + 1;
      while (/\d/.test(s[j] ?? '')) j++;
      out += literal(dialect, q.parameters[Number(s.slice(i + 1, j)) - 1]);
      i = j - 1;
    } else if (dialect === 'sqlite' && c === '?') {
      out += literal(dialect, q.parameters[next++]);
    } else out += c;
  }
  return out;
}
