import path from 'node:path';

/**
 * DESKSIDE_DATABASE, parsed without any I/O so that config validation, `migrate --print`
 * and unit tests can all use it. Three spellings are accepted:
 *
 *   sqlite:App_Data/deskside.db
 *   mssql://user:password@host:1433/Deskside?encrypt=true&trustServerCertificate=false
 *   Server=tcp:host,1433;Database=Deskside;User Id=…;Password=…;Encrypt=True;   (ADO.NET)
 *
 * Error messages name the part that is wrong and never repeat the input, because the
 * input may hold a password.
 */

export class DatabaseConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DatabaseConfigError';
  }
}

export interface SqliteTarget {
  kind: 'sqlite';
  /** As written after `sqlite:`; relative paths are resolved against the app folder by sqlitePathFrom. */
  path: string;
}

export type MssqlAuth =
  | { kind: 'sql'; user: string; password: string }
  /** DOMAIN\user with a password: NTLM through tedious (no msnodesqlv8 needed). */
  | { kind: 'ntlm'; domain: string; user: string; password: string }
  /** Trusted_Connection / Integrated Security: the process identity (IIS app pool), via msnodesqlv8. */
  | { kind: 'windows' };

export interface MssqlTarget {
  kind: 'mssql';
  server: string;
  /** Absent with a named instance and no port: the SQL Browser service resolves it. */
  port?: number;
  instanceName?: string;
  database: string;
  auth: MssqlAuth;
  encrypt: boolean | 'strict';
  trustServerCertificate: boolean;
  /** Always On availability group listeners spanning subnets: try every address at once. */
  multiSubnetFailover: boolean;
  readOnlyIntent: boolean;
  connectTimeoutMs?: number;
  appName: string;
  /** ODBC driver name for msnodesqlv8 (Trusted_Connection only). */
  odbcDriver?: string;
}

export type DatabaseTarget = SqliteTarget | MssqlTarget;

export const DEFAULT_ODBC_DRIVER = 'ODBC Driver 18 for SQL Server';

const URL_EXAMPLE = 'mssql://user:password@host:1433/Deskside?encrypt=true';
const ADO_EXAMPLE = 'Server=tcp:host,1433;Database=Deskside;User Id=deskside;Password=…;Encrypt=True';

export function parseDatabaseUrl(raw: string): DatabaseTarget {
  const value = raw.trim();
  if (value === '') throw new DatabaseConfigError('is empty; use sqlite:PATH, an mssql:// URL or an ADO-style SQL Server connection string');
  if (/^sqlite:/i.test(value)) {
    const p = value.slice('sqlite:'.length).trim();
    if (!p) throw new DatabaseConfigError('sqlite: needs a file path, for example sqlite:App_Data/deskside.db');
    return { kind: 'sqlite', path: p };
  }
  if (/^(mssql|sqlserver):/i.test(value)) return parseMssqlUrl(value);
  if (/^[^=;]+=/.test(value)) return parseAdo(value);
  throw new DatabaseConfigError(`is not understood; use sqlite:PATH, ${URL_EXAMPLE} or ${ADO_EXAMPLE}`);
}

/** Where the data lives, for logs, /healthz and error messages: never the password. */
export function describeTarget(t: DatabaseTarget, root?: string): string {
  if (t.kind === 'sqlite') return `sqlite:${root && t.path !== ':memory:' && !path.isAbsolute(t.path) ? path.resolve(root, t.path) : t.path}`;
  const who = t.auth.kind === 'sql' ? `${t.auth.user}@` : t.auth.kind === 'ntlm' ? `${t.auth.domain}\\${t.auth.user}@` : '';
  const where = t.instanceName ? `${t.server}\\${t.instanceName}${t.port ? `,${t.port}` : ''}` : `${t.server}:${t.port ?? 1433}`;
  const flags = [`encrypt=${t.encrypt}`];
  if (t.auth.kind === 'windows') flags.push('trustedConnection=true');
  if (t.trustServerCertificate) flags.push('trustServerCertificate=true');
  if (t.multiSubnetFailover) flags.push('multiSubnetFailover=true');
  if (t.readOnlyIntent) flags.push('applicationIntent=ReadOnly');
  return `mssql://${who}${where}/${t.database}?${flags.join('&')}`;
}

