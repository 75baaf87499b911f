import type { SendMailOptions } from 'nodemailer';
import type { Database } from '../../db/database';
import { toDate } from '../../db/values';
import { withDeadline } from '../../deadline';
import type { Logger } from '../../logging';
import { listPeopleByIds } from '../../people/people.queries';
import { runOutboxWorker, workerHolder } from '../shared/outbox-worker';
import { backoffMs } from '../shared/outbox.queries';
import { getTicket, listEventsByIds } from '../tickets/tickets.queries';
import { claimOutboxRow, deleteArrivalsBefore, deleteFinishedOutbox, deleteInboundBefore, dueOutboxIds, finishOutboxRow, getOutboxRow, type OutboxRow } from './mail.queries';
import type { MailOutbox } from './outbox.service';
import { AUTOMATIC_MAIL_HEADERS, notificationHeaders } from './outbound-headers';
import { renderMail, ticketMailView, type RenderedMail } from './render';
import { messageIdsIn } from './threading';
import type { MailTransport } from './transport';

/**
 * The background sender. Every process with mail on runs one (compose.ts start()); they
 * share the outbox in the database and never send a notification twice:
 *
 * - A notification is sent only by the process whose claim on it succeeded: one UPDATE that
 *   needs the row still queued and unleased, so of racing processes exactly one wins. The
 *   lease (LEASE_MS) outlasts the longest a send may take (SEND_DEADLINE_MS, within which
 *   nodemailer's own timeouts end it), so it cannot run out under a send in progress.
 * - The outcome is written only while the lease is still the sender's own.
 * - A temporary failure (4xx, the server gone, a refused password) is tried again later,
 *   each wait twice the last (from 30 s up to 30 minutes), until DESKSIDE_MAIL_RETRY_HOURS
 *   after it was queued; a permanent one (5xx, an address the server will never take) is
 *   marked failed at once. Either way the server's answer is kept for /admin/mail.
 * - A process that dies mid-send leaves its lease to run out; the notification is then
 *   sent again, with the same Message-ID (a receiving server may drop the copy). That is
 *   the one case of "twice", and it needs a crash between the server's "250 OK" and the
 *   next database write.
 */

export const LEASE_MS = 5 * 60_000;
export const SEND_DEADLINE_MS = 3 * 60_000;

export interface SenderOptions {
  database: Database;
  outbox: MailOutbox;
  /** Made once and again after a send had to be abandoned (its pooled connections go with it). */
  transport: () => MailTransport;
  logger: Logger;
  /** DESKSIDE_MAIL_FROM as given. */
  from: string;
  publicUrl: string;
  /** The mailbox is read: mail says "reply to add to the ticket". */
  replyByMail: boolean;
  /** How the test message names the server. */
  serverName: string;
  retryMs: number;
  /** Who this process is in lease columns; unique per process. */
  holder?: string;
  /** How long a claim lasts (LEASE_MS; tests shorten it). */
  leaseMs?: number;
  pollMs?: number;
  /** First wait after a temporary failure, and the longest. */
  backoff?: { firstMs: number; maxMs: number };
  batch?: number;
  now?: () => number;
}

export interface SendTurn {
  sent: number;
  retrying: number;
  failed: number;
  /** Claimed by another process first. */
  lost: number;
}

/** host:pid:random: names the process in lease columns (the one naming every outbox worker uses). */
export const senderHolder = workerHolder;

export type Verdict = { kind: 'temporary' | 'permanent'; answer: string };

/** What an error from nodemailer means for the notification, and the answer to keep. */
export function classifySendError(err: unknown): Verdict {
  const e = (err ?? {}) as { code?: string; responseCode?: number; response?: string; permanent?: boolean; message?: string };
  const said = (e.response ?? e.message ?? String(err)).replace(/\s+/g, ' ').trim();
  const answer = e.code && !said.includes(e.code) ? `${said} (${e.code})` : said;
  // A refused password is the site's to fix, not the message's fault: keep the mail until it is.
  if (e.code === 'EAUTH' || e.code === 'ENOAUTH') return { kind: 'temporary', answer: `The SMTP server refused Deskside's sign-in: ${answer}` };
  if (e.permanent === true) return { kind: 'permanent', answer };
  if (typeof e.responseCode === 'number') return { kind: e.responseCode >= 500 && e.responseCode !== 503 ? 'permanent' : 'temporary', answer };
  // An address nodemailer itself refuses to send to will never do.
  if (e.code === 'EENVELOPE') return { kind: 'permanent', answer };
  return { kind: 'temporary', answer };
}

