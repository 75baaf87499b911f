/**
 * The entry point: `npm start` runs it, and iisnode require()s it through the root
 * server.js (web.config <handlers>). Everything it starts is built in compose.ts.
 */
import { ConfigError } from './config/schema';
import { start } from './compose';
import { NegotiateStartError } from './identity/negotiate';

start()
  .then((running) => {
    const stop = (signal: string) => {
      running.logger.info({ signal }, 'shutting down');
      running.close().then(
        () => process.exit(0),
        () => process.exit(1),
      );
    };
    process.once('SIGTERM', () => stop('SIGTERM'));
    process.once('SIGINT', () => stop('SIGINT'));
  })
  .catch((err: unknown) => {
    // Refusals that name their fix (bad settings, a missing package, a keytab without the
    // service) need no stack.
    const plain = err instanceof ConfigError || err instanceof NegotiateStartError;
    process.stderr.write(`${plain ? '' : 'Deskside failed to start: '}${err instanceof Error ? (plain ? err.message : err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  });
