import { isIP } from 'node:net';
import path from 'node:path';
import { APP_ROOT } from '../paths';
import { DatabaseConfigError, parseDatabaseUrl } from '../db/connection-string';
import { LDAP_KEY_DOCS, parseLdapConfig, splitRoleEntries, type LdapConfig } from './ldap';
import { parseKerberosConfig, parsePasswordSigninConfig, SSO_KEY_DOCS, type KerberosConfig, type PasswordSigninConfig } from './sso';

/**
 * Every setting Deskside reads, in one place. Each key documents itself in KEY_DOCS (a
 * test checks that the README table lists every key), has a default or a clear startup
 * error, and is parsed here once, so nothing else in the app reads process.env.
 */

export type IdentityKind = 'iisnode' | 'proxy' | 'negotiate' | 'dev';
export type AnonymousMode = 'browse' | 'none';
export type NodeEnv = 'production' | 'development' | 'test';

export interface Config {
  nodeEnv: NodeEnv;
  /** true when iisnode started us (IISNODE_VERSION is set). */
  underIisnode: boolean;
  /** A TCP port number or a pipe/socket path; never parsed as a number when it is a path. */
  port: number | string;
  host: string | undefined;
  identity: IdentityKind;
  proxyHeader: string;
  trustedProxies: string[];
  signinChallenge: string;
  agents: string[];
  admins: string[];
  anonymous: AnonymousMode;
  /** DESKSIDE_DATABASE as given (it may hold a password: log Database.describe instead). */
  database: string;
  databasePoolSize: number;
  databaseRequestTimeoutMs: number;
  migrateOnStart: boolean;
  secret: string | undefined;
  dataDir: string;
  demoData: boolean;
  logLevel: string;
  sessionHours: number;
  trustedOrigins: string[];
  /** Active Directory over LDAP; null when DESKSIDE_LDAP_URL is not set (directory off). */
  ldap: LdapConfig | null;
  /** Kerberos keytab and service name; set exactly when identity is `negotiate`. */
  kerberos: KerberosConfig | null;
  /** The AD password form and its rate limits; null when DESKSIDE_PASSWORD_SIGNIN is off. */
  passwordSignin: PasswordSigninConfig | null;
}

export interface KeyDoc {
  key: string;
  default: string;
  description: string;
}