/** The wait before try `attempt + 1` after `attempt` tries failed: the same for every outbox. */
export { backoffMs };

const DEFAULT_BACKOFF = { firstMs: 30_000, maxMs: 30 * 60_000 };

async function compose(o: SenderOptions, row: OutboxRow): Promise<SendMailOptions | null> {
  let rendered: RenderedMail;
  let threading: Pick<SendMailOptions, 'inReplyTo' | 'references'> = {};
  if (row.kind === 'test') {
    rendered = await renderMail('test', { publicUrl: o.publicUrl, server: o.serverName, requestedBy: await personName(o, row.person_id), when: toDate(row.created_at)!.toUTCString() });
  } else {
    const ticket = row.ticket_id ? await getTicket(o.database.db, row.ticket_id) : undefined;
    const ids = (row.event_ids ?? '').split(',').filter(Boolean).map(Number);
    if (!ticket || !row.audience || ids.length === 0) return null;
    const events = await listEventsByIds(o.database.db, ids);
    const people = await listPeopleByIds(o.database.db, [...new Set(events.filter((e) => e.kind === 'assignee' && e.to_value).map((e) => Number(e.to_value)))]);
    const view = ticketMailView({
      audience: row.audience,
      ticket,
      events,
      personNames: new Map(people.map((p) => [String(p.id), p.display_name ?? p.login])),
      publicUrl: o.publicUrl,
      replyByMail: o.replyByMail,
    });
    if (!view) return null;
    rendered = await renderMail('ticket', view);
    const h = notificationHeaders(
      { ticketId: ticket.id, eventId: ids[0], recipient: row.to_address, title: ticket.title, alsoReferences: messageIdsIn(row.also_references) },
      o.outbox.settings.threading,
    );
    threading = { inReplyTo: h.inReplyTo, references: h.references };
  }
  return {
    from: o.from,
    to: row.to_address,
    // As queued: the Message-ID is what makes a retry recognisably the same message.
    subject: row.subject,
    messageId: row.message_id,
    ...threading,
    headers: { ...AUTOMATIC_MAIL_HEADERS },
    text: rendered.text,
    html: rendered.html,
  };
}

async function personName(o: SenderOptions, id: number | null): Promise<string> {
  if (id === null) return 'An administrator';
  const [p] = await listPeopleByIds(o.database.db, [id]);
  return p ? (p.display_name ?? p.login) : 'An administrator';
}

const NO_ANSWER = 'no answer from the SMTP server in time';

/** Hand one message to the SMTP server: its answer, or what its refusal means. */
async function deliver(o: SenderOptions, state: { transport?: MailTransport }, message: SendMailOptions): Promise<{ kind: 'sent'; answer: string } | Verdict> {
  try {
    state.transport ??= o.transport();
    const info = await withDeadline(state.transport.sendMail(message), SEND_DEADLINE_MS, NO_ANSWER);
    return { kind: 'sent', answer: (info.response ?? '250 accepted').replace(/\s+/g, ' ').trim() };
  } catch (err) {
    if ((err as Error).message === NO_ANSWER) {
      // Whatever that connection does next is not ours to wait for.
      state.transport?.close();
      state.transport = undefined;
    }
    return classifySendError(err);
  }
}

/**
 * One turn: claim what is due, send it, record how it went. Returns what happened; a
 * database or rendering problem with one notification is logged and left for its lease
 * to run out, never a crash.
 */
