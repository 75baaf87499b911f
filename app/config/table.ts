import { isIP } from 'node:net';
import { DatabaseConfigError, parseDatabaseUrl } from '../db/connection-string';
import type { KeySpec } from './keys';
import { splitRoleEntries } from './role-entries';

/**
 * Every setting Deskside reads, in the order the README lists them. Types, bounds,
 * accepted values and defaults here drive both parsing (config/keys.ts) and the README
 * table (`npm run docs:config`); rules that tie keys together live in schema.ts,
 * ldap.ts and sso.ts. Nothing else in the app reads process.env.
 */

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

function isOrigin(origin: string): boolean {
  try {
    const u = new URL(origin);
    return (u.protocol === 'http:' || u.protocol === 'https:') && u.origin === origin.replace(/\/$/, '');
  } catch {
    return false;
  }
}

export const GENERAL_KEYS = {
  NODE_ENV: {
    type: 'enum',
    values: ['production', 'development', 'test'] as const,
    docDefault: '`development` (`npm start`); set `production` on servers',
    doc: '`production` turns on view caching and hides error details. `production` refuses the `dev` identity.',
  },
  PORT: {
    type: 'string',
    default: '3000',
    doc: 'TCP port, or a pipe/socket path (iisnode passes `\\\\.\\pipe\\…`; never parsed as a number).',
    check: (v) => (/^\d+$/.test(v) && Number(v) > 65535 ? 'is out of range; use 0–65535 or a pipe/socket path' : undefined),
  },
  DESKSIDE_HOST: {
    type: 'string',
    docDefault: 'all interfaces; `127.0.0.1` with the `dev` identity',
    doc: 'Address to bind when `PORT` is a number, e.g. `127.0.0.1` behind a reverse proxy. The demo (`dev` identity) answers this computer only unless this says otherwise (e.g. `0.0.0.0` to show it to a colleague).',
    check: (v) => (isIP(v) || v === 'localhost' ? undefined : 'is not an IP address'),
  },
  DESKSIDE_SETTINGS_FILE: {
    type: 'string',
    docDefault: '`App_Data/settings.env`',
    doc: 'A file of `KEY=value` lines holding this site\'s settings, read at start (relative paths are under the app folder). Real environment variables (and `web.config` appSettings) win over it, and it wins over a `.env` file in the app folder. A release never replaces it.',
  },
  DESKSIDE_IDENTITY: {
    type: 'enum',
    values: ['iisnode', 'proxy', 'negotiate', 'dev'] as const,
    docDefault: '`iisnode` under iisnode, else `dev`; required when `NODE_ENV=production`',
    doc: 'Who tells us the caller: `iisnode` (IIS Windows auth, `X-iisnode-LOGON_USER`), `proxy` (a header from a trusted reverse proxy), `negotiate` (Kerberos tickets checked by Deskside itself against a keytab, without IIS; not on Windows) or `dev` (demo "act as" switcher; refused in production and under iisnode).',
  },
  DESKSIDE_PROXY_HEADER: {
    type: 'string',
    default: 'X-Remote-User',
    doc: 'With `proxy`: the header holding `DOMAIN\\user` or `user@realm`.',
    check: (v) =>
      !/^[A-Za-z0-9_-]{1,64}$/.test(v)
        ? 'is not a valid header name (letters, digits and -)'
        : /^x-iisnode-/i.test(v) || /^(cookie|authorization|host)$/i.test(v)
          ? 'is reserved; use a header only your proxy sets, such as X-Remote-User'
          : undefined,
  },
  DESKSIDE_TRUSTED_PROXIES: {
    type: 'list',
    docDefault: 'none; required for `proxy`',
    doc: 'With `proxy`: comma-separated IPs or CIDRs allowed to send the header. From anywhere else it is ignored and logged.',
    checkEntry: (e, key) => (isCidrOrIp(e) ? undefined : `${key}: "${e}" is not an IP address or CIDR (e.g. 10.0.0.5 or 10.0.0.0/24)`),
  },
  DESKSIDE_SIGNIN_CHALLENGE: {
    type: 'list',
    docDefault: '`Negotiate`',
    doc: 'With `proxy`: the `WWW-Authenticate` scheme(s) sent with the sign-in 401, comma-separated (the proxy completes them).',
    checkEntry: (e, key) => (/^[A-Za-z][A-Za-z0-9-]{0,31}$/.test(e) ? undefined : `${key}: "${e}" is not an authentication scheme name (e.g. Negotiate)`),
  },
  DESKSIDE_AGENTS: {
    type: 'list',
    split: splitRoleEntries,
    docDefault: 'empty (`dev`: `DEMO\\Helpdesk Agents`)',
    doc: 'Comma-separated logins (`CORP\\alice`) or directory groups (`Helpdesk Agents`, `CORP\\Helpdesk Agents`, or a DN) whose members are agents.',
  },
  DESKSIDE_ADMINS: {
    type: 'list',
    split: splitRoleEntries,
    docDefault: 'empty (`dev`: `DEMO\\Deskside Admins`)',
    doc: 'The same, for administrators. Admins can do everything agents can.',
  },
  DESKSIDE_ANONYMOUS: {
    type: 'enum',
    values: ['browse', 'none'] as const,
    default: 'browse',
    doc: 'What people who are not signed in may see. `browse`: the home page, the known issues and their public updates, the help page and sign-in. `none`: the home page with sign-in, and the help page. Either way a guest never sees any ticket: tickets belong to their requester and the agents, and a guest asking for one is asked to sign in.',
  },
  DESKSIDE_DATABASE: {
    type: 'string',
    // The connection string may hold a password: problems never repeat it.
    secret: true,
    docDefault: '`sqlite:App_Data/deskside.db`',
    doc: 'Where tickets live. `sqlite:PATH` (relative paths are under the app folder), or SQL Server as `mssql://user:password@host:1433/Deskside?encrypt=true` or an ADO-style string (`Server=tcp:host,1433;Database=Deskside;User Id=…;Password=…;Encrypt=True` or `…;Trusted_Connection=True` for the app pool identity; `MultiSubnetFailover=True` for Always On listeners). See "SQL Server" below.',
    check: (v) => {
      try {
        parseDatabaseUrl(v);
        return undefined;
      } catch (err) {
        if (err instanceof DatabaseConfigError) return err.message;
        throw err;
      }
    },
  },
  DESKSIDE_DATABASE_POOL_SIZE: {
    type: 'integer',
    default: 10,
    min: 2,
    max: 200,
    unit: 'connections',
    doc: 'SQL Server: most connections each node process keeps open. Multiply by iisnode processes and servers to size the SQL Server side.',
  },
  DESKSIDE_DATABASE_REQUEST_TIMEOUT: {
    type: 'integer',
    default: 30,
    min: 1,
    max: 3600,
    unit: 'seconds',
    doc: 'SQL Server: seconds a single statement may run before it is cancelled.',
  },
  DESKSIDE_MIGRATE_ON_START: {
    type: 'boolean',
    default: true,
    doc: 'Apply pending schema migrations at start. `false` leaves schema changes to a DBA (`npm run migrate`, or the script from `npm run migrate -- --print`); the app then refuses to start on an out-of-date schema.',
  },
  DESKSIDE_SECRET: {
    type: 'string',
    secret: true,
    docDefault: 'generated once into `App_Data/secret.key`',
    doc: 'Signs session cookies and CSRF tokens; at least 32 characters. Every process and server of one site must share it.',
    check: (v) => (v.length < 32 ? `is too short (${v.length} characters); use at least 32 random characters, or leave it unset to generate one` : undefined),
  },
  DESKSIDE_DATA_DIR: {
    type: 'string',
    default: 'App_Data',
    doc: 'Folder for the generated secret and the default database. IIS never serves `App_Data`.',
  },
  DESKSIDE_DEMO_DATA: {
    type: 'boolean',
    docDefault: '`true` with `dev` identity, else `false`',
    doc: 'Seed demo people, categories and tickets when the database is empty. With `proxy`, the demo directory (`DEMO\\alice` … `DEMO\\erin` and their nested groups) also answers for those logins.',
  },
  DESKSIDE_SESSION_HOURS: {
    type: 'number',
    default: 12,
    min: 1,
    max: 720,
    unit: 'hours',
    doc: 'How long a sign-in lasts before the browser is asked again.',
  },
  DESKSIDE_COOKIE_SECURE: {
    type: 'boolean',
    default: false,
    doc: 'Mark every cookie `Secure` (sent over HTTPS only), whatever the request looks like. Without it cookies are `Secure` when the request reached Deskside over HTTPS: directly, through IIS (its `HTTPS` variable), or from a trusted proxy that says `X-Forwarded-Proto: https`. Set it when the site is HTTPS-only.',
  },
  DESKSIDE_TRUSTED_ORIGINS: {
    type: 'list',
    doc: "Extra origins (`https://helpdesk.corp.example`) accepted on form posts besides the request's own host, for sites behind a proxy that rewrites Host.",
    checkEntry: (e, key) => (isOrigin(e) ? undefined : `${key}: "${e}" is not an origin like https://helpdesk.corp.example`),
  },
} satisfies Record<string, KeySpec>;

