import { createHmac } from 'node:crypto';
import type { Database } from '../../db/database';
import { toDate } from '../../db/values';
import type { Logger } from '../../logging';
import { runOutboxWorker, workerHolder } from '../shared/outbox-worker';
import { backoffMs, claimOutboxRow, dueOutboxIds } from '../shared/outbox.queries';
import { checkWebhookUrl } from './webhooks.service';
import { deleteFinishedDeliveries, finishDelivery, getDelivery } from './webhooks.queries';
import type { WebhookOutbox } from './webhooks.service';

/**
 * The background deliverer. Every process runs one (compose.ts start()); they share the
 * outbox in the database and never deliver one delivery twice once it succeeded:
 *
 * - A delivery is sent only by the process whose claim succeeded (one UPDATE that needs the
 *   row still queued and unleased). The lease (LEASE_MS) outlasts the longest a try may take
 *   (DESKSIDE_WEBHOOK_TIMEOUT_SECONDS, at most a minute, which also bounds reading the answer).
 * - The outcome is written only while the lease is still the deliverer's own.
 * - A 2xx is delivered. No answer, 408, 429 and 5xx are tried again, each wait twice the
 *   last (30 s up to 30 minutes; a 429's or 503's Retry-After is honoured within that),
 *   until DESKSIDE_WEBHOOK_RETRY_HOURS after it was queued; anything else (a redirect, a
 *   4xx) fails at once. The answer's status and first words are kept for /admin/webhooks.
 * - A process that dies mid-try leaves its lease to run out; the delivery is then tried
 *   again with the same body and X-Deskside-Delivery id, which receivers use to drop a
 *   second copy. That needs a crash between the receiver's 2xx and the next database write.
 *
 * Each try is signed: `X-Deskside-Signature: sha256=<hex HMAC-SHA256(secret, timestamp + "." + body)>`
 * with `X-Deskside-Timestamp` (seconds), so a receiver can refuse a replay.
 */

export const LEASE_MS = 2 * 60_000;
const DEFAULT_BACKOFF = { firstMs: 30_000, maxMs: 30 * 60_000 };
const ANSWER_BYTES = 2048;

export interface DelivererOptions {
  database: Database;
  logger: Logger;
  /** DESKSIDE_WEBHOOK_TIMEOUT_SECONDS, in ms. */
  timeoutMs: number;
  /** DESKSIDE_WEBHOOK_RETRY_HOURS, in ms. */
  retryMs: number;
  /** Who this process is in lease columns; unique per process. */
  holder?: string;
  pollMs?: number;
  backoff?: { firstMs: number; maxMs: number };
  batch?: number;
  now?: () => number;
}

export interface DeliveryTurn {
  delivered: number;
  retrying: number;
  failed: number;
  /** Claimed by another process first. */
  lost: number;
}

/** The signature a receiver recomputes: HMAC-SHA256 over `timestamp.body` with the endpoint's secret. */
export function signDelivery(secret: string, timestamp: string, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex')}`;
}

interface Answer {
  status: number | null;
  answer: string;
  retryAfterMs?: number;
}

async function firstBytes(res: Response): Promise<string> {
  if (!res.body) return '';
  const reader: ReadableStreamDefaultReader<Uint8Array> = res.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    while (size < ANSWER_BYTES) {
      const { done, value } = await reader.read();
      if (done) break;
      chunks.push(value);
      size += value.length;
    }
  } finally {
    await reader.cancel().catch(() => undefined);
  }
  return Buffer.concat(chunks).subarray(0, ANSWER_BYTES).toString('utf8').replace(/\s+/g, ' ').trim();
}