export async function sendDue(o: SenderOptions, state: { transport?: MailTransport } = {}): Promise<SendTurn> {
  const now = o.now ?? Date.now;
  const holder = o.holder ?? senderHolder();
  const backoff = o.backoff ?? DEFAULT_BACKOFF;
  const turn: SendTurn = { sent: 0, retrying: 0, failed: 0, lost: 0 };
  const db = o.database.db;
  const ids = await dueOutboxIds(db, o.database.dialect, new Date(now()).toISOString(), o.batch ?? 20);
  for (const id of ids) {
    const claimedAt = now();
    if (!(await o.database.write((trx) => claimOutboxRow(trx, id, holder, new Date(claimedAt).toISOString(), new Date(claimedAt + (o.leaseMs ?? LEASE_MS)).toISOString())))) {
      turn.lost++;
      continue;
    }
    const row = (await getOutboxRow(db, id))!;
    const finish = (outcome: Parameters<typeof finishOutboxRow>[3]) => o.database.write((trx) => finishOutboxRow(trx, id, holder, outcome, new Date(now()).toISOString()));
    let verdict: Verdict | null = null;
    let answer: string | null = null;
    let message: SendMailOptions | null = null;
    try {
      message = await compose(o, row);
    } catch (err) {
      o.logger.error({ err, event: 'mail-send', outbox: id }, 'could not write a notification');
      verdict = { kind: 'temporary', answer: `Deskside could not write this mail: ${(err as Error).message}` };
    }
    if (!message && !verdict) {
      await finish({ status: 'failed', lastAnswer: 'Nothing to send: the ticket or the events this mail was about are gone.' });
      turn.failed++;
      continue;
    }
    if (message) {
      const result = await deliver(o, state, message);
      if (result.kind === 'sent') answer = result.answer;
      else verdict = result;
    }
    if (!verdict) {
      if (!(await finish({ status: 'sent', lastAnswer: answer, sentAt: new Date(now()).toISOString() }))) o.logger.warn({ event: 'mail-send', outbox: id }, 'sent a notification whose lease had already run out');
      o.logger.info({ event: 'mail-sent', outbox: id, to: row.to_address, messageId: row.message_id, answer, holder }, 'notification sent');
      turn.sent++;
      continue;
    }
    const queuedFor = now() - toDate(row.created_at)!.getTime();
    if (verdict.kind === 'temporary' && queuedFor < o.retryMs) {
      const next = new Date(now() + backoffMs(row.attempts, backoff)).toISOString();
      await finish({ status: 'queued', lastAnswer: verdict.answer, nextAttemptAt: next });
      o.logger.warn({ event: 'mail-retry', outbox: id, to: row.to_address, attempts: row.attempts, next, answer: verdict.answer }, 'the SMTP server did not take a notification; it is tried again later');
      turn.retrying++;
    } else {
      const why = verdict.kind === 'permanent' ? verdict.answer : `Gave up after ${row.attempts} tries over ${Math.round(queuedFor / 60_000)} minutes (DESKSIDE_MAIL_RETRY_HOURS). Last answer: ${verdict.answer}`;
      await finish({ status: 'failed', lastAnswer: why });
      o.logger.error({ event: 'mail-failed', outbox: id, to: row.to_address, answer: why }, 'a notification could not be sent');
      turn.failed++;
    }
  }
  return turn;
}

const DAY = 24 * 3_600_000;

/** Old rows go: sent and failed notifications after 30 days, read messages after 90, arrivals after a week. */
export async function sweepMailTables(database: Database, now: number = Date.now()): Promise<number> {
  const iso = (ms: number) => new Date(now - ms).toISOString();
  return database.write(async (trx) => (await deleteFinishedOutbox(trx, iso(30 * DAY))) + (await deleteInboundBefore(trx, iso(90 * DAY))) + (await deleteArrivalsBefore(trx, iso(7 * DAY))));
}

/**
 * Run the sender in this process until stopped: a turn every `pollMs` (other processes'
 * notifications, retries coming due), and soon after this process queues something.
 * Timers never keep the process alive.
 */
export function startSender(o: SenderOptions): { stop(): Promise<void>; wake(): void } {
  const state: { transport?: MailTransport } = {};
  const holder = o.holder ?? senderHolder();
  const batch = o.batch ?? 20;
  // The loop every outbox worker shares (shared/outbox-worker.ts): a full batch means there may be more.
  const worker = runOutboxWorker({
    turn: async () => {
      const t = await sendDue({ ...o, holder, batch }, state);
      return t.sent + t.retrying + t.failed + t.lost;
    },
    batch,
    pollMs: o.pollMs ?? 10_000,
    onQueued: (wake) => o.outbox.onQueued(wake),
    sweep: () => sweepMailTables(o.database),
    onError: (err, during) =>
      during === 'turn'
        ? o.logger.warn({ err, event: 'mail-send' }, 'the mail sender could not read the outbox; it tries again shortly')
        : o.logger.warn({ err, event: 'mail-sweep' }, 'could not clear old mail records'),
  });
  return {
    wake: () => worker.wake(),
    async stop() {
      await worker.stop();
      state.transport?.close();
    },
  };
}
