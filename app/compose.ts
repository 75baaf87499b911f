/**
 * The composition root: the one place that turns settings into running parts. server.ts
 * (and so iisnode), the command-line tools and the test support all build Deskside
 * through these functions, so a directory, a database or an identity provider is chosen
 * the same way everywhere.
 */
import { existsSync, lstatSync, readFileSync, unlinkSync } from 'node:fs';
import { Readable } from 'node:stream';
import http from 'node:http';
import path from 'node:path';
import { parseEnv } from 'node:util';
import type { Kysely } from 'kysely';
import { createPolicy } from './access/policy';
import { createApp, ticketEventsOf, type AppDeps } from './app';
import { ldapStartupWarnings, type LdapConfig } from './config/ldap';
import { mailStartupWarnings } from './config/mail';
import { ConfigError, parseConfig, type Config } from './config/schema';
import { openDatabase, type Database, type OpenOptions } from './db/database';
import { assertSchemaCurrent, migrateToLatest } from './db/migrate';
import type { DB } from './db/schema';
import { DirectoryCache } from './directory/cache';
import { LdapDirectory } from './directory/ldap';
import { createStaticDirectory, type StaticUser } from './directory/static';
import type { Directory } from './directory/types';
import { attachmentSettings } from './features/attachments/attachments.service';
import { startSweeper } from './features/attachments/sweeper';
import { startDeliverer } from './features/webhooks/deliverer';
import { createWebhookOutbox } from './features/webhooks/webhooks.service';
import { seedDemoIfEmpty } from './features/demo/demo-data';
import { inboundDeps, type MailParts } from './features/mail/mail.service';
import { createMailOutbox } from './features/mail/outbox.service';
import { startMailboxReader } from './features/mail/reader';
import { startSender } from './features/mail/sender';
import { mailHost } from './features/mail/threading';
import { describeImap, describeSmtp, smtpTransport } from './features/mail/transport';
import { startBreachTimer } from './features/service-levels/clocks';
import type { TicketReadCache } from './features/tickets/tickets.cache';
import { createIdentityProvider } from './identity';
import type { IdentityProvider } from './identity/types';
import { createLogger, type Logger } from './logging';
import { APP_ROOT } from './paths';
import { deriveKeys, loadOrCreateSecret, type Keys } from './secret';
import { deleteExpiredSessions } from './session/sessions.queries';
import type { BlobStore } from './storage/blob-store';
import { DatabaseBlobStore, type BlobTables } from './storage/database-blob-store';
import { FolderBlobStore } from './storage/folder-blob-store';

type Env = Record<string, string | undefined>;

/** The site's own settings file, outside everything a release replaces (README "Deploying to IIS"). */
export const DEFAULT_SETTINGS_FILE = path.join('App_Data', 'settings.env');

/**
 * Read the settings files into `env`, without overriding what is already there. Real
 * environment variables (under IIS: web.config's appSettings, which iisnode passes on)
 * win over the site's settings file (`App_Data/settings.env`, or DESKSIDE_SETTINGS_FILE),
 * which wins over a `.env` in the app folder. Returns the files read. A settings file
 * named by DESKSIDE_SETTINGS_FILE that cannot be read stops the start.
 */
export function loadSettingsFiles(env: Env = process.env, root: string = APP_ROOT): string[] {
  const named = env.DESKSIDE_SETTINGS_FILE?.trim();
  const settings = path.resolve(root, named || DEFAULT_SETTINGS_FILE);
  if (named && !existsSync(settings)) throw new ConfigError([`DESKSIDE_SETTINGS_FILE="${named}" cannot be read (no such file: ${settings})`]);
  const read: string[] = [];
  for (const file of [settings, path.join(root, '.env')]) {
    if (!existsSync(file)) continue;
    let values: NodeJS.Dict<string>;
    try {
      // Notepad on older Windows Servers saves UTF-8 with a byte-order mark, which Node's
      // parser would take as part of the first key (and, before a comment, swallow lines).
      values = parseEnv(readFileSync(file, 'utf8').replace(/^\uFEFF/, ''));
    } catch (err) {
      throw new ConfigError([`${file} cannot be read: ${(err as Error).message}`]);
    }
    for (const [key, value] of Object.entries(values)) if (env[key] === undefined && value !== undefined) env[key] = value;
    read.push(file);
  }
  return read;
}