function bool(name: string, value: string): boolean {
  const v = value.trim().toLowerCase();
  if (['true', 'yes', '1', 'sspi'].includes(v)) return true;
  if (['false', 'no', '0'].includes(v)) return false;
  throw new DatabaseConfigError(`${name} must be true or false`);
}

function encryptValue(name: string, value: string): boolean | 'strict' {
  const v = value.trim().toLowerCase();
  // Microsoft.Data.SqlClient 5 spells these Mandatory / Optional / Strict.
  if (v === 'strict') return 'strict';
  if (v === 'mandatory') return true;
  if (v === 'optional') return false;
  return bool(name, value);
}

function portValue(name: string, value: string): number {
  if (!/^\d{1,5}$/.test(value.trim()) || Number(value) < 1 || Number(value) > 65535) throw new DatabaseConfigError(`${name} must be a TCP port from 1 to 65535`);
  return Number(value);
}

function secondsValue(name: string, value: string): number {
  if (!/^\d{1,4}$/.test(value.trim()) || Number(value) < 1) throw new DatabaseConfigError(`${name} must be a whole number of seconds (1 or more)`);
  return Number(value) * 1000;
}

/** `host`, `tcp:host,1433`, `host\SQLEXPRESS`, `host\SQLEXPRESS,1433`, `(local)`. */
function parseServer(name: string, value: string): { server: string; port?: number; instanceName?: string } {
  let v = value.trim();
  if (/^np:/i.test(v) || /^lpc:/i.test(v)) throw new DatabaseConfigError(`${name}: named pipes and shared memory are not supported; use TCP (tcp:host,1433)`);
  v = v.replace(/^tcp:/i, '');
  let port: number | undefined;
  const comma = v.lastIndexOf(',');
  if (comma >= 0) {
    port = portValue(`${name} port`, v.slice(comma + 1));
    v = v.slice(0, comma).trim();
  }
  let instanceName: string | undefined;
  const slash = v.indexOf('\\');
  if (slash >= 0) {
    instanceName = v.slice(slash + 1).trim();
    v = v.slice(0, slash).trim();
    if (!instanceName) throw new DatabaseConfigError(`${name}: nothing after the \\ (expected an instance name such as host\\SQLEXPRESS)`);
  }
  if (['.', '(.)', '(local)', '(localdb)'].includes(v.toLowerCase())) v = 'localhost';
  if (!v) throw new DatabaseConfigError(`${name} has no host name`);
  if (!/^[A-Za-z0-9_.:[\]-]+$/.test(v)) throw new DatabaseConfigError(`${name} is not a host name or address`);
  return { server: v, port: port ?? (instanceName ? undefined : 1433), instanceName };
}

function splitUser(user: string, password: string): MssqlAuth {
  const slash = user.indexOf('\\');
  if (slash > 0) return { kind: 'ntlm', domain: user.slice(0, slash), user: user.slice(slash + 1), password };
  return { kind: 'sql', user, password };
}

/** The settings both spellings share, gathered before checking that they fit together. */
interface Parts {
  server?: { server: string; port?: number; instanceName?: string };
  database?: string;
  user?: string;
  password?: string;
  trusted?: boolean;
  encrypt?: boolean | 'strict';
  trustServerCertificate?: boolean;
  multiSubnetFailover?: boolean;
  readOnlyIntent?: boolean;
  connectTimeoutMs?: number;
  appName?: string;
  odbcDriver?: string;
}

function assemble(p: Parts, form: string): MssqlTarget {
  if (!p.server) throw new DatabaseConfigError(`${form} has no server (host name or address)`);
  if (!p.database) throw new DatabaseConfigError(`${form} has no database name (Deskside needs its own database, e.g. Database=Deskside)`);
  // eslint-disable-next-line no-control-regex -- SQL Server database names may hold anything but control characters and brackets
  if (!/^[^\u0000-\u001f[\]]{1,128}$/.test(p.database)) throw new DatabaseConfigError(`${form}: the database name is not valid`);
  let auth: MssqlAuth;
  if (p.trusted) {
    if (p.user || p.password) throw new DatabaseConfigError(`${form} has both Trusted_Connection and a user/password; choose one`);
    auth = { kind: 'windows' };
  } else {
    if (!p.user) throw new DatabaseConfigError(`${form} has no user; give a SQL login and password, or Trusted_Connection=True for the app pool identity`);
    if (p.password === undefined || p.password === '') throw new DatabaseConfigError(`${form} has a user but no password`);
    auth = splitUser(p.user, p.password);
  }
  return {
    kind: 'mssql',
    server: p.server.server,
    port: p.server.port,
    instanceName: p.server.instanceName,
    database: p.database,
    auth,
    encrypt: p.encrypt ?? true,
    trustServerCertificate: p.trustServerCertificate ?? false,
    multiSubnetFailover: p.multiSubnetFailover ?? false,
    readOnlyIntent: p.readOnlyIntent ?? false,
    connectTimeoutMs: p.connectTimeoutMs,
    appName: p.appName ?? 'Deskside',
    odbcDriver: p.odbcDriver,
  };
}

