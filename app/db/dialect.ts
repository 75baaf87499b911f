import {
  CompiledQuery,
  SqliteAdapter,
  SqliteDialect,
  SqliteDriver,
  type DatabaseConnection,
  type Driver,
  type QueryResult,
  type SqliteDatabase,
  type SqliteDialectConfig,
  type SqliteStatement,
} from 'kysely';
import { retryBusy } from './retry';

/**
 * Everything that differs between the engines lives in app/db/. Feature code asks for a
 * named operation (text search, paging, upsert) and never looks at the dialect itself.
 */
export const DIALECT_NAMES = ['mssql', 'sqlite'] as const;
export type DialectName = (typeof DIALECT_NAMES)[number];

export function isDialectName(value: string): value is DialectName {
  return (DIALECT_NAMES as readonly string[]).includes(value);
}

/**
 * SQLite transactions start with BEGIN IMMEDIATE: a deferred transaction that reads and
 * then writes cannot wait for another process's writer (SQLITE_BUSY without the busy
 * timeout), which is exactly what several iisnode processes on one file would hit.
 */
class ImmediateSqliteDriver extends SqliteDriver {
  private readonly wrapped = new WeakMap<DatabaseConnection, BusyAwareConnection>();

  constructor(
    cfg: SqliteDialectConfig,
    private readonly autocommitBusyBudgetMs: number,
  ) {
    super(cfg);
  }

  override async acquireConnection(): Promise<DatabaseConnection> {
    const inner = await super.acquireConnection();
    let c = this.wrapped.get(inner);
    if (!c) {
      c = new BusyAwareConnection(inner, this.autocommitBusyBudgetMs);
      this.wrapped.set(inner, c);
    }
    return c;
  }

  override async beginTransaction(connection: DatabaseConnection): Promise<void> {
    // A busy BEGIN is retried by Database.write, which lets go of the connection between tries.
    await (connection as BusyAwareConnection).inner.executeQuery(CompiledQuery.raw('begin immediate'));
    (connection as BusyAwareConnection).inTransaction = true;
  }

  override async commitTransaction(connection: DatabaseConnection): Promise<void> {
    try {
      await (connection as BusyAwareConnection).inner.executeQuery(CompiledQuery.raw('commit'));
    } finally {
      (connection as BusyAwareConnection).inTransaction = false;
    }
  }

  override async rollbackTransaction(connection: DatabaseConnection): Promise<void> {
    try {
      await (connection as BusyAwareConnection).inner.executeQuery(CompiledQuery.raw('rollback'));
    } finally {
      (connection as BusyAwareConnection).inTransaction = false;
    }
  }
}

/**
 * A single statement outside a transaction (recording a sign-in, a person's new display
 * name) that finds another process writing waits for it asynchronously instead of
 * failing; statements inside a BEGIN IMMEDIATE transaction already hold the lock.
 */
class BusyAwareConnection implements DatabaseConnection {
  inTransaction = false;

  constructor(
    readonly inner: DatabaseConnection,
    private readonly budgetMs: number,
  ) {}

  executeQuery<R>(query: CompiledQuery): Promise<QueryResult<R>> {
    if (this.inTransaction) return this.inner.executeQuery<R>(query);
    return retryBusy(() => this.inner.executeQuery<R>(query), { budgetMs: this.budgetMs });
  }

  streamQuery<R>(query: CompiledQuery, chunkSize?: number): AsyncIterableIterator<QueryResult<R>> {
    return this.inner.streamQuery<R>(query, chunkSize);
  }
}

export class DesksideSqliteDialect extends SqliteDialect {
  constructor(
    private readonly cfg: SqliteDialectConfig,
    private readonly autocommitBusyBudgetMs = 2000,
  ) {
    super(cfg);
  }

  override createDriver(): Driver {
    return new ImmediateSqliteDriver(this.cfg, this.autocommitBusyBudgetMs);
  }

  override createAdapter(): SqliteAdapter {
    return new SqliteAdapter();
  }
}

/**
 * Kysely prepares every query afresh; SQLite's prepare (parse + plan) costs as much as
 * running a small indexed query. The app issues a few dozen distinct SQL strings, so
 * each prepared statement is kept and reused (better-sqlite3 statements are reusable and
 * every call is synchronous, so two requests never share one mid-flight).
 */
export function withStatementCache(database: SqliteDatabase, max = 500): SqliteDatabase {
  const cache = new Map<string, SqliteStatement>();
  return {
    close: () => database.close(),
    prepare(sql: string): SqliteStatement {
      let stmt = cache.get(sql);
      if (!stmt) {
        stmt = database.prepare(sql);
        if (cache.size >= max) cache.delete(cache.keys().next().value as string);
        cache.set(sql, stmt);
      }
      return stmt;
    },
  };
}