/** Settings files, then the whole configuration; throws ConfigError naming every bad key. */
export function configFromEnvironment(env: Env = process.env): Config {
  loadSettingsFiles(env);
  return parseConfig(env);
}

/** The LDAP directory as the settings describe it; warns at start about risky choices. */
export function ldapDirectory(ldap: LdapConfig, logger?: Logger): LdapDirectory {
  for (const w of ldapStartupWarnings(ldap)) logger?.warn({ event: 'ldap-config' }, w);
  const directory = new LdapDirectory({
    urls: ldap.urls,
    bindDn: ldap.bindDn,
    bindPassword: ldap.bindPassword,
    baseDn: ldap.baseDn,
    startTls: ldap.startTls,
    ca: ldap.caFile ? readFileSync(ldap.caFile) : undefined,
    domain: ldap.domain,
    connectTimeoutMs: ldap.connectTimeoutSeconds * 1000,
    timeoutMs: ldap.timeoutSeconds * 1000,
    retryAfterMs: ldap.retrySeconds * 1000,
    credentialRetryAfterMs: Math.max(60_000, ldap.retrySeconds * 1000),
  });
  logger?.info({ event: 'ldap-config', directory: directory.describe, startTls: ldap.startTls, caFile: ldap.caFile ?? null }, 'directory: Active Directory over LDAP');
  return directory;
}

/**
 * Which directory answers for people: Active Directory when DESKSIDE_LDAP_URL is set;
 * otherwise the demo directory for the dev identity, and behind a proxy when demo data is
 * on (so DEMO\erin & co. keep their groups); otherwise none. `override` (tests) replaces
 * the choice, keeping the cache settings.
 */
export function chooseDirectory(config: Config, logger?: Logger, override?: Directory | null): { directory: DirectoryCache; demoPeople?: StaticUser[] } {
  const demo = !config.ldap && (config.identity === 'dev' || (config.identity === 'proxy' && config.demoData));
  const staticDirectory = demo ? createStaticDirectory() : null;
  const chosen = override !== undefined ? override : config.ldap ? ldapDirectory(config.ldap, logger) : staticDirectory;
  const directory = new DirectoryCache(chosen, {
    ttlMs: (config.ldap?.cacheSeconds ?? 300) * 1000,
    maxStaleMs: (config.ldap?.maxStaleSeconds ?? 86_400) * 1000,
  });
  return { directory, demoPeople: staticDirectory?.users };
}

/** Open the configured database, check it answers, and bring its schema up to date (or insist it is). */
export async function openConfiguredDatabase(config: Config, logger: Logger, opts: OpenOptions = {}): Promise<Database> {
  const database = openDatabase(config.database, { poolSize: config.databasePoolSize, requestTimeoutMs: config.databaseRequestTimeoutMs, ...opts });
  try {
    await database.ping();
  } catch (err) {
    await database.close().catch(() => undefined);
    throw new Error(`cannot reach the database ${database.describe}: ${err instanceof Error ? err.message : String(err)}`);
  }
  if (config.migrateOnStart) {
    const applied = await migrateToLatest(database.db, database.dialect, { lockTimeoutMs: config.databaseRequestTimeoutMs - 1000 });
    if (applied.length) logger.info({ migrations: applied }, 'database migrated');
  } else {
    await assertSchemaCurrent(database.db, database.dialect);
  }
  return database;
}

/** The identity provider the settings name, logging untrusted proxy headers as security events. */
export function identityProviderFor(config: Config, logger: Logger, directory: DirectoryCache): IdentityProvider {
  return createIdentityProvider(
    config,
    (address) =>
      logger.warn({ security: true, event: 'untrusted-proxy-header', remoteAddress: address }, `ignored ${config.proxyHeader} from an address not in DESKSIDE_TRUSTED_PROXIES`),
    directory,
  );
}

/**
 * E-mail as the settings describe it, or null when it is off. The Message-IDs' MAC uses a
 * key derived from the site secret, so every process and server makes and checks the same ids.
 */
export function mailPartsFor(config: Config, keys: Keys): MailParts | null {
  const mail = config.mail;
  if (!mail) return null;
  const own = [mail.fromAddress];
  if (mail.imap && mail.imap.user.includes('@')) own.push(mail.imap.user.toLowerCase());
  return { config: mail, outbox: createMailOutbox({ threading: { host: mailHost({ publicUrl: mail.publicUrl }), key: keys.mail }, ownAddresses: own }) };
}

