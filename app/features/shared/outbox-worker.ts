import { randomUUID } from 'node:crypto';
import os from 'node:os';

/** host:pid:random: names a process in lease columns, never reused by a restarted one. */
export function workerHolder(): string {
  return `${os.hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
}

/**
 * The loop of a worker that sends what an outbox holds, in every process: a turn every
 * `pollMs` (other processes' rows, retries coming due), soon after this process queues
 * something, and again at once after a full batch; an hourly sweep of old rows. Turns never
 * overlap; a failed turn is logged by `onError` and tried again later. Timers never keep the
 * process alive.
 */
export function runOutboxWorker(o: {
  /** One turn; returns how many rows it handled (a full batch means there may be more). */
  turn: () => Promise<number>;
  batch: number;
  pollMs: number;
  /** Subscribes `wake` to "this process queued something"; returns the unsubscribe. */
  onQueued: (wake: () => void) => () => void;
  sweep: () => Promise<unknown>;
  onError: (err: unknown, during: 'turn' | 'sweep') => void;
}): { stop(): Promise<void>; wake(): void } {
  let running: Promise<void> | undefined;
  let again = false;
  let stopped = false;
  const turn = () => {
    if (stopped) return;
    if (running) {
      again = true;
      return;
    }
    running = o
      .turn()
      .then((handled) => {
        if (handled >= o.batch) again = true;
      })
      .catch((err: unknown) => o.onError(err, 'turn'))
      .finally(() => {
        running = undefined;
        if (again && !stopped) {
          again = false;
          setImmediate(turn);
        }
      });
  };
  const timers = new Set<NodeJS.Timeout>();
  const later = (ms: number) => {
    const t = setTimeout(() => {
      timers.delete(t);
      turn();
    }, ms);
    t.unref();
    timers.add(t);
  };
  // Queued inside a transaction that may not have committed yet: look once it has had time to, and once more later.
  const wake = () => {
    later(50);
    later(1000);
  };
  const unsubscribe = o.onQueued(wake);
  const every = setInterval(turn, o.pollMs);
  every.unref();
  const sweep = setInterval(() => void o.sweep().catch((err: unknown) => o.onError(err, 'sweep')), 3_600_000);
  sweep.unref();
  later(1000);
  return {
    wake,
    async stop() {
      stopped = true;
      unsubscribe();
      clearInterval(every);
      clearInterval(sweep);
      for (const t of timers) clearTimeout(t);
      await running;
    },
  };
}