export const LDAP_KEYS = {
  DESKSIDE_LDAP_URL: {
    type: 'string',
    docDefault: 'none: directory off, roles from logins in `DESKSIDE_AGENTS`/`DESKSIDE_ADMINS` only',
    doc: 'Active Directory domain controllers, e.g. `ldaps://dc1.corp.example, ldaps://dc2.corp.example`: tried in order, the next when one cannot be reached. Name each DC as its TLS certificate does.',
  },
  DESKSIDE_LDAP_BIND_DN: {
    type: 'string',
    docDefault: 'none; required with `DESKSIDE_LDAP_URL`',
    doc: 'The read-only service account Deskside binds as: a DN, `svc-deskside@corp.example` or `CORP\\svc-deskside`. A plain domain user is enough.',
  },
  DESKSIDE_LDAP_BIND_PASSWORD: {
    type: 'string',
    raw: true,
    secret: true,
    docDefault: 'none; required with `DESKSIDE_LDAP_URL`',
    doc: "That account's password. Never logged or shown.",
  },
  DESKSIDE_LDAP_BASE_DN: {
    type: 'string',
    docDefault: "the domain (the DC's `defaultNamingContext`)",
    doc: 'Where people are searched, e.g. `DC=corp,DC=example` or `OU=Staff,DC=corp,DC=example`. Groups are named from the whole domain.',
    check: (v) => (/^\s*(cn|ou|dc|o)=[^,]+(,\s*[a-z]+=[^,]*)*$/i.test(v.replace(/\\,/g, '')) ? undefined : 'is not a DN; write it like DC=corp,DC=example or OU=Staff,DC=corp,DC=example'),
  },
  DESKSIDE_LDAP_STARTTLS: {
    type: 'boolean',
    default: true,
    doc: 'Upgrade `ldap://` connections with StartTLS before binding (domain controllers refuse passwords over plain LDAP). `ldaps://` URLs are TLS already.',
  },
  DESKSIDE_LDAP_CA_FILE: {
    type: 'string',
    docDefault: "Node's built-in public CAs (not the Windows store)",
    doc: "PEM file with the CA that issued the DCs' certificates (your enterprise CA), for `ldaps://` and StartTLS.",
  },
  DESKSIDE_LDAP_DOMAIN: {
    type: 'string',
    docDefault: 'read from the DC (`CN=Partitions`)',
    doc: 'The NetBIOS domain name (`CORP`) that `CORP\\user` logins and `CORP\\Group` entries use.',
    check: (v) => (/^[\p{L}\p{N}][\p{L}\p{N}._-]{0,14}$/u.test(v) ? undefined : 'is not a NetBIOS domain name (up to 15 letters, digits, . _ -), e.g. CORP'),
  },
  DESKSIDE_LDAP_CACHE_SECONDS: {
    type: 'number',
    default: 300,
    min: 0,
    max: 86_400,
    unit: 'seconds',
    doc: "How long a person's profile and groups are reused before the directory is asked again (per process).",
  },
  DESKSIDE_LDAP_MAX_STALE_SECONDS: {
    type: 'number',
    default: 86_400,
    min: 0,
    max: 30 * 86_400,
    unit: 'seconds',
    doc: 'While the directory cannot be reached, last known roles are used for up to this long; after that, requester only.',
  },
  DESKSIDE_LDAP_CONNECT_TIMEOUT_SECONDS: {
    type: 'number',
    default: 3,
    min: 0.1,
    max: 60,
    unit: 'seconds',
    doc: 'Give up connecting to one DC (TCP, TLS and bind) after this long and try the next.',
  },
  DESKSIDE_LDAP_TIMEOUT_SECONDS: {
    type: 'number',
    default: 5,
    min: 0.1,
    max: 120,
    unit: 'seconds',
    doc: 'Give up on one directory operation after this long.',
  },
  DESKSIDE_LDAP_RETRY_SECONDS: {
    type: 'number',
    default: 10,
    min: 0,
    max: 3600,
    unit: 'seconds',
    doc: 'After every DC failed, answer from the cache without asking again for this long (at least 60 s after a refused password, so the service account is never locked out).',
  },
} satisfies Record<string, KeySpec>;