/**
 * Where attachment bytes go (DESKSIDE_ATTACHMENT_STORE): a folder, which may be a UNC
 * share all servers use, or the database itself. Opening it does no I/O.
 */
export function attachmentStoreFor(config: Config, database: Database): BlobStore {
  const where = config.attachments.store;
  if (where.kind === 'folder') return new FolderBlobStore(where.path);
  // The store reads and writes only its own two tables; Kysely's types cannot narrow a
  // database to some of its tables, hence the casts.
  const blobTables = (db: Kysely<DB>) => db as unknown as Kysely<BlobTables>;
  return new DatabaseBlobStore(blobTables(database.db), {
    // Uploads wait here, on this server's own disk, until their post is accepted.
    stagingDir: path.resolve(APP_ROOT, config.dataDir, 'attachment-staging'),
    // Database.write: SQLite waits behind other processes' writers, SQL Server retries deadlock victims.
    transaction: (fn) => database.write((trx) => fn(blobTables(trx))),
  });
}

/**
 * Can this process write where uploads are staged? Asked once at start, so a share the
 * app pool identity may not change is in the log before anyone tries to attach a file.
 * Never fatal: tickets without files still work.
 */
export async function checkAttachmentStore(store: BlobStore, logger: Logger, describe: string): Promise<void> {
  try {
    const probe = await store.stage(Readable.from([]));
    await probe.discard();
  } catch (err) {
    logger.error({ err, event: 'attachment-store', store: describe }, `attachments cannot be stored in ${describe}: uploads will fail until it is writable (DESKSIDE_ATTACHMENT_STORE)`);
  }
}

/** Everything createApp needs, from the settings and an open database. */
export function appDepsFor(
  config: Config,
  parts: { database: Database; logger: Logger; secret: string; directory?: Directory | null; ticketCache?: TicketReadCache; store?: BlobStore },
): AppDeps {
  const { directory, demoPeople } = chooseDirectory(config, parts.logger, parts.directory);
  const keys = deriveKeys(parts.secret);
  return {
    config,
    database: parts.database,
    keys,
    logger: parts.logger,
    identity: identityProviderFor(config, parts.logger, directory),
    directory,
    policy: createPolicy({ anonymous: config.anonymous }),
    demoPeople,
    startedAt: new Date(),
    ticketCache: parts.ticketCache,
    mail: mailPartsFor(config, keys),
    attachments: attachmentSettings(config.attachments, parts.store ?? attachmentStoreFor(config, parts.database)),
    webhooks: createWebhookOutbox(),
  };
}

export interface Running {
  server: http.Server;
  config: Config;
  logger: Logger;
  close(): Promise<void>;
}

function freeSocketPath(port: number | string): void {
  if (typeof port !== 'string' || process.platform === 'win32') return;
  try {
    if (lstatSync(port).isSocket()) unlinkSync(port);
  } catch {
    /* nothing there */
  }
}

/**
 * Start Deskside: settings, database, directory, identity, then listen on PORT, which
 * under iisnode is a named pipe (\\.\pipe\…) and is never parsed as a number. Throws
 * ConfigError for bad settings (server.ts prints it and exits).
 */
