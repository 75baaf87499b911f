import { randomUUID } from 'node:crypto';
import os from 'node:os';
import type { Database } from '../../db/database';
import type { Logger } from '../../logging';
import type { BlobStore } from '../../storage/blob-store';
import { STAGING_MAX_AGE_MS, sweepBlobs, type SweepResult } from '../../storage/sweep';
import { claimLease } from '../shared/leases.queries';
import { stillReferenced } from './attachments.service';

/** The lease's name in worker_leases. */
export const SWEEP_LEASE = 'attachment-sweep';

export interface SweeperOptions {
  database: Database;
  store: BlobStore;
  logger: Logger;
  retentionMs: number;
  intervalMs: number;
  /** Who this process is in the lease table; unique per process. */
  holder?: string;
  now?: () => number;
}

export type SweepOutcome = { kind: 'swept'; result: SweepResult } | { kind: 'held-elsewhere'; stagingRemoved: number };

export class LeaseLostError extends Error {}

/** host:pid:random, so a lease names the process that holds it and a restarted one never reuses it. */
export function processHolder(): string {
  return `${os.hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
}

/**
 * One turn of the sweeper. Every process clears its own stale staged files (for the
 * database store these are on a local disk only it can see). The rest, deleting bytes
 * nobody needs, is done by whichever process holds the lease: it is held for one
 * interval and not given back, so the farm sweeps about once per interval, and a holder
 * that dies hands over when it expires. The lease is renewed before each batch; a sweep
 * that finds it taken stops. (Two sweeps at once would still be safe, because a blob is
 * only ever deleted if nobody has put it since it was listed: the lease saves the work.)
 */
export async function sweepOnce(o: SweeperOptions): Promise<SweepOutcome> {
  const now = o.now ?? Date.now;
  const holder = o.holder ?? processHolder();
  const claim = () => claimLease(o.database.db, SWEEP_LEASE, holder, new Date(now()), o.intervalMs);
  if (!(await claim())) return { kind: 'held-elsewhere', stagingRemoved: await o.store.sweepStaging(STAGING_MAX_AGE_MS, now()) };
  const referenced = stillReferenced(o.database, o.retentionMs, now);
  const result = await sweepBlobs(o.store, {
    retentionMs: o.retentionMs,
    now: now(),
    isReferenced: async (sha256s) => {
      if (!(await claim())) throw new LeaseLostError(`the ${SWEEP_LEASE} lease was taken by another process`);
      return referenced(sha256s);
    },
  });
  return { kind: 'swept', result };
}

/**
 * Run the sweeper every `intervalMs` in this process until stopped (compose.ts start()).
 * The first turn waits a little, so a burst of process starts (an app pool recycling)
 * does no work at once. Timers never keep the process alive.
 */
export function startSweeper(o: SweeperOptions & { firstDelayMs?: number }): { stop(): Promise<void> } {
  const holder = o.holder ?? processHolder();
  let running: Promise<void> | undefined;
  let stopped = false;
  const turn = () => {
    if (stopped || running) return;
    running = sweepOnce({ ...o, holder })
      .then((outcome) => {
        if (outcome.kind === 'swept') {
          const { considered, deleted, stagingRemoved } = outcome.result;
          o.logger[deleted || stagingRemoved ? 'info' : 'debug']({ event: 'attachment-sweep', considered, deleted, stagingRemoved }, 'swept attachment storage');
        } else if (outcome.stagingRemoved) {
          o.logger.info({ event: 'attachment-sweep', stagingRemoved: outcome.stagingRemoved }, 'removed stale staged uploads');
        }
      })
      .catch((err: unknown) => o.logger.warn({ err, event: 'attachment-sweep' }, 'the attachment sweep did not finish; it runs again next interval'))
      .finally(() => (running = undefined));
  };
  const first = setTimeout(turn, o.firstDelayMs ?? Math.min(o.intervalMs, 30_000));
  const every = setInterval(turn, o.intervalMs);
  first.unref();
  every.unref();
  return {
    async stop() {
      stopped = true;
      clearTimeout(first);
      clearInterval(every);
      await running;
    },
  };
}