export const SSO_KEYS = {
  DESKSIDE_KERBEROS_KEYTAB: {
    type: 'string',
    docDefault: 'none; required with `negotiate`',
    doc: 'With `negotiate`: the keytab file holding the web service principal\'s keys (made with `ktpass` or `samba-tool domain exportkeytab`; see "Running without IIS"). Readable by the app only.',
  },
  DESKSIDE_KERBEROS_SERVICE: {
    type: 'string',
    docDefault: 'none; required with `negotiate`',
    doc: 'With `negotiate`: the service the browsers ask tickets for, as `HTTP@host` with the host name people type (`HTTP@helpdesk.corp.example`; its SPN is `HTTP/helpdesk.corp.example`). Checked against the keytab at start.',
  },
  DESKSIDE_PASSWORD_SIGNIN: {
    type: 'boolean',
    default: false,
    doc: '`true` adds a user-name-and-password form to the sign-in page for browsers that cannot sign in by themselves; the password is checked by binding to Active Directory as the person. Needs `DESKSIDE_LDAP_URL` over `ldaps://` or StartTLS.',
  },
  DESKSIDE_PASSWORD_ACCOUNT_ATTEMPTS: {
    type: 'integer',
    default: 5,
    min: 1,
    max: 100,
    doc: "Wrong passwords allowed per account within `DESKSIDE_PASSWORD_WINDOW_MINUTES` before the form pauses for that account (429). Keep it below the domain's account lockout threshold, so Deskside can never lock anyone out.",
  },
  DESKSIDE_PASSWORD_ADDRESS_ATTEMPTS: {
    type: 'integer',
    default: 20,
    min: 1,
    max: 10_000,
    doc: 'Wrong passwords allowed per client address within the window, whatever accounts they name. Under iisnode the address is IIS\'s `REMOTE_ADDR`; a user name that names nobody is not counted.',
  },
  DESKSIDE_PASSWORD_WINDOW_MINUTES: {
    type: 'integer',
    default: 15,
    min: 1,
    max: 1440,
    doc: 'The window those two limits count over, in minutes. Counts are kept in the database, so every process and server shares them.',
  },
} satisfies Record<string, KeySpec>;

