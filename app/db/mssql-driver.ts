import {
  CompiledQuery,
  MssqlAdapter,
  MssqlIntrospector,
  MssqlQueryCompiler,
  type DatabaseConnection,
  type DatabaseIntrospector,
  type Dialect,
  type DialectAdapter,
  type Driver,
  type Kysely,
  type QueryCompiler,
  type QueryResult,
  type TransactionSettings,
} from 'kysely';
import { DatabaseConfigError, DEFAULT_ODBC_DRIVER, type MssqlTarget } from './connection-string';

/**
 * A small Kysely driver over the `mssql` package's ConnectionPool (docs/decisions/
 * sql-server-through-mssql.md says why not Kysely's own tedious dialect): the same pool
 * API serves tedious (SQL logins) and msnodesqlv8 (Trusted_Connection, the app pool
 * identity), and mssql owns pooling, reconnects and error numbers.
 *
 * Contract with Kysely: queries outside a transaction may run on any pooled connection;
 * a transaction pins one connection (an mssql Transaction) from begin to commit or
 * rollback. Nothing in Deskside needs a pinned connection outside a transaction; the
 * migration lock, the one thing that did, is taken inside a transaction (db/migrate.ts).
 */

export interface MssqlPoolOptions {
  poolSize: number;
  requestTimeoutMs: number;
}

/**
 * The slice of the `mssql` package this driver uses. Declared here rather than taken from
 * @types/mssql, whose tedious typings need a newer @types/node than Node 20's.
 */
interface SqlType {
  readonly __sqlType?: never;
}
interface MssqlResult {
  recordset?: Record<string, unknown>[];
  rowsAffected?: number[];
}
export interface MssqlRequest {
  input(name: string, type: unknown, value: unknown): unknown;
  query(command: string): Promise<MssqlResult>;
}
interface MssqlTransaction {
  begin(isolationLevel?: number): Promise<unknown>;
  commit(): Promise<void>;
  rollback(): Promise<void>;
  request(): MssqlRequest;
}
interface MssqlConnectionPool {
  connect(): Promise<unknown>;
  close(): Promise<unknown>;
  request(): MssqlRequest;
  on(event: 'error', listener: (err: unknown) => void): unknown;
}
export interface MssqlConfig {
  server: string;
  port?: number;
  database: string;
  user?: string;
  password?: string;
  connectionString?: string;
  connectionTimeout?: number;
  requestTimeout?: number;
  pool?: { max: number; min: number; idleTimeoutMillis: number };
  authentication?: { type: 'ntlm'; options: { domain: string; userName: string; password: string } };
  options?: Record<string, unknown>;
}
export interface MssqlTypes {
  NVarChar(length: number): SqlType;
  MAX: number;
  Int: SqlType;
  BigInt: SqlType;
  Float: SqlType;
  Bit: SqlType;
  DateTime2(scale: number): SqlType;
  VarBinary(length: number): SqlType;
}
export interface MssqlModule extends MssqlTypes {
  ConnectionPool: new (config: MssqlConfig) => MssqlConnectionPool;
  Transaction: new (pool: MssqlConnectionPool) => MssqlTransaction;
  ISOLATION_LEVEL: Record<'READ_UNCOMMITTED' | 'READ_COMMITTED' | 'REPEATABLE_READ' | 'SERIALIZABLE' | 'SNAPSHOT', number>;
}

/**
 * tedious for SQL logins; mssql's msnodesqlv8 flavour (ODBC, the process's Windows
 * identity) for Trusted_Connection. The optional package is looked up only when asked for.
 */
export function loadMssqlModule(target: MssqlTarget, resolve: (id: string) => string = require.resolve): MssqlModule {
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- SQL Server's driver loads only when DESKSIDE_DATABASE names SQL Server
  if (target.auth.kind !== 'windows') return require('mssql') as MssqlModule;
  try {
    resolve('msnodesqlv8');
  } catch {
    throw new DatabaseConfigError(
      'Trusted_Connection=True needs the optional msnodesqlv8 package (Windows, with the Microsoft ODBC Driver 18 for SQL Server): run `npm install msnodesqlv8` in the app folder, or use a SQL login (User Id=…;Password=…)',
    );
  }
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- the optional ODBC flavour, present only where Trusted_Connection is used
  return require('mssql/msnodesqlv8') as MssqlModule;
}

function odbcValue(v: string): string {
  return /[;{}=\s]/.test(v) ? `{${v.replace(/}/g, '}}')}}` : v;
}

