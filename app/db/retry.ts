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
