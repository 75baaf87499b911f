import { CompiledQuery, SqliteAdapter, SqliteDialect, SqliteDriver, type DatabaseConnection, type Driver, type SqliteDialectConfig } from 'kysely';

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