/** The mssql pool configuration for a parsed DESKSIDE_DATABASE (exported for tests). */
export function mssqlPoolConfig(target: MssqlTarget, opts: MssqlPoolOptions): MssqlConfig {
  const pool = { max: opts.poolSize, min: 0, idleTimeoutMillis: 30_000 };
  if (target.auth.kind === 'windows') {
    // msnodesqlv8 talks ODBC: give it a full ODBC connection string so the driver
    // version, encryption and failover settings are exactly what the admin wrote.
    const serverPart = target.instanceName ? `${target.server}\\${target.instanceName}${target.port ? `,${target.port}` : ''}` : `tcp:${target.server},${target.port ?? 1433}`;
    const parts = [
      `Driver={${target.odbcDriver ?? DEFAULT_ODBC_DRIVER}}`,
      `Server=${odbcValue(serverPart)}`,
      `Database=${odbcValue(target.database)}`,
      'Trusted_Connection=Yes',
      `Encrypt=${target.encrypt === 'strict' ? 'Strict' : target.encrypt ? 'Yes' : 'No'}`,
      `TrustServerCertificate=${target.trustServerCertificate ? 'Yes' : 'No'}`,
      `APP=${odbcValue(target.appName)}`,
    ];
    if (target.multiSubnetFailover) parts.push('MultiSubnetFailover=Yes');
    if (target.readOnlyIntent) parts.push('ApplicationIntent=ReadOnly');
    return {
      server: target.server,
      database: target.database,
      connectionString: `${parts.join(';')};`,
      connectionTimeout: target.connectTimeoutMs ?? 15_000,
      requestTimeout: opts.requestTimeoutMs,
      pool,
      options: { trustedConnection: true, useUTC: true },
    };
  }
  const cfg: MssqlConfig = {
    server: target.server,
    port: target.instanceName && !target.port ? undefined : target.port,
    database: target.database,
    connectionTimeout: target.connectTimeoutMs ?? 15_000,
    requestTimeout: opts.requestTimeoutMs,
    pool,
    options: {
      encrypt: target.encrypt,
      trustServerCertificate: target.trustServerCertificate,
      multiSubnetFailover: target.multiSubnetFailover,
      readOnlyIntent: target.readOnlyIntent,
      instanceName: target.instanceName,
      appName: target.appName,
      // datetime2 values are UTC on the way in (ISO strings) and out (Dates).
      useUTC: true,
      enableArithAbort: true,
    },
  };
  if (target.auth.kind === 'ntlm') {
    cfg.authentication = { type: 'ntlm', options: { domain: target.auth.domain, userName: target.auth.user, password: target.auth.password } };
  } else if (target.auth.kind === 'sql') {
    cfg.user = target.auth.user;
    cfg.password = target.auth.password;
  }
  return cfg;
}

const INT_MIN = -2147483648;
const INT_MAX = 2147483647;

/**
 * Bind one Kysely parameter (`@1`, `@2`, …) with a declared type rather than mssql's
 * guess: strings as NVARCHAR (4000, or MAX when longer, so plans are reused and Unicode
 * survives), integers as INT/BIGINT, Dates as DATETIME2 (mssql's default is DATETIME).
 */
export function bindParameter(request: Pick<MssqlRequest, 'input'>, mod: MssqlTypes, index: number, value: unknown): void {
  const name = String(index + 1);
  if (value === null || value === undefined) request.input(name, mod.NVarChar(4000), null);
  else if (typeof value === 'string') request.input(name, mod.NVarChar(value.length > 4000 ? mod.MAX : 4000), value);
  else if (typeof value === 'number') {
    if (Number.isInteger(value)) request.input(name, value >= INT_MIN && value <= INT_MAX ? mod.Int : mod.BigInt, value);
    else request.input(name, mod.Float, value);
  } else if (typeof value === 'bigint') request.input(name, mod.BigInt, value.toString());
  else if (typeof value === 'boolean') request.input(name, mod.Bit, value);
  else if (value instanceof Date) request.input(name, mod.DateTime2(3), value);
  else if (Buffer.isBuffer(value)) request.input(name, mod.VarBinary(mod.MAX), value);
  else throw new TypeError(`cannot send a ${typeof value} as SQL parameter @${name}`);
}

const ISOLATION: Record<NonNullable<TransactionSettings['isolationLevel']>, keyof MssqlModule['ISOLATION_LEVEL']> = {
  'read uncommitted': 'READ_UNCOMMITTED',
  'read committed': 'READ_COMMITTED',
  'repeatable read': 'REPEATABLE_READ',
  serializable: 'SERIALIZABLE',
  snapshot: 'SNAPSHOT',
};

