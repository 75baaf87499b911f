import type * as Imapflow from 'imapflow';
import type { ImapFlow, ImapFlowOptions } from 'imapflow';
import type { ImapConfig } from '../../config/schema';
import type { Database } from '../../db/database';
import type { Logger } from '../../logging';
import { claimLease, releaseLease } from '../shared/leases.queries';
import { messageKey, processMessage, recordFailed, type InboundDeps, type InboundResult } from './inbound.service';
import { senderHolder } from './sender';
import { imapOptions } from './transport';

/**
 * The mailbox reader: one process at a time, across every process and server, holds the
 * `mail-reader` lease (worker_leases) and reads the desk's mailbox; the others wait and
 * take over when the holder's lease runs out (it renews it every few seconds while it
 * works, so a dead holder is replaced within LEASE_MS).
 *
 * The holder keeps one IMAP connection with the folder open. New mail wakes it at once where
 * the server has IDLE (imapflow's auto-IDLE, which needs the folder open and no lock held);
 * without IDLE, imapflow polls with STATUS, and the reader itself looks every
 * DESKSIDE_IMAP_POLL_SECONDS whatever happens. Each message goes to inbound.service.ts and is
 * then moved to Deskside/Processed or Deskside/Failed, never deleted; a message that cannot
 * be moved (the connection dropped) is seen again and recognised by its Message-ID.
 *
 * A message that keeps failing while the database answers (a bug it trips) is tried
 * MAX_STRIKES times, then filed under Deskside/Failed with the error: never retried forever.
 * While the database does not answer, nothing counts against a message: it waits.
 */

export const READER_LEASE = 'mail-reader';
export const LEASE_MS = 60_000;
const MAX_STRIKES = 3;
const BATCH = 25;

export interface ReaderOptions {
  database: Database;
  imap: ImapConfig;
  caFile?: string;
  maxMessageBytes: number;
  inbound: InboundDeps;
  logger: Logger;
  holder?: string;
  leaseMs?: number;
  /** Tests: extra ImapFlow options (a shorter auto-IDLE delay, their CA). */
  clientOptions?: Partial<ImapFlowOptions>;
  /** Tests: told of each message handled. */
  onHandled?: (r: InboundResult & { uid: number }) => void;
}

export interface ReaderHandle {
  stop(): Promise<void>;
  /** Look at the mailbox now (if this process holds the lease). */
  wake(): void;
}

type Folders = { processed: string; failed: string };

