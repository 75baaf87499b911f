import { CompiledQuery, SqliteAdapter, SqliteDialect, SqliteDriver, type DatabaseConnection, type Driver, type SqliteDatabase, type SqliteDialectConfig, type SqliteStatement } from 'kysely';

/**
 * Everything that differs between the engines lives in app/db/. Feature code asks for a
 * named operation (text search, paging, upsert) and never looks at the dialect itself.
 */
export type DialectName = 'sqlite' | 'mssql';

/**
 * SQLite transactions start with BEGIN IMMEDIATE: a deferred transaction that reads and
 * then writes cannot wait for another process's writer (SQLITE_BUSY without the busy
 * timeout), which is exactly what several iisnode processes on one file would hit.
 */
class ImmediateSqliteDriver extends SqliteDriver {
  override async beginTransaction(connection: DatabaseConnection): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw('begin immediate'));
  }
}

export class DesksideSqliteDialect extends SqliteDialect {
  constructor(private readonly cfg: SqliteDialectConfig) {
    super(cfg);
  }

  override createDriver(): Driver {
    return new ImmediateSqliteDriver(this.cfg);
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