export const MAIL_KEYS = {
  DESKSIDE_SMTP_URL: {
    type: 'string',
    // It may hold a password: problems never repeat it.
    secret: true,
    docDefault: 'none: mail off (no notifications, no mailbox), and nothing else changes',
    doc: 'The SMTP server notifications go through: `smtp://relay.corp.example` (port 25, STARTTLS) for an internal relay such as Exchange\'s anonymous relay, `smtp://user:password@smtp.office365.com:587` for authenticated submission, or `smtps://…:465` for TLS from the start. Percent-encode `@` and `:` in the user name and password. See "E-mail".',
  },
  DESKSIDE_SMTP_STARTTLS: {
    type: 'boolean',
    default: true,
    doc: 'With `smtp://`: refuse to send unless the server upgrades the connection with STARTTLS. `false` sends in clear text to a relay that offers no TLS (refused when the URL holds a password).',
  },
  DESKSIDE_MAIL_FROM: {
    type: 'string',
    docDefault: 'none; required with `DESKSIDE_SMTP_URL`',
    doc: 'Who notifications come from, e.g. `IT Helpdesk <helpdesk@corp.example>`. Make it the mailbox `DESKSIDE_IMAP_URL` reads, so replies come back as comments. Mail from this address is never turned into a ticket.',
  },
  DESKSIDE_PUBLIC_URL: {
    type: 'string',
    docDefault: 'none; required with `DESKSIDE_SMTP_URL`',
    doc: 'The address people open Deskside at, e.g. `https://helpdesk.corp.example`: links in mail point there, and its host name ends the Message-IDs of Deskside\'s mail.',
  },
  DESKSIDE_MAIL_CA_FILE: {
    type: 'string',
    docDefault: "Node's built-in public CAs (not the Windows store)",
    doc: 'PEM file with the CA that issued the SMTP and IMAP servers\' certificates (your enterprise CA), for STARTTLS, `smtps://` and `imaps://`.',
  },
  DESKSIDE_IMAP_URL: {
    type: 'string',
    secret: true,
    docDefault: "none: the desk's mailbox is not read",
    doc: 'The desk\'s mailbox, whose new mail becomes tickets and comments: `imaps://helpdesk%40corp.example:password@outlook.office365.com/INBOX` (port 993), or `imap://…` (port 143, always upgraded with STARTTLS). The path is the folder new mail arrives in. Read mail is moved to `Deskside/Processed` (or `Deskside/Failed`), never deleted. Needs `DESKSIDE_SMTP_URL`.',
  },
  DESKSIDE_IMAP_POLL_SECONDS: {
    type: 'number',
    default: 60,
    min: 1,
    max: 3600,
    unit: 'seconds',
    doc: 'How often the mailbox is checked when the server does not announce new mail by itself (IMAP IDLE); with IDLE, new mail is read within seconds anyway. One process reads the mailbox at a time (a lease in the database), however many processes and servers there are.',
  },
  DESKSIDE_MAIL_UNKNOWN_SENDERS: {
    type: 'enum',
    values: ['create', 'reject'] as const,
    default: 'create',
    doc: 'Mail from an address no person in Deskside has: `create` makes a requester for it (named as the mail names them) and a ticket; `reject` leaves it (moved to `Deskside/Processed`, listed on /admin/mail) and answers nothing. Use `reject` for a mailbox that takes mail from the internet.',
  },
  DESKSIDE_MAIL_ACCEPT_LIST_MAIL: {
    type: 'boolean',
    default: false,
    doc: 'Treat mail carrying `List-Id` or `Precedence: list` as a person\'s. Set it when the desk\'s address is itself a mailing list or group that adds those headers to everyone\'s mail; otherwise list mail (newsletters) is ignored.',
  },
  DESKSIDE_MAIL_SENDER_LIMIT: {
    type: 'integer',
    default: 20,
    min: 1,
    max: 10_000,
    unit: 'messages',
    doc: 'Most messages one sender address may have turned into tickets or comments within `DESKSIDE_MAIL_SENDER_WINDOW_MINUTES`; past it their mail is left unanswered (listed on /admin/mail) until they pause for a whole window. Stops mail loops and floods.',
  },
  DESKSIDE_MAIL_SENDER_WINDOW_MINUTES: {
    type: 'integer',
    default: 60,
    min: 1,
    max: 10_080,
    unit: 'minutes',
    doc: 'The window that limit counts over.',
  },
  DESKSIDE_MAIL_RETRY_HOURS: {
    type: 'number',
    default: 48,
    min: 0.01,
    max: 720,
    unit: 'hours',
    doc: 'How long a notification the SMTP server turned away for now (4xx, unreachable, a refused password) keeps being retried, less and less often (up to every 30 minutes); then it is marked failed with the server\'s last answer. A permanent refusal (5xx) fails it at once.',
  },
  DESKSIDE_MAIL_MAX_MB: {
    type: 'number',
    default: 40,
    min: 0.01,
    max: 1024,
    unit: 'MB',
    doc: 'Largest incoming message that is read; a larger one goes to `Deskside/Failed` untouched. Its files must also fit the attachment limits.',
  },
} satisfies Record<string, KeySpec>;