function parseMssqlUrl(value: string): MssqlTarget {
  let u: URL;
  try {
    u = new URL(value.replace(/^sqlserver:/i, 'mssql:'));
  } catch {
    throw new DatabaseConfigError(`is not a valid mssql:// URL (percent-encode @, /, : and # in the password); expected ${URL_EXAMPLE}`);
  }
  const p: Parts = {};
  if (!u.hostname) throw new DatabaseConfigError(`mssql URL has no host; expected ${URL_EXAMPLE}`);
  p.server = parseServer('mssql URL host', u.port ? `${u.hostname},${u.port}` : u.hostname);
  const db = decodeURIComponent(u.pathname.replace(/^\//, ''));
  if (db.includes('/')) throw new DatabaseConfigError('mssql URL path must be just the database name (mssql://host/Deskside)');
  p.database = db || undefined;
  if (u.username) p.user = decodeURIComponent(u.username);
  if (u.password) p.password = decodeURIComponent(u.password);
  for (const [k, v] of u.searchParams) {
    const key = k.toLowerCase();
    const name = `mssql URL parameter ${k}`;
    switch (key) {
      case 'encrypt':
        p.encrypt = encryptValue(name, v);
        break;
      case 'trustservercertificate':
        p.trustServerCertificate = bool(name, v);
        break;
      case 'multisubnetfailover':
        p.multiSubnetFailover = bool(name, v);
        break;
      case 'trustedconnection':
      case 'integratedsecurity':
        p.trusted = bool(name, v);
        break;
      case 'instancename':
        p.server = { ...p.server, instanceName: v, port: u.port ? p.server.port : undefined };
        break;
      case 'applicationintent':
        p.readOnlyIntent = intent(name, v);
        break;
      case 'connecttimeout':
        p.connectTimeoutMs = secondsValue(name, v);
        break;
      case 'appname':
        p.appName = v;
        break;
      case 'driver':
        p.odbcDriver = v;
        break;
      default:
        throw new DatabaseConfigError(`${name} is not known; accepted: encrypt, trustServerCertificate, multiSubnetFailover, trustedConnection, instanceName, applicationIntent, connectTimeout, appName, driver`);
    }
  }
  return assemble(p, 'mssql URL');
}

function intent(name: string, v: string): boolean {
  if (/^readonly$/i.test(v.trim())) return true;
  if (/^readwrite$/i.test(v.trim())) return false;
  throw new DatabaseConfigError(`${name} must be ReadOnly or ReadWrite`);
}

/**
 * Split `key=value;key=value` as ADO.NET does: values may be wrapped in '…', "…" (the
 * quote doubled inside) or {…} (ODBC style, } doubled inside), so passwords can hold ;.
 */
export function splitAdo(value: string): [string, string][] {
  const out: [string, string][] = [];
  let i = 0;
  const n = value.length;
  while (i < n) {
    while (i < n && (value[i] === ';' || /\s/.test(value[i]))) i++;
    if (i >= n) break;
    const eq = value.indexOf('=', i);
    if (eq < 0) throw new DatabaseConfigError(`connection string has a part without "=" (after ${out.length} setting${out.length === 1 ? '' : 's'})`);
    const key = value.slice(i, eq).trim();
    if (!key) throw new DatabaseConfigError('connection string has a setting with no name');
    i = eq + 1;
    while (i < n && value[i] === ' ') i++;
    let v = '';
    const q = value[i];
    if (q === '"' || q === "'" || q === '{') {
      const close = q === '{' ? '}' : q;
      i++;
      let closed = false;
      while (i < n) {
        if (value[i] === close) {
          if (value[i + 1] === close) {
            v += close;
            i += 2;
            continue;
          }
          i++;
          closed = true;
          break;
        }
        v += value[i++];
      }
      if (!closed) throw new DatabaseConfigError(`connection string: the value of ${key} has an opening ${q} but no closing ${close}`);
      while (i < n && value[i] === ' ') i++;
      if (i < n && value[i] !== ';') throw new DatabaseConfigError(`connection string: unexpected text after the quoted value of ${key}`);
    } else {
      const semi = value.indexOf(';', i);
      v = (semi < 0 ? value.slice(i) : value.slice(i, semi)).trim();
      i = semi < 0 ? n : semi;
    }
    out.push([key, v]);
  }
  return out;
}

function parseAdo(value: string): MssqlTarget {
  const p: Parts = {};
  const seen = new Set<string>();
  for (const [rawKey, v] of splitAdo(value)) {
    const key = rawKey.toLowerCase().replace(/\s+/g, ' ');
    const name = rawKey;
    const canonical = ADO_SYNONYMS[key] ?? key;
    if (seen.has(canonical)) throw new DatabaseConfigError(`connection string sets ${name} more than once`);
    seen.add(canonical);
    switch (canonical) {
      case 'server':
        p.server = parseServer(name, v);
        break;
      case 'database':
        p.database = v;
        break;
      case 'user':
        p.user = v;
        break;
      case 'password':
        p.password = v;
        break;
      case 'trusted':
        p.trusted = bool(name, v);
        break;
      case 'encrypt':
        p.encrypt = encryptValue(name, v);
        break;
      case 'trustservercertificate':
        p.trustServerCertificate = bool(name, v);
        break;
      case 'multisubnetfailover':
        p.multiSubnetFailover = bool(name, v);
        break;
      case 'applicationintent':
        p.readOnlyIntent = intent(name, v);
        break;
      case 'timeout':
        p.connectTimeoutMs = secondsValue(name, v);
        break;
      case 'app':
        p.appName = v;
        break;
      case 'driver':
        p.odbcDriver = v;
        break;
      case 'multipleactiveresultsets':
        if (bool(name, v)) throw new DatabaseConfigError(`${name}=True is not supported; remove it or set it to False`);
        break;
      case 'persist security info':
      case 'pooling':
        bool(name, v); // accepted for copy-paste compatibility; the pool is DESKSIDE_DATABASE_POOL_SIZE
        break;
      case 'max pool size':
      case 'min pool size':
        throw new DatabaseConfigError(`${name} is not read from the connection string; set DESKSIDE_DATABASE_POOL_SIZE instead`);
      default:
        throw new DatabaseConfigError(
          `connection string setting "${name}" is not known; accepted: Server, Database, User Id, Password, Trusted_Connection, Encrypt, TrustServerCertificate, MultiSubnetFailover, ApplicationIntent, Connect Timeout, Application Name, Driver`,
        );
    }
  }
  return assemble(p, 'connection string');
}

const ADO_SYNONYMS: Record<string, string> = {
  server: 'server',
  'data source': 'server',
  address: 'server',
  addr: 'server',
  'network address': 'server',
  database: 'database',
  'initial catalog': 'database',
  'user id': 'user',
  userid: 'user',
  uid: 'user',
  user: 'user',
  password: 'password',
  pwd: 'password',
  trusted_connection: 'trusted',
  'trusted connection': 'trusted',
  'integrated security': 'trusted',
  encrypt: 'encrypt',
  trustservercertificate: 'trustservercertificate',
  'trust server certificate': 'trustservercertificate',
  multisubnetfailover: 'multisubnetfailover',
  'multi subnet failover': 'multisubnetfailover',
  applicationintent: 'applicationintent',
  'application intent': 'applicationintent',
  'connect timeout': 'timeout',
  'connection timeout': 'timeout',
  timeout: 'timeout',
  'application name': 'app',
  app: 'app',
  driver: 'driver',
  multipleactiveresultsets: 'multipleactiveresultsets',
  'multiple active result sets': 'multipleactiveresultsets',
  'persist security info': 'persist security info',
  persistsecurityinfo: 'persist security info',
  pooling: 'pooling',
  'max pool size': 'max pool size',
  'min pool size': 'min pool size',
};
