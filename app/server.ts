/**
 * The entry point iisnode require()s (web.config <handlers>), and `npm start` runs.
 * It loads configuration, opens the database, runs migrations and listens on PORT,
 * which under iisnode is a named pipe (\\.\pipe\…) and must never be parsed as a number.
 */
import { existsSync, lstatSync, unlinkSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { createPolicy } from './access/policy';
import { createApp } from './app';
import { ConfigError, parseConfig, type Config } from './config/schema';
import { APP_ROOT, openDatabase } from './db/database';
import { assertSchemaCurrent, migrateToLatest } from './db/migrate';
import { DirectoryCache } from './directory/cache';
import { ldapDirectoryFromConfig } from './directory/from-config';
import { createStaticDirectory } from './directory/static';
import { seedDemoIfEmpty } from './features/demo/demo-data';
import { createIdentityProvider } from './identity';
import { NegotiateStartError } from './identity/negotiate';
import { deleteExpiredSessions } from './identity/sessions.queries';
import { createLogger, type Logger } from './logging';
import { deriveKeys, loadOrCreateSecret } from './secret';

function loadDotEnv(): void {
  const file = path.join(APP_ROOT, '.env');
  // Real environment variables (and iisnode's appSettings) win over the file.
  if (existsSync(file)) process.loadEnvFile(file);
}

function freeSocketPath(port: number | string): void {
  if (typeof port !== 'string' || process.platform === 'win32') return;
  try {
    if (lstatSync(port).isSocket()) unlinkSync(port);
  } catch {
    /* nothing there */
  }
}

export async function start(): Promise<{ server: http.Server; config: Config; logger: Logger; close: () => Promise<void> }> {
  loadDotEnv();
  let config: Config;
  try {
    config = parseConfig(process.env);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.message}\n`);
      process.exit(1);
    }
    throw err;
  }
  const logger = createLogger(config.logLevel);
  const dataDir = path.resolve(APP_ROOT, config.dataDir);
  const secret = config.secret ?? loadOrCreateSecret(dataDir);
  const database = openDatabase(config.database, { poolSize: config.databasePoolSize, requestTimeoutMs: config.databaseRequestTimeoutMs });
  try {
    await database.ping();
  } catch (err) {
    throw new Error(`cannot reach the database ${database.describe}: ${err instanceof Error ? err.message : String(err)}`);
  }
  if (config.migrateOnStart) {
    const applied = await migrateToLatest(database.db, database.dialect, { lockTimeoutMs: config.databaseRequestTimeoutMs - 1000 });
    if (applied.length) logger.info({ migrations: applied }, 'database migrated');
  } else {
    await assertSchemaCurrent(database.db, database.dialect);
  }

  // The demo directory answers for the dev identity, and behind a proxy when demo data is
  // on (so DEMO\erin & co. keep their groups); a configured LDAP directory always wins.
  const demoDirectory = !config.ldap && (config.identity === 'dev' || (config.identity === 'proxy' && config.demoData));
  const staticDirectory = demoDirectory ? createStaticDirectory() : null;
  const ldap = config.ldap ? ldapDirectoryFromConfig(config.ldap, logger) : null;
  const directory = new DirectoryCache(ldap ?? staticDirectory, {
    ttlMs: (config.ldap?.cacheSeconds ?? 300) * 1000,
    maxStaleMs: (config.ldap?.maxStaleSeconds ?? 86_400) * 1000,
  });
  if (config.demoData) {
    const seeded = await seedDemoIfEmpty(database, staticDirectory?.users ?? []);
    if (seeded) logger.info({ tickets: seeded }, 'seeded demo data into an empty database');
  }

  const identity = createIdentityProvider(
    config,
    (address) =>
      logger.warn({ security: true, event: 'untrusted-proxy-header', remoteAddress: address }, `ignored ${config.proxyHeader} from an address not in DESKSIDE_TRUSTED_PROXIES`),
    directory,
  );
  for (const w of identity.startupWarnings()) logger.warn(w);
  await identity.start?.();

  const app = createApp({
    config,
    database,
    keys: deriveKeys(secret),
    logger,
    identity,
    directory,
    policy: createPolicy({ anonymous: config.anonymous }),
    demoPeople: staticDirectory?.users,
    startedAt: new Date(),
  });

  // Slow clients must not hold the server: a client gets 15 s to send its headers and
  // 60 s for the whole request, checked every 2 s (node's default check is every 30 s).
  // Under iisnode the only client is IIS, which keeps idle pipe connections pooled for
  // reuse (up to maxNamedPipePooledConnectionAge, 30 s) and retries only when writing to
  // one fails: a pipe node closes while it sits in that pool can fail the next request
  // with 500.1011/500.1013. So there node never times an idle connection out (0 = off).
  const keepAliveTimeout = config.underIisnode ? 0 : 5_000;
  const server = http.createServer({ headersTimeout: 15_000, requestTimeout: 60_000, keepAliveTimeout, connectionsCheckingInterval: 2_000 }, app);

  freeSocketPath(config.port);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    if (typeof config.port === 'number') server.listen(config.port, config.host, resolve);
    else server.listen(config.port, resolve);
  });
  const where = typeof config.port === 'number' ? `http://${config.host ?? 'localhost'}:${(server.address() as { port: number }).port}` : config.port;
  logger.info({ listen: where, identity: config.identity, database: database.describe, nodeEnv: config.nodeEnv, iisnode: config.underIisnode }, `Deskside is listening on ${where}`);

  // Expired sign-ins are ignored by every query; clearing them keeps the table small.
  const sweep = () =>
    deleteExpiredSessions(database.db, new Date().toISOString()).then(
      (n) => n && logger.info({ sessions: n }, 'removed expired sessions'),
      (err: unknown) => logger.warn({ err }, 'could not remove expired sessions'),
    );
  void sweep();
  const sweeper = setInterval(sweep, 3_600_000);
  sweeper.unref();

  let closing: Promise<void> | undefined;
  const close = () =>
    (closing ??= (async () => {
      clearInterval(sweeper);
      await new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      await directory.directory?.close();
      await database.close();
    })());
  return { server, config, logger, close };
}


start()
  .then(({ close, logger }) => {
    const stop = (signal: string) => {
      logger.info({ signal }, 'shutting down');
      close().then(
        () => process.exit(0),
        () => process.exit(1),
      );
    };
    process.once('SIGTERM', () => stop('SIGTERM'));
    process.once('SIGINT', () => stop('SIGINT'));
  })
  .catch((err: unknown) => {
    // Refusals that name their fix (a missing package, a keytab without the service) need no stack.
    const plain = err instanceof NegotiateStartError;
    process.stderr.write(`Deskside failed to start: ${err instanceof Error ? (plain ? err.message : err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  });