/** The documentation of every key, in the order the README lists them. */
export const KEY_DOCS: KeyDoc[] = [
  { key: 'NODE_ENV', default: '`development` (`npm start`); set `production` on servers', description: '`production` turns on view caching and hides error details. `production` refuses the `dev` identity.' },
  { key: 'PORT', default: '`3000`', description: 'TCP port, or a pipe/socket path (iisnode passes `\\\\.\\pipe\\…`; never parsed as a number).' },
  { key: 'DESKSIDE_HOST', default: 'all interfaces', description: 'Address to bind when `PORT` is a number, e.g. `127.0.0.1` behind a reverse proxy.' },
  { key: 'DESKSIDE_IDENTITY', default: '`iisnode` under iisnode, else `dev`; required when `NODE_ENV=production`', description: 'Who tells us the caller: `iisnode` (IIS Windows auth, `X-iisnode-LOGON_USER`), `proxy` (a header from a trusted reverse proxy), `negotiate` (Kerberos tickets checked by Deskside itself against a keytab, without IIS; not on Windows) or `dev` (demo "act as" switcher; refused in production and under iisnode).' },
  { key: 'DESKSIDE_PROXY_HEADER', default: '`X-Remote-User`', description: 'With `proxy`: the header holding `DOMAIN\\user` or `user@realm`.' },
  { key: 'DESKSIDE_TRUSTED_PROXIES', default: 'none; required for `proxy`', description: 'With `proxy`: comma-separated IPs or CIDRs allowed to send the header. From anywhere else it is ignored and logged.' },
  { key: 'DESKSIDE_SIGNIN_CHALLENGE', default: '`Negotiate`', description: 'With `proxy`: the `WWW-Authenticate` scheme(s) sent with the sign-in 401, comma-separated (the proxy completes them).' },
  { key: 'DESKSIDE_AGENTS', default: 'empty (`dev`: `DEMO\\Helpdesk Agents`)', description: 'Comma-separated logins (`CORP\\alice`) or directory groups (`Helpdesk Agents`, `CORP\\Helpdesk Agents`, or a DN) whose members are agents.' },
  { key: 'DESKSIDE_ADMINS', default: 'empty (`dev`: `DEMO\\Deskside Admins`)', description: 'The same, for administrators. Admins can do everything agents can.' },
  { key: 'DESKSIDE_ANONYMOUS', default: '`browse`', description: '`browse`: guests may read the ticket list and public conversations (never internal notes or contact details). `none`: guests see the home and sign-in pages only.' },
  { key: 'DESKSIDE_DATABASE', default: '`sqlite:App_Data/deskside.db`', description: 'Where tickets live. `sqlite:PATH` (relative paths are under the app folder), or SQL Server as `mssql://user:password@host:1433/Deskside?encrypt=true` or an ADO-style string (`Server=tcp:host,1433;Database=Deskside;User Id=…;Password=…;Encrypt=True` or `…;Trusted_Connection=True` for the app pool identity; `MultiSubnetFailover=True` for Always On listeners). See "SQL Server" below.' },
  { key: 'DESKSIDE_DATABASE_POOL_SIZE', default: '`10`', description: 'SQL Server: most connections each node process keeps open (2–200). Multiply by iisnode processes and servers to size the SQL Server side.' },
  { key: 'DESKSIDE_DATABASE_REQUEST_TIMEOUT', default: '`30`', description: 'SQL Server: seconds a single statement may run before it is cancelled (1–3600).' },
  { key: 'DESKSIDE_MIGRATE_ON_START', default: '`true`', description: 'Apply pending schema migrations at start. `false` leaves schema changes to a DBA (`npm run migrate`, or the script from `npm run migrate -- --print`); the app then refuses to start on an out-of-date schema.' },
  { key: 'DESKSIDE_SECRET', default: 'generated once into `App_Data/secret.key`', description: 'Signs session cookies and CSRF tokens; at least 32 characters. Every process and server of one site must share it.' },
  { key: 'DESKSIDE_DATA_DIR', default: '`App_Data`', description: 'Folder for the generated secret and the default database. IIS never serves `App_Data`.' },
  { key: 'DESKSIDE_DEMO_DATA', default: '`true` with `dev` identity, else `false`', description: 'Seed demo people, categories and tickets when the database is empty. With `proxy`, the demo directory (`DEMO\\alice` … `DEMO\\erin` and their nested groups) also answers for those logins.' },
  { key: 'DESKSIDE_SESSION_HOURS', default: '`12`', description: 'How long a sign-in lasts before the browser is asked again (1–720).' },
  { key: 'DESKSIDE_TRUSTED_ORIGINS', default: 'none', description: 'Extra origins (`https://helpdesk.corp.example`) accepted on form posts besides the request\'s own host, for sites behind a proxy that rewrites Host.' },
  ...LDAP_KEY_DOCS,
  ...SSO_KEY_DOCS,
  { key: 'DESKSIDE_LOG_LEVEL', default: '`info`', description: 'pino level: `fatal`, `error`, `warn`, `info`, `debug`, `trace` or `silent`.' },
];

