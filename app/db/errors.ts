/**
 * Errors that mean "the database cannot be used right now" rather than "this request is
 * wrong": the error handler answers them with 503 (try again) instead of 500. Kept here
 * because only db/ knows each engine's error codes.
 */
const SQLITE_UNAVAILABLE = /^SQLITE_(BUSY|LOCKED|CANTOPEN|IOERR|FULL|READONLY|PROTOCOL|NOTADB|CORRUPT)/;

export function isDatabaseUnavailable(err: unknown): boolean {
  const code = (err as { code?: unknown } | null | undefined)?.code;
  return typeof code === 'string' && SQLITE_UNAVAILABLE.test(code);
}