export async function start(env: Env = process.env): Promise<Running> {
  const config = configFromEnvironment(env);
  const logger = createLogger(config.logLevel);
  const secret = config.secret ?? loadOrCreateSecret(path.resolve(APP_ROOT, config.dataDir));
  const database = await openConfiguredDatabase(config, logger);
  const deps = appDepsFor(config, { database, logger, secret });
  for (const w of deps.identity.startupWarnings()) logger.warn(w);
  await deps.identity.start?.();
  if (config.demoData) {
    const seeded = await seedDemoIfEmpty(database, deps.demoPeople ?? []);
    if (seeded) logger.info({ tickets: seeded }, 'seeded demo data into an empty database');
  }
  const app = createApp(deps);
  const storeDescription = config.attachments.store.kind === 'folder' ? config.attachments.store.path : 'the database';
  await checkAttachmentStore(deps.attachments.store, logger, storeDescription);

  // Slow clients must not hold the server: a client gets 15 s to send its headers and
  // 60 s for the whole request, checked every 2 s (node's default check is every 30 s).
  // Under iisnode the pipe's other end is IIS, which pools connections and reuses them
  // after any idle time: if node closed an idle one, the request IIS sends on it next
  // fails (500.1011/500.1013), so node never closes them itself there.
  const server = http.createServer(
    { headersTimeout: 15_000, requestTimeout: 60_000, keepAliveTimeout: config.underIisnode ? 0 : 5_000, connectionsCheckingInterval: 2_000 },
    app,
  );

  // The demo identity lets anyone act as anyone: unless DESKSIDE_HOST says otherwise it
  // answers this computer only, never the network.
  const host = config.host ?? (config.identity === 'dev' ? '127.0.0.1' : undefined);
  freeSocketPath(config.port);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    if (typeof config.port === 'number') server.listen(config.port, host, resolve);
    else server.listen(config.port, resolve);
  });
  const where = typeof config.port === 'number' ? `http://${host ?? 'localhost'}:${(server.address() as { port: number }).port}` : config.port;
  const what = config.identity === 'dev' ? 'The Deskside demo (anyone can act as anyone: for demos and development only)' : 'Deskside';
  logger.info(
    { listen: where, identity: config.identity, database: database.describe, attachments: storeDescription, nodeEnv: config.nodeEnv, iisnode: config.underIisnode },
    `${what} is listening on ${where}`,
  );

  // Expired sign-ins are ignored by every query; clearing them keeps the table small.
  const sweep = () =>
    deleteExpiredSessions(database.db, new Date().toISOString()).then(
      (n) => n && logger.info({ sessions: n }, 'removed expired sessions'),
      (err: unknown) => logger.warn({ err }, 'could not remove expired sessions'),
    );
  void sweep();
  const sweeper = setInterval(() => void sweep(), 3_600_000);
  sweeper.unref();
  const fileSweeper = startSweeper({
    database,
    store: deps.attachments.store,
    logger,
    retentionMs: config.attachments.retentionMs,
    intervalMs: config.attachments.sweepIntervalMs,
  });
  // Missed service-level targets are recorded as they happen; every process runs the timer,
  // and each breach is recorded by exactly one of them.
  const stopBreachTimer = startBreachTimer(database, {
    everyMs: 30_000,
    onRecorded: (n) => logger.info({ breaches: n }, 'recorded missed service-level targets'),
    onError: (err) => logger.warn({ err }, 'could not record missed service-level targets'),
  });

  // Mail: every process sends (the outbox's claims keep any one notification to one sender).
  const mail = deps.mail;
  let sender: { stop(): Promise<void> } | undefined;
  let reader: { stop(): Promise<void> } | undefined;
  if (mail) {
    for (const w of mailStartupWarnings(mail.config)) logger.warn({ event: 'mail-config' }, w);
    sender = startSender({
      database,
      outbox: mail.outbox,
      transport: () => smtpTransport(mail.config.smtp, mail.config.caFile),
      logger,
      from: mail.config.from,
      publicUrl: mail.config.publicUrl,
      replyByMail: Boolean(mail.config.imap),
      serverName: describeSmtp(mail.config),
      retryMs: mail.config.retryMs,
    });
    logger.info({ event: 'mail-config', smtp: describeSmtp(mail.config), from: mail.config.from }, 'mail: notifications go out through the outbox');
    const imap = mail.config.imap;
    if (imap) {
      // Every process offers; the one holding the lease reads.
      reader = startMailboxReader({
        database,
        imap,
        caFile: mail.config.caFile,
        maxMessageBytes: mail.config.maxMessageBytes,
        inbound: inboundDeps(database, mail, deps.attachments, ticketEventsOf(deps)),
        logger,
      });
      logger.info({ event: 'mail-config', imap: describeImap(imap), unknownSenders: mail.config.unknownSenders }, 'mail: the desk’s mailbox becomes tickets');
    }
  }
  // Webhooks: every process delivers (the outbox's claims keep any one delivery to one process).
  const deliverer = startDeliverer({ database, logger, outbox: deps.webhooks, timeoutMs: config.api.webhookTimeoutMs, retryMs: config.api.webhookRetryMs });

  let closing: Promise<void> | undefined;
  const close = () =>
    (closing ??= (async () => {
      clearInterval(sweeper);
      await reader?.stop();
      await sender?.stop();
      await fileSweeper.stop();
      await deliverer.stop();
      await stopBreachTimer();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      await deps.directory.directory?.close();
      await database.close();
    })());
  return { server, config, logger, close };
}