export class ConfigError extends Error {
  constructor(public readonly problems: string[]) {
    super(`Deskside cannot start: invalid configuration\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

type Env = Record<string, string | undefined>;

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

function list(value: string | undefined): string[] {
  if (!value) return [];
  return value
    .split(/[,;\n]/)
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
}

function isCidrOrIp(entry: string): boolean {
  const [addr, bits, extra] = entry.split('/');
  if (extra !== undefined) return false;
  const family = isIP(addr);
  if (!family) return false;
  if (bits === undefined) return true;
  if (!/^\d{1,3}$/.test(bits)) return false;
  const n = Number(bits);
  return family === 4 ? n <= 32 : n <= 128;
}

function bool(env: Env, key: string, fallback: boolean, problems: string[]): boolean {
  const raw = env[key]?.trim();
  if (raw === undefined || raw === '') return fallback;
  if (/^(true|1|yes|on)$/i.test(raw)) return true;
  if (/^(false|0|no|off)$/i.test(raw)) return false;
  problems.push(`${key}="${raw}" is not a boolean; use true or false`);
  return fallback;
}

function oneOf<T extends string>(env: Env, key: string, allowed: readonly T[], problems: string[]): T | undefined {
  const raw = env[key]?.trim();
  if (raw === undefined || raw === '') return undefined;
  const found = allowed.find((a) => a === raw.toLowerCase());
  if (!found) problems.push(`${key}="${raw}" is not valid; accepted values: ${allowed.join(', ')}`);
  return found;
}

function wholeNumber(env: Env, key: string, fallback: number, min: number, max: number, unit: string, problems: string[]): number {
  const raw = env[key]?.trim();
  if (raw === undefined || raw === '') return fallback;
  if (!/^\d+$/.test(raw) || Number(raw) < min || Number(raw) > max) {
    problems.push(`${key}="${raw}" must be a whole number of ${unit} from ${min} to ${max}`);
    return fallback;
  }
  return Number(raw);
}

export type DatabaseSettings = Pick<Config, 'database' | 'databasePoolSize' | 'databaseRequestTimeoutMs' | 'migrateOnStart'>;

/**
 * The database keys alone: parseConfig uses this, and so does `npm run migrate`, which
 * must work on a server where the web keys (identity, proxies) are not set in the shell.
 * Connection-string problems are reported without the string, which may hold a password.
 */
export function databaseSettings(env: Env, dataDir: string, problems: string[]): DatabaseSettings {
  const database = env.DESKSIDE_DATABASE?.trim() || `sqlite:${dataDir}/deskside.db`;
  try {
    parseDatabaseUrl(database);
  } catch (err) {
    if (!(err instanceof DatabaseConfigError)) throw err;
    problems.push(`DESKSIDE_DATABASE ${err.message}`);
  }
  return {
    database,
    databasePoolSize: wholeNumber(env, 'DESKSIDE_DATABASE_POOL_SIZE', 10, 2, 200, 'connections', problems),
    databaseRequestTimeoutMs: wholeNumber(env, 'DESKSIDE_DATABASE_REQUEST_TIMEOUT', 30, 1, 3600, 'seconds', problems) * 1000,
    migrateOnStart: bool(env, 'DESKSIDE_MIGRATE_ON_START', true, problems),
  };
}

/** databaseSettings on its own, throwing ConfigError like parseConfig. */
export function parseDatabaseConfig(env: Env): DatabaseSettings {
  const problems: string[] = [];
  const settings = databaseSettings(env, env.DESKSIDE_DATA_DIR?.trim() || 'App_Data', problems);
  if (problems.length) throw new ConfigError(problems);
  return settings;
}

/**
 * Parse and validate the whole configuration. Throws ConfigError naming every bad key
 * at once, so an administrator fixes web.config in one round trip rather than five.
 */
export function parseConfig(env: Env, platform: NodeJS.Platform = process.platform): Config {
  const problems: string[] = [];
  const underIisnode = Boolean(env.IISNODE_VERSION);

  const nodeEnvRaw = (env.NODE_ENV ?? '').trim().toLowerCase();
  const nodeEnv: NodeEnv = nodeEnvRaw === 'production' ? 'production' : nodeEnvRaw === 'test' ? 'test' : 'development';

  let port: number | string = 3000;
  const portRaw = env.PORT?.trim();
  if (portRaw) {
    if (/^\d+$/.test(portRaw)) {
      const n = Number(portRaw);
      if (n < 0 || n > 65535) problems.push(`PORT=${portRaw} is out of range; use 0–65535 or a pipe/socket path`);
      port = n;
    } else {
      port = portRaw; // iisnode: \\.\pipe\<guid>; Linux: a Unix socket path
    }
  }

  let identity = oneOf(env, 'DESKSIDE_IDENTITY', ['iisnode', 'proxy', 'negotiate', 'dev'] as const, problems);
  if (!env.DESKSIDE_IDENTITY?.trim()) {
    if (underIisnode) identity = 'iisnode';
    else if (nodeEnv === 'production') {
      problems.push('DESKSIDE_IDENTITY is required when NODE_ENV=production; accepted values: iisnode, proxy, negotiate (dev is refused in production)');
    } else identity = 'dev';
  }
  if (identity === 'dev' && nodeEnv === 'production') {
    problems.push('DESKSIDE_IDENTITY=dev is refused when NODE_ENV=production: it lets anyone act as anyone. Use iisnode, proxy or negotiate');
  }
  if (identity === 'dev' && underIisnode) {
    problems.push('DESKSIDE_IDENTITY=dev is refused under iisnode: it lets anyone act as anyone. Use iisnode');
  }

  const proxyHeader = (env.DESKSIDE_PROXY_HEADER?.trim() || 'X-Remote-User');
  if (!/^[A-Za-z0-9_-]{1,64}$/.test(proxyHeader)) {
    problems.push(`DESKSIDE_PROXY_HEADER="${proxyHeader}" is not a valid header name (letters, digits and -)`);
  } else if (/^x-iisnode-/i.test(proxyHeader) || /^(cookie|authorization|host)$/i.test(proxyHeader)) {
    problems.push(`DESKSIDE_PROXY_HEADER="${proxyHeader}" is reserved; use a header only your proxy sets, such as X-Remote-User`);
  }
  const trustedProxies = list(env.DESKSIDE_TRUSTED_PROXIES);
  for (const entry of trustedProxies) {
    if (!isCidrOrIp(entry)) problems.push(`DESKSIDE_TRUSTED_PROXIES: "${entry}" is not an IP address or CIDR (e.g. 10.0.0.5 or 10.0.0.0/24)`);
  }
  if (identity === 'proxy' && trustedProxies.length === 0) {
    problems.push('DESKSIDE_TRUSTED_PROXIES is required with DESKSIDE_IDENTITY=proxy: list the proxy addresses allowed to send the user header');
  }
  const challenges = list(env.DESKSIDE_SIGNIN_CHALLENGE);
  for (const c of challenges) {
    if (!/^[A-Za-z][A-Za-z0-9-]{0,31}$/.test(c)) problems.push(`DESKSIDE_SIGNIN_CHALLENGE: "${c}" is not an authentication scheme name (e.g. Negotiate)`);
  }
  const signinChallenge = (challenges.length ? challenges : ['Negotiate']).join(', ');

  const agentsRaw = splitRoleEntries(env.DESKSIDE_AGENTS);
  const adminsRaw = splitRoleEntries(env.DESKSIDE_ADMINS);
  const agents = agentsRaw.length || env.DESKSIDE_AGENTS !== undefined || identity !== 'dev' ? agentsRaw : ['DEMO\\Helpdesk Agents'];
  const admins = adminsRaw.length || env.DESKSIDE_ADMINS !== undefined || identity !== 'dev' ? adminsRaw : ['DEMO\\Deskside Admins'];

  const anonymous = oneOf(env, 'DESKSIDE_ANONYMOUS', ['browse', 'none'] as const, problems) ?? 'browse';

  const dataDir = env.DESKSIDE_DATA_DIR?.trim() || 'App_Data';
  const db = databaseSettings(env, dataDir, problems);

  const secret = env.DESKSIDE_SECRET?.trim() || undefined;
  if (secret !== undefined && secret.length < 32) {
    problems.push(`DESKSIDE_SECRET is too short (${secret.length} characters); use at least 32 random characters, or leave it unset to generate one`);
  }

  const demoData = bool(env, 'DESKSIDE_DEMO_DATA', identity === 'dev', problems);

  const sessionRaw = env.DESKSIDE_SESSION_HOURS?.trim();
  let sessionHours = 12;
  if (sessionRaw) {
    const n = Number(sessionRaw);
    if (!Number.isFinite(n) || n < 1 || n > 720) problems.push(`DESKSIDE_SESSION_HOURS="${sessionRaw}" must be a number of hours from 1 to 720`);
    else sessionHours = n;
  }

  const trustedOrigins = list(env.DESKSIDE_TRUSTED_ORIGINS);
  for (const origin of trustedOrigins) {
    let ok = false;
    try {
      const u = new URL(origin);
      ok = (u.protocol === 'http:' || u.protocol === 'https:') && u.origin === origin.replace(/\/$/, '');
    } catch {
      ok = false;
    }
    if (!ok) problems.push(`DESKSIDE_TRUSTED_ORIGINS: "${origin}" is not an origin like https://helpdesk.corp.example`);
  }

  const logLevel = (env.DESKSIDE_LOG_LEVEL?.trim().toLowerCase() || 'info');
  if (!LOG_LEVELS.includes(logLevel)) problems.push(`DESKSIDE_LOG_LEVEL="${logLevel}" is not valid; accepted values: ${LOG_LEVELS.join(', ')}`);

  const host = env.DESKSIDE_HOST?.trim() || undefined;
  if (host !== undefined && !isIP(host) && host !== 'localhost') problems.push(`DESKSIDE_HOST="${host}" is not an IP address`);

  const appRoot = APP_ROOT;
  const ldap = parseLdapConfig(env, problems, appRoot);
  const kerberos = parseKerberosConfig(env, problems, { identity, platform, appRoot });
  const passwordSignin = parsePasswordSigninConfig(env, problems, { identity, ldap, ldapKeysSet: Boolean(env.DESKSIDE_LDAP_URL?.trim()) });

  if (problems.length) throw new ConfigError(problems);

  return {
    nodeEnv,
    underIisnode,
    port,
    host,
    identity: identity as IdentityKind,
    proxyHeader,
    trustedProxies,
    signinChallenge,
    agents,
    admins,
    anonymous,
    ...db,
    secret,
    dataDir,
    demoData,
    logLevel,
    sessionHours,
    trustedOrigins: trustedOrigins.map((o) => o.replace(/\/$/, '')),
    ldap,
    kerberos,
    passwordSignin,
  };
}
