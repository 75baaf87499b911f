import { APP_ROOT } from '../paths';
import { parseAttachmentConfig, type AttachmentConfig } from './attachments';
import { defaultText, docText, readKeys, type Env } from './keys';
import { parseLdapConfig, type LdapConfig } from './ldap';
import { parseMailConfig, type MailConfig } from './mail';
import { parseKerberosConfig, parsePasswordSigninConfig, type KerberosConfig, type PasswordSigninConfig } from './sso';
import { ALL_KEYS, API_KEYS, ATTACHMENT_KEYS, GENERAL_KEYS, LDAP_KEYS, LOGGING_KEYS, MAIL_KEYS, SSO_KEYS } from './table';

/**
 * The parsed configuration. Keys are read once, by config/table.ts's specs; the rules
 * that tie keys together (which identity needs which keys, defaults that depend on other
 * keys) are here and in ldap.ts and sso.ts. Nothing else in the app reads process.env.
 */

export type IdentityKind = (typeof GENERAL_KEYS.DESKSIDE_IDENTITY.values)[number];
export type AnonymousMode = (typeof GENERAL_KEYS.DESKSIDE_ANONYMOUS.values)[number];
export type NodeEnv = (typeof GENERAL_KEYS.NODE_ENV.values)[number];

export type { KerberosConfig, PasswordSigninConfig } from './sso';
export type { LdapConfig } from './ldap';
export type { ImapConfig, MailConfig, SmtpConfig, UnknownSenders } from './mail';
export type { AttachmentConfig, AttachmentStoreConfig } from './attachments';

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
  /** DESKSIDE_COOKIE_SECURE: every cookie Secure, whatever the request says. */
  cookieSecure: boolean;
  /** DESKSIDE_SETTINGS_FILE as given, if it was (compose.ts reads the file before parsing). */
  settingsFile: string | undefined;
  /** Active Directory over LDAP; null when DESKSIDE_LDAP_URL is not set (directory off). */
  ldap: LdapConfig | null;
  /** Kerberos keytab and service name; set exactly when identity is `negotiate`. */
  kerberos: KerberosConfig | null;
  /** The AD password form and its rate limits; null when DESKSIDE_PASSWORD_SIGNIN is off. */
  passwordSignin: PasswordSigninConfig | null;
  /** Notifications by SMTP and, optionally, the desk's mailbox over IMAP; null when DESKSIDE_SMTP_URL is not set (mail off). */
  mail: MailConfig | null;
  /** Limits for files on tickets and replies, where their bytes go, and the sweeper. */
  attachments: AttachmentConfig;
  /** The JSON API's token rate limit and the webhook deliveries' timing. */
  api: ApiConfig;
}

export interface ApiConfig {
  /** Requests per minute per API token. */
  rateLimitPerMinute: number;
  webhookTimeoutMs: number;
  webhookRetryMs: number;
}

export interface KeyDoc {
  key: string;
  default: string;
  description: string;
}

/** The README's configuration table, row by row, from the table of keys. */
export const KEY_DOCS: KeyDoc[] = Object.entries(ALL_KEYS).map(([key, spec]) => ({ key, default: defaultText(spec), description: docText(spec) }));

/** The README's configuration table as Markdown. */
export function configTableMarkdown(): string {
  const rows = KEY_DOCS.map((k) => `| \`${k.key}\` | ${k.default} | ${k.description.replace(/\|/g, '\\|')} |`);
  return ['| Key | Default | What it does |', '| --- | --- | --- |', ...rows].join('\n');
}

const TABLE_START = '<!-- config-table:start -->';
const TABLE_END = '<!-- config-table:end -->';

/** The README with its configuration table (between the config-table markers) written afresh. */
export function withConfigTable(readme: string): string {
  const a = readme.indexOf(TABLE_START);
  const b = readme.indexOf(TABLE_END);
  if (a < 0 || b < a) throw new Error(`README.md has no ${TABLE_START} … ${TABLE_END} markers`);
  return `${readme.slice(0, a + TABLE_START.length)}\n${configTableMarkdown()}\n${readme.slice(b)}`;
}