export function startMailboxReader(o: ReaderOptions): ReaderHandle {
  const holder = o.holder ?? senderHolder();
  const leaseMs = o.leaseMs ?? LEASE_MS;
  const pollMs = o.imap.pollSeconds * 1000;
  const strikes = new Map<string, number>();
  let stopped = false;
  let current: ImapFlow | null = null;

  // One sleeper at a time; a wake that comes while nobody sleeps is kept for the next sleep.
  let woken = false;
  let wakeSleeper: (() => void) | null = null;
  const wake = () => {
    woken = true;
    wakeSleeper?.();
  };
  const sleep = (ms: number) =>
    new Promise<void>((resolve) => {
      if (woken || stopped) {
        woken = false;
        return resolve();
      }
      const done = () => {
        clearTimeout(timer);
        wakeSleeper = null;
        woken = false;
        resolve();
      };
      const timer = setTimeout(done, ms);
      timer.unref();
      wakeSleeper = done;
    });

  const holdLease = () => claimLease(o.database.db, READER_LEASE, holder, new Date(), leaseMs);

  async function ensureFolders(client: ImapFlow): Promise<Folders> {
    // The array form joins with the server's own separator (Deskside/Processed, Deskside.Processed).
    const processed = await client.mailboxCreate(['Deskside', 'Processed']);
    const failed = await client.mailboxCreate(['Deskside', 'Failed']);
    return { processed: processed.path, failed: failed.path };
  }

  async function move(client: ImapFlow, uid: number, folder: string): Promise<void> {
    await client.messageMove(String(uid), folder, { uid: true });
  }

  async function handle(client: ImapFlow, uid: number, folders: Folders): Promise<void> {
    const meta = (await client.fetchOne(String(uid), { uid: true, size: true, envelope: true }, { uid: true }));
    if (!meta) return;
    const envelope = meta.envelope;
    const about = { messageId: envelope?.messageId ?? null, from: envelope?.from?.[0]?.address?.toLowerCase() ?? null, subject: envelope?.subject?.slice(0, 400) ?? null };
    if ((meta.size ?? 0) > o.maxMessageBytes) {
      const key = messageKey(about.messageId, Buffer.from(`${o.imap.mailbox}:${client.mailbox ? String(client.mailbox.uidValidity) : ''}:${uid}`));
      const reason = `it is ${(meta.size! / 1048576).toFixed(1)} MB, larger than DESKSIDE_MAIL_MAX_MB (${(o.maxMessageBytes / 1048576).toFixed(1)} MB); not read`;
      await recordFailed(o.inbound, key, about, reason);
      await move(client, uid, folders.failed);
      o.logger.warn({ event: 'mail-in', uid, from: about.from, subject: about.subject, reason }, 'a message went to Deskside/Failed');
      o.onHandled?.({ outcome: 'failed', folder: 'failed', reason, ticketId: null, uid });
      return;
    }
    const full = (await client.fetchOne(String(uid), { source: true }, { uid: true }));
    if (!full || !full.source) return;
    const strikeKey = about.messageId ?? `uid:${uid}`;
    let result: InboundResult;
    try {
      result = await processMessage(o.inbound, full.source);
    } catch (err) {
      const answering = await o.database.ping().then(
        () => true,
        () => false,
      );
      if (!answering) throw err;
      const n = (strikes.get(strikeKey) ?? 0) + 1;
      strikes.set(strikeKey, n);
      o.logger.error({ err, event: 'mail-in', uid, from: about.from, subject: about.subject, strikes: n }, 'could not act on a message');
      if (n < MAX_STRIKES) throw err;
      const reason = `Deskside could not act on it (${MAX_STRIKES} tries): ${(err as Error).message}`.slice(0, 1000);
      result = await recordFailed(o.inbound, messageKey(about.messageId, full.source), about, reason);
    }
    strikes.delete(strikeKey);
    await move(client, uid, result.folder === 'failed' ? folders.failed : folders.processed);
    o.logger[result.folder === 'failed' ? 'warn' : 'info']({ event: 'mail-in', uid, from: about.from, subject: about.subject, outcome: result.outcome, ticket: result.ticketId, reason: result.reason }, `a message was read: ${result.outcome}`);
    o.onHandled?.({ ...result, uid });
  }

  /** Everything in the folder, a batch at a time, renewing the lease between batches; false when the lease was lost. */
  async function drain(client: ImapFlow, folders: Folders): Promise<boolean> {
    while (!stopped) {
      const lock = await client.getMailboxLock(o.imap.mailbox);
      let more = false;
      try {
        const uids = (await client.search({ all: true }, { uid: true })) || [];
        for (const uid of uids.slice(0, BATCH)) {
          if (stopped) break;
          await handle(client, uid, folders);
        }
        more = uids.length > BATCH;
      } finally {
        lock.release();
      }
      if (!(await holdLease())) return false;
      if (!more) return true;
    }
    return true;
  }

  /** One connection, for as long as it lasts and the lease is ours. */
  async function session(): Promise<void> {
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- loaded on first use, so a process with mail off never loads it (decision 0019)
    const imapflow = require('imapflow') as typeof Imapflow;
    const client = new imapflow.ImapFlow({ ...imapOptions(o.imap, o.caFile), ...o.clientOptions });
    // Failures also surface through the awaited calls; this keeps a dropped socket from crashing the process.
    client.on('error', (err: unknown) => o.logger.warn({ err, event: 'mail-in' }, 'the IMAP connection failed'));
    client.on('exists', wake);
    client.on('close', wake);
    current = client;
    try {
      await client.connect();
      const folders = await ensureFolders(client);
      await client.mailboxOpen(o.imap.mailbox);
      o.logger.info({ event: 'mail-in', mailbox: o.imap.mailbox, idle: client.capabilities.has('IDLE') }, 'reading the desk’s mailbox');
      while (!stopped && client.usable) {
        if (!(await drain(client, folders))) break;
        await sleep(Math.min(pollMs, leaseMs / 3));
        if (!(await holdLease())) break;
      }
    } finally {
      current = null;
      await client.logout().catch(() => client.close());
    }
  }

  const running = (async () => {
    let failures = 0;
    while (!stopped) {
      let held = false;
      try {
        held = await holdLease();
      } catch (err) {
        o.logger.warn({ err, event: 'mail-in' }, 'could not ask the database who reads the mailbox');
      }
      if (!held) {
        await sleep(leaseMs / 2);
        continue;
      }
      try {
        await session();
        failures = 0;
      } catch (err) {
        if (stopped) break;
        failures++;
        o.logger.warn({ err, event: 'mail-in', failures }, 'reading the mailbox stopped; trying again shortly');
        await sleep(Math.min(300_000, 2_000 * 2 ** Math.min(failures, 8)));
      }
    }
  })();

  return {
    wake,
    async stop() {
      stopped = true;
      wake();
      current?.close();
      await running;
      await releaseLease(o.database.db, READER_LEASE, holder, new Date()).catch(() => undefined);
    },
  };
}