function retryAfter(header: string | null, now: number): number | undefined {
  if (!header) return undefined;
  if (/^\d{1,7}$/.test(header.trim())) return Number(header.trim()) * 1000;
  const at = Date.parse(header);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

/** One try: POST the body with its signature; the receiver's status and first words, or why there was none. */
export async function postDelivery(d: { url: string; secret: string; body: string; event: string; key: string }, timeoutMs: number, now: number): Promise<Answer> {
  const refused = checkWebhookUrl(d.url);
  if (refused) return { status: null, answer: refused };
  const timestamp = String(Math.floor(now / 1000));
  try {
    const res = await fetch(d.url, {
      method: 'POST',
      body: d.body,
      redirect: 'manual',
      signal: AbortSignal.timeout(timeoutMs),
      headers: {
        'Content-Type': 'application/json; charset=utf-8',
        'User-Agent': 'Deskside-Webhooks/1',
        'X-Deskside-Event': d.event,
        'X-Deskside-Delivery': d.key,
        'X-Deskside-Timestamp': timestamp,
        'X-Deskside-Signature': signDelivery(d.secret, timestamp, d.body),
      },
    });
    const text = await firstBytes(res);
    const where = res.status >= 300 && res.status < 400 ? ` (a redirect to ${res.headers.get('location') ?? 'nowhere'}: Deskside does not follow redirects; give the final address)` : '';
    return { status: res.status, answer: `${res.status} ${res.statusText}${where}${text ? `: ${text.slice(0, 500)}` : ''}`, retryAfterMs: retryAfter(res.headers.get('retry-after'), now) };
  } catch (err) {
    const e = err as Error & { cause?: { code?: string; message?: string } };
    const why = e.name === 'TimeoutError' ? `no answer within ${Math.round(timeoutMs / 1000)} s` : (e.cause?.code ?? e.cause?.message ?? e.message);
    return { status: null, answer: `Could not deliver: ${why}` };
  }
}

const retryable = (status: number | null) => status === null || status === 408 || status === 429 || status >= 500;

/**
 * One turn: claim what is due, send it, record how it went. A database problem with one
 * delivery is left for its lease to run out, never a crash.
 */
export async function deliverDue(o: DelivererOptions): Promise<DeliveryTurn> {
  const now = o.now ?? Date.now;
  const holder = o.holder ?? workerHolder();
  const backoff = o.backoff ?? DEFAULT_BACKOFF;
  const turn: DeliveryTurn = { delivered: 0, retrying: 0, failed: 0, lost: 0 };
  const db = o.database.db;
  const ids = await dueOutboxIds(db, o.database.dialect, 'webhook_deliveries', new Date(now()).toISOString(), o.batch ?? 20);
  for (const id of ids) {
    const claimedAt = now();
    if (!(await o.database.write((trx) => claimOutboxRow(trx, 'webhook_deliveries', id, holder, new Date(claimedAt).toISOString(), new Date(claimedAt + LEASE_MS).toISOString())))) {
      turn.lost++;
      continue;
    }
    const d = await getDelivery(db, id);
    if (!d) continue;
    const finish = (outcome: Parameters<typeof finishDelivery>[3]) => o.database.write((trx) => finishDelivery(trx, id, holder, outcome, new Date(now()).toISOString()));
    if (d.webhook_active !== 1) {
      await finish({ status: 'failed', lastStatus: null, lastAnswer: 'Not sent: the endpoint was switched off.' });
      turn.failed++;
      continue;
    }
    const a = await postDelivery({ url: d.url, secret: d.secret, body: d.body, event: d.event, key: d.delivery_key }, o.timeoutMs, now());
    const log = { event: 'webhook-delivery', delivery: id, webhook: d.webhook_id, key: d.delivery_key, status: a.status, attempts: d.attempts };
    if (a.status !== null && a.status >= 200 && a.status < 300) {
      if (!(await finish({ status: 'delivered', lastStatus: a.status, lastAnswer: a.answer, deliveredAt: new Date(now()).toISOString() }))) o.logger.warn(log, 'delivered a webhook whose lease had already run out');
      o.logger.info(log, 'webhook delivered');
      turn.delivered++;
      continue;
    }
    const queuedFor = now() - toDate(d.created_at)!.getTime();
    if (retryable(a.status) && queuedFor < o.retryMs) {
      const wait = Math.min(backoff.maxMs, Math.max(backoffMs(d.attempts, backoff), a.retryAfterMs ?? 0));
      const next = new Date(now() + wait).toISOString();
      await finish({ status: 'queued', lastStatus: a.status, lastAnswer: a.answer, nextAttemptAt: next });
      o.logger.warn({ ...log, next, answer: a.answer }, 'a webhook receiver did not take a delivery; it is tried again later');
      turn.retrying++;
    } else {
      const why = retryable(a.status) ? `Gave up after ${d.attempts} tries over ${Math.round(queuedFor / 60_000)} minutes (DESKSIDE_WEBHOOK_RETRY_HOURS). Last answer: ${a.answer}` : a.answer;
      await finish({ status: 'failed', lastStatus: a.status, lastAnswer: why });
      o.logger.error({ ...log, answer: why }, 'a webhook delivery failed');
      turn.failed++;
    }
  }
  return turn;
}

/** Run the deliverer in this process until stopped (shared/outbox-worker.ts); old delivered and failed deliveries go after 30 days. */
export function startDeliverer(o: DelivererOptions & { outbox: WebhookOutbox }): { stop(): Promise<void>; wake(): void } {
  const holder = o.holder ?? workerHolder();
  const batch = o.batch ?? 20;
  return runOutboxWorker({
    turn: async () => {
      const t = await deliverDue({ ...o, holder, batch });
      return t.delivered + t.retrying + t.failed + t.lost;
    },
    batch,
    pollMs: o.pollMs ?? 10_000,
    onQueued: (wake) => o.outbox.onQueued(wake),
    sweep: () => o.database.write((trx) => deleteFinishedDeliveries(trx, new Date(Date.now() - 30 * 86_400_000).toISOString())),
    onError: (err, during) => o.logger.warn({ err, event: 'webhook-delivery' }, during === 'turn' ? 'the webhook deliverer could not read the outbox; it tries again shortly' : 'could not clear old webhook deliveries'),
  });
}
