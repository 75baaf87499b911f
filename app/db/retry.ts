/**
 * SQL Server resolves a deadlock by rolling back one of the transactions (error 1205,
 * "chosen as the deadlock victim … Rerun the transaction"). A write transaction is
 * all-or-nothing, so running it again is safe; doing so a bounded number of times
 * turns a rare collision under load into a slightly slower request instead of a 500.
 */

export const DEADLOCK_VICTIM = 1205;

/** The SQL Server error number, wherever mssql, tedious or msnodesqlv8 put it. */
export function sqlServerErrorNumber(err: unknown): number | undefined {
  const seen = new Set<unknown>();
  let e: unknown = err;
  while (e && typeof e === 'object' && !seen.has(e)) {
    seen.add(e);
    const o = e as { number?: unknown; info?: { number?: unknown }; originalError?: unknown; cause?: unknown };
    if (typeof o.number === 'number') return o.number;
    if (o.info && typeof o.info.number === 'number') return o.info.number;
    e = o.originalError ?? o.cause;
  }
  return undefined;
}

export function isDeadlockVictim(err: unknown): boolean {
  return sqlServerErrorNumber(err) === DEADLOCK_VICTIM;
}

export interface RetryOptions {
  /** Total tries, the first included. */
  attempts?: number;
  baseDelayMs?: number;
  sleep?: (ms: number) => Promise<void>;
  random?: () => number;
  onRetry?: (attempt: number, err: unknown) => void;
}

const realSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Run `fn`, running it again when SQL Server picked it as a deadlock victim. */
export async function retryDeadlocks<T>(fn: () => Promise<T>, opts: RetryOptions = {}): Promise<T> {
  const attempts = opts.attempts ?? 3;
  const base = opts.baseDelayMs ?? 25;
  const sleep = opts.sleep ?? realSleep;
  const random = opts.random ?? Math.random;
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn();
    } catch (err) {
      if (attempt >= attempts || !isDeadlockVictim(err)) throw err;
      opts.onRetry?.(attempt, err);
      // Jittered back-off, so the two transactions that collided do not collide again.
      await sleep(Math.round(base * 2 ** (attempt - 1) * (0.5 + random())));
    }
  }
}

/**
 * SQLite: another process (iisnode runs several) holds the write lock. The busy timeout
 * is kept short because better-sqlite3 waits synchronously, which would stall every
 * other request in this process; the waiting happens here instead, asynchronously,
 * until a time budget runs out. Transactions BEGIN IMMEDIATE, so "busy" comes before
 * any work was done and running again is safe.
 */
export function isSqliteBusy(err: unknown): boolean {
  const code = (err as { code?: unknown })?.code;
  return typeof code === 'string' && (code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED'));
}

export async function retryBusy<T>(fn: () => Promise<T>, opts: { budgetMs: number; sleep?: (ms: number) => Promise<void>; now?: () => number; random?: () => number }): Promise<T> {
  const sleep = opts.sleep ?? realSleep;
  const now = opts.now ?? Date.now;
  const random = opts.random ?? Math.random;
  const deadline = now() + opts.budgetMs;
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn();
    } catch (err) {
      if (!isSqliteBusy(err) || now() >= deadline) throw err;
      await sleep(Math.min(Math.max(0, deadline - now()), Math.round(Math.min(200, 5 * 2 ** attempt) * (0.5 + random()))));
    }
  }
}
