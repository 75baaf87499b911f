import pino from 'pino';

export type Logger = pino.Logger;

/**
 * Structured logs to stdout, which iisnode captures into its log folder. Anything that
 * could carry a secret is redacted at the source, whatever a caller passes in.
 */
export function createLogger(level: string, destination?: pino.DestinationStream): Logger {
  return pino(
    {
      level,
      base: { app: 'deskside', pid: process.pid },
      redact: {
        paths: ['password', '*.password', '*.*.password', 'req.body', 'body', 'headers.cookie', 'headers.authorization', 'req.headers.cookie', 'req.headers.authorization', 'secret', '*.secret'],
        censor: '[redacted]',
      },
      timestamp: pino.stdTimeFunctions.isoTime,
    },
    destination,
  );
}