export const ATTACHMENT_KEYS = {
  DESKSIDE_ATTACHMENT_MAX_MB: {
    type: 'number',
    default: 25,
    min: 0.01,
    max: 2048,
    unit: 'MB',
    doc: 'Largest file that can be attached to a ticket or reply. Raising the limits? Raise IIS\'s `maxAllowedContentLength` for `tickets` in web.config too (see "Attachments").',
  },
  DESKSIDE_ATTACHMENT_POST_MAX_MB: {
    type: 'number',
    default: 50,
    min: 0.01,
    max: 4096,
    unit: 'MB',
    doc: 'Largest total of the files sent with one ticket or reply; at least `DESKSIDE_ATTACHMENT_MAX_MB`.',
  },
  DESKSIDE_ATTACHMENT_MAX_FILES: {
    type: 'integer',
    default: 10,
    min: 1,
    max: 100,
    unit: 'files',
    doc: 'Most files sent with one ticket or reply.',
  },
  DESKSIDE_ATTACHMENT_STORE: {
    type: 'string',
    docDefault: '`App_Data/attachments` (under `DESKSIDE_DATA_DIR`)',
    doc: 'Where the bytes of attachments are kept: a folder (relative paths are under the app folder), which for several IIS servers is one UNC share every app pool identity may change (`\\\\files\\deskside$\\attachments`); or `database`, for one backup of everything (SQL Server keeps them as `VARBINARY(MAX)` in 1 MiB chunks). Names, sizes and who attached what are always in the database.',
    // eslint-disable-next-line no-control-regex -- control characters are exactly what a path must not hold
    check: (v) => (/[\u0000-\u001f]/.test(v) ? 'holds a control character; give a folder path or `database`' : undefined),
  },
  DESKSIDE_ATTACHMENT_RETENTION_DAYS: {
    type: 'number',
    default: 30,
    min: 0,
    max: 3650,
    unit: 'days',
    doc: 'The bytes of a removed attachment, and bytes no attachment points at (an upload cut off by a crash), are kept this long; then the sweeper deletes them.',
  },
  DESKSIDE_ATTACHMENT_SWEEP_MINUTES: {
    type: 'number',
    default: 60,
    min: 0.05,
    max: 10_080,
    unit: 'minutes',
    doc: 'How often the sweeper looks for bytes to delete. One process sweeps at a time (a lease in the database), however many processes and servers share it.',
  },
} satisfies Record<string, KeySpec>;