class MssqlPoolConnection implements DatabaseConnection {
  #tx: MssqlTransaction | undefined;

  constructor(
    private readonly mod: MssqlModule,
    private readonly pool: MssqlConnectionPool,
  ) {}

  async executeQuery<R>(compiled: CompiledQuery): Promise<QueryResult<R>> {
    const request = this.#tx ? this.#tx.request() : this.pool.request();
    compiled.parameters.forEach((value, i) => bindParameter(request, this.mod, i, value));
    const result = await request.query(compiled.sql);
    const affected = (result.rowsAffected ?? []).reduce((a, b) => a + b, 0);
    return { rows: (result.recordset ?? []) as R[], numAffectedRows: BigInt(affected) };
  }

  async *streamQuery<R>(compiled: CompiledQuery): AsyncIterableIterator<QueryResult<R>> {
    // Deskside never streams; answer in one chunk rather than pretend to stream.
    yield await this.executeQuery<R>(compiled);
  }

  async begin(settings: TransactionSettings): Promise<void> {
    if (this.#tx) throw new Error('a transaction is already open on this connection');
    const tx = new this.mod.Transaction(this.pool);
    await tx.begin(this.mod.ISOLATION_LEVEL[ISOLATION[settings.isolationLevel ?? 'read committed']]);
    this.#tx = tx;
  }

  async commit(): Promise<void> {
    const tx = this.#tx;
    this.#tx = undefined;
    if (!tx) throw new Error('commit without a transaction');
    await tx.commit();
  }

  async rollback(): Promise<void> {
    const tx = this.#tx;
    this.#tx = undefined;
    if (!tx) return;
    try {
      await tx.rollback();
    } catch {
      // The server may already have rolled back (a deadlock victim, error 1205, or a
      // dropped connection, which SQL Server rolls back itself). The error that made
      // us roll back is the one worth reporting, and Kysely rethrows it after this.
    }
  }
}

export class MssqlPoolDriver implements Driver {
  #pool: MssqlConnectionPool | undefined;

  constructor(
    private readonly mod: MssqlModule,
    private readonly config: MssqlConfig,
  ) {}

  async init(): Promise<void> {
    const pool = new this.mod.ConnectionPool(this.config);
    // mssql also emits pool errors as events; each one reaches the request that hit it,
    // and an 'error' event nobody listens to would crash the process.
    pool.on('error', () => undefined);
    await pool.connect();
    this.#pool = pool;
  }

  async acquireConnection(): Promise<DatabaseConnection> {
    if (!this.#pool) throw new Error('the SQL Server pool is not connected');
    return new MssqlPoolConnection(this.mod, this.#pool);
  }

  async beginTransaction(connection: DatabaseConnection, settings: TransactionSettings): Promise<void> {
    await (connection as MssqlPoolConnection).begin(settings);
  }

  async commitTransaction(connection: DatabaseConnection): Promise<void> {
    await (connection as MssqlPoolConnection).commit();
  }

  async rollbackTransaction(connection: DatabaseConnection): Promise<void> {
    await (connection as MssqlPoolConnection).rollback();
  }

  async releaseConnection(connection: DatabaseConnection): Promise<void> {
    // A connection handed back mid-transaction (a bug, or a crash in Kysely) must not
    // leave the pinned pool connection open with locks held.
    await (connection as MssqlPoolConnection).rollback();
  }

  async destroy(): Promise<void> {
    const pool = this.#pool;
    this.#pool = undefined;
    await pool?.close();
  }
}

/**
 * Kysely's SQL Server adapter with the Migrator's own lock switched off: its session
 * lock (sp_getapplock as 'dbo', return code unchecked) needs a pinned session and db_owner
 * rights. db/migrate.ts takes a checked application lock inside a transaction instead.
 */
export class DesksideMssqlAdapter extends MssqlAdapter {
  override async acquireMigrationLock(): Promise<void> {}
  override async releaseMigrationLock(): Promise<void> {}
}

export class DesksideMssqlDialect implements Dialect {
  constructor(private readonly makeDriver: () => Driver) {}
  createDriver(): Driver {
    return this.makeDriver();
  }
  createQueryCompiler(): QueryCompiler {
    return new MssqlQueryCompiler();
  }
  createAdapter(): DialectAdapter {
    return new DesksideMssqlAdapter();
  }
  createIntrospector(db: Kysely<any>): DatabaseIntrospector {
    return new MssqlIntrospector(db);
  }
}