export class ConfigError extends Error {
  constructor(public readonly problems: string[]) {
    super(`Deskside cannot start: invalid configuration\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

export type DatabaseSettings = Pick<Config, 'database' | 'databasePoolSize' | 'databaseRequestTimeoutMs' | 'migrateOnStart'>;

const DATABASE_KEYS = {
  DESKSIDE_DATA_DIR: GENERAL_KEYS.DESKSIDE_DATA_DIR,
  DESKSIDE_DATABASE: GENERAL_KEYS.DESKSIDE_DATABASE,
  DESKSIDE_DATABASE_POOL_SIZE: GENERAL_KEYS.DESKSIDE_DATABASE_POOL_SIZE,
  DESKSIDE_DATABASE_REQUEST_TIMEOUT: GENERAL_KEYS.DESKSIDE_DATABASE_REQUEST_TIMEOUT,
  DESKSIDE_MIGRATE_ON_START: GENERAL_KEYS.DESKSIDE_MIGRATE_ON_START,
};

function databaseSettingsOf(v: { DESKSIDE_DATA_DIR: string; DESKSIDE_DATABASE: string | undefined; DESKSIDE_DATABASE_POOL_SIZE: number; DESKSIDE_DATABASE_REQUEST_TIMEOUT: number; DESKSIDE_MIGRATE_ON_START: boolean }): DatabaseSettings {
  return {
    database: v.DESKSIDE_DATABASE ?? `sqlite:${v.DESKSIDE_DATA_DIR}/deskside.db`,
    databasePoolSize: v.DESKSIDE_DATABASE_POOL_SIZE,
    databaseRequestTimeoutMs: v.DESKSIDE_DATABASE_REQUEST_TIMEOUT * 1000,
    migrateOnStart: v.DESKSIDE_MIGRATE_ON_START,
  };
}

/**
 * The database keys alone, throwing ConfigError like parseConfig: `npm run migrate` must
 * work on a server where the web keys (identity, proxies) are not set in the shell.
 * Connection-string problems are reported without the string, which may hold a password.
 */
export function parseDatabaseConfig(env: Env): DatabaseSettings {
  const problems: string[] = [];
  const v = readKeys(env, DATABASE_KEYS, problems);
  if (problems.length) throw new ConfigError(problems);
  return databaseSettingsOf(v);
}

/**
 * Parse and validate the whole configuration. Throws ConfigError naming every bad key
 * at once, so an administrator fixes the settings in one round trip rather than five.
 */
export function parseConfig(env: Env, platform: NodeJS.Platform = process.platform): Config {
  const problems: string[] = [];
  const underIisnode = Boolean(env.IISNODE_VERSION);
  const g = readKeys(env, GENERAL_KEYS, problems);
  const ldapProblems: string[] = [];
  const l = readKeys(env, LDAP_KEYS, ldapProblems);
  problems.push(...ldapProblems);
  const sso = readKeys(env, SSO_KEYS, problems);
  const logging = readKeys(env, LOGGING_KEYS, problems);
  const m = readKeys(env, MAIL_KEYS, problems);
  const files = readKeys(env, ATTACHMENT_KEYS, problems);
  const api = readKeys(env, API_KEYS, problems);

  const nodeEnv = g.NODE_ENV ?? 'development';
  const port: number | string = /^\d+$/.test(g.PORT) ? Number(g.PORT) : g.PORT; // iisnode: \\.\pipe\<guid>; Linux: a socket path

  let identity = g.DESKSIDE_IDENTITY;
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
  if (identity === 'proxy' && g.DESKSIDE_TRUSTED_PROXIES.length === 0) {
    problems.push('DESKSIDE_TRUSTED_PROXIES is required with DESKSIDE_IDENTITY=proxy: list the proxy addresses allowed to send the user header');
  }

  // Unset (not merely empty) role keys give the demo its groups.
  const demoDefault = (given: string[], key: string, group: string) => (given.length || env[key] !== undefined || identity !== 'dev' ? given : [group]);

  const ldap = parseLdapConfig(env, l, ldapProblems.length === 0, problems, APP_ROOT);
  const kerberos = parseKerberosConfig(sso, problems, { identity, platform, appRoot: APP_ROOT });
  const passwordSignin = parsePasswordSigninConfig(sso, problems, { identity, ldap, ldapKeysSet: Boolean(l.DESKSIDE_LDAP_URL) });
  const mail = parseMailConfig(env, m, Object.keys(MAIL_KEYS), problems, APP_ROOT);
  const attachments = parseAttachmentConfig(files, problems, { appRoot: APP_ROOT, dataDir: g.DESKSIDE_DATA_DIR });

  if (problems.length) throw new ConfigError(problems);

  return {
    nodeEnv,
    underIisnode,
    port,
    host: g.DESKSIDE_HOST,
    identity: identity!,
    proxyHeader: g.DESKSIDE_PROXY_HEADER,
    trustedProxies: g.DESKSIDE_TRUSTED_PROXIES,
    signinChallenge: (g.DESKSIDE_SIGNIN_CHALLENGE.length ? g.DESKSIDE_SIGNIN_CHALLENGE : ['Negotiate']).join(', '),
    agents: demoDefault(g.DESKSIDE_AGENTS, 'DESKSIDE_AGENTS', 'DEMO\\Helpdesk Agents'),
    admins: demoDefault(g.DESKSIDE_ADMINS, 'DESKSIDE_ADMINS', 'DEMO\\Deskside Admins'),
    anonymous: g.DESKSIDE_ANONYMOUS,
    ...databaseSettingsOf(g),
    secret: g.DESKSIDE_SECRET,
    dataDir: g.DESKSIDE_DATA_DIR,
    demoData: g.DESKSIDE_DEMO_DATA ?? identity === 'dev',
    logLevel: logging.DESKSIDE_LOG_LEVEL,
    sessionHours: g.DESKSIDE_SESSION_HOURS,
    trustedOrigins: g.DESKSIDE_TRUSTED_ORIGINS.map((o) => o.replace(/\/$/, '')),
    cookieSecure: g.DESKSIDE_COOKIE_SECURE,
    settingsFile: g.DESKSIDE_SETTINGS_FILE,
    ldap,
    kerberos,
    passwordSignin,
    mail,
    attachments,
    api: {
      rateLimitPerMinute: api.DESKSIDE_API_RATE_LIMIT,
      webhookTimeoutMs: Math.round(api.DESKSIDE_WEBHOOK_TIMEOUT_SECONDS * 1000),
      webhookRetryMs: Math.round(api.DESKSIDE_WEBHOOK_RETRY_HOURS * 3_600_000),
    },
  };
}