export const LOGGING_KEYS = {
  DESKSIDE_LOG_LEVEL: {
    type: 'enum',
    values: ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const,
    default: 'info',
    doc: 'How much Deskside logs (pino levels).',
  },
} satisfies Record<string, KeySpec>;

export const API_KEYS = {
  DESKSIDE_API_RATE_LIMIT: {
    type: 'integer',
    default: 600,
    min: 1,
    max: 100_000,
    doc: 'Requests one API token may make per minute (`/api/v1`), counted in the database so every process and server shares the count. Past it the API answers `429` with `Retry-After`. Windows sign-in and browser sessions are not counted.',
  },
  DESKSIDE_WEBHOOK_TIMEOUT_SECONDS: {
    type: 'number',
    default: 10,
    min: 1,
    max: 60,
    unit: 'seconds',
    doc: 'How long Deskside waits for a webhook receiver to answer one delivery before counting it as not delivered.',
  },
  DESKSIDE_WEBHOOK_RETRY_HOURS: {
    type: 'number',
    default: 24,
    min: 0.01,
    max: 168,
    unit: 'hours',
    doc: 'How long a delivery the receiver did not take (no answer, `408`, `429` or `5xx`) is tried again, each wait twice the last (30 seconds up to 30 minutes), before it is marked failed. Other answers are not retried.',
  },
} satisfies Record<string, KeySpec>;

/** Every key, in README order. */
export const ALL_KEYS: Record<string, KeySpec> = { ...GENERAL_KEYS, ...LDAP_KEYS, ...SSO_KEYS, ...ATTACHMENT_KEYS, ...MAIL_KEYS, ...LOGGING_KEYS, ...API_KEYS };
