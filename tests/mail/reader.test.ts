/**
 * The mailbox reader against a real Dovecot: one reader at a time across processes (the
 * lease), the next taking over when the holder goes, folders made with the server's own
 * separator, and mail too large to read filed away unread.
 */
import { inboundDeps } from '../../app/features/mail/mail.service';
import { openDatabase, type Database } from '../../app/db/database';
import type { InboundResult } from '../../app/features/mail/inbound.service';
import { startMailboxReader, type ReaderHandle } from '../../app/features/mail/reader';
import { createLogger } from '../../app/logging';
import { client, makeApp, type TestApp } from '../support/app';
import { describeWithDovecot, startDovecot, type Dovecot } from '../support/mail-servers';

jest.setTimeout(60_000);

function message(i: number, extra = ''): string {
  return [`From: Person ${i} <person${i}@example.com>`, 'To: helpdesk@deskside.test', `Subject: Problem number ${i}`, `Message-ID: <reader-${i}-${Date.now()}@example.com>`, 'Content-Type: text/plain; charset=utf-8', '', `Details of problem ${i}.${extra}`, ''].join('\r\n');
}

async function until(what: string, probe: () => boolean, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!probe()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describeWithDovecot('the mailbox reader', () => {
  let dovecot: Dovecot;
  let t: TestApp;
  const opened: Database[] = [];
  const readers: ReaderHandle[] = [];

  async function setUp(separator: '/' | '.' = '/') {
    dovecot = await startDovecot({ separator });
    t = await makeApp({
      env: {
        DESKSIDE_SMTP_URL: 'smtp://127.0.0.1:2525',
        DESKSIDE_MAIL_FROM: 'helpdesk@deskside.test',
        DESKSIDE_PUBLIC_URL: 'https://helpdesk.deskside.test',
        DESKSIDE_MAIL_CA_FILE: dovecot.caFile,
        DESKSIDE_IMAP_URL: dovecot.url('starttls'),
        DESKSIDE_IMAP_POLL_SECONDS: '1',
      },
    });
  }
  afterEach(async () => {
    await Promise.all(readers.splice(0).map((r) => r.stop()));
    await Promise.all(opened.splice(0).map((d) => d.close()));
    await t?.close();
    await dovecot?.stop();
  });

  /** A reader as another process would run it: its own database connection. */
  function reader(holder: string, handled: (InboundResult & { uid: number; by: string })[], opts: { leaseMs?: number; maxMessageBytes?: number } = {}): ReaderHandle {
    const database = openDatabase(t.config.database);
    opened.push(database);
    const m = t.mail!;
    const r = startMailboxReader({
      database,
      imap: m.config.imap!,
      caFile: m.config.caFile,
      maxMessageBytes: opts.maxMessageBytes ?? m.config.maxMessageBytes,
      inbound: inboundDeps(database, m, t.attachments),
      logger: createLogger('silent'),
      holder,
      leaseMs: opts.leaseMs ?? 1500,
      clientOptions: { autoIdleDelay: 100 },
      onHandled: (x) => handled.push({ ...x, by: holder }),
    });
    readers.push(r);
    return r;
  }

  test('when two processes offer to read, then one reads every message once; when it stops, the other takes over', async () => {
    await setUp();
    const handled: (InboundResult & { uid: number; by: string })[] = [];
    const a = reader('server-a:1:r', handled);
    reader('server-b:2:r', handled);
    for (let i = 1; i <= 6; i++) await dovecot.deliver(message(i));
    await until('six messages read', () => handled.length >= 6);
    await new Promise((r) => setTimeout(r, 500));
    expect(handled).toHaveLength(6);
    expect(handled.every((h) => h.outcome === 'ticket')).toBe(true);
    const first = handled[0].by;
    expect(new Set(handled.map((h) => h.by))).toEqual(new Set([first]));
    const tickets = await t.database.db.selectFrom('tickets').select('title').orderBy('id').execute();
    expect(tickets.map((x) => x.title)).toEqual([1, 2, 3, 4, 5, 6].map((i) => `Problem number ${i}`));
    // /admin/mail says which process reads.
    expect((await client(t.app, 'TEST\\admin1').get('/admin/mail')).text).toContain(`the process <code>${first}</code>`);

    // The holder stops (lets the lease go); the other reads what comes next.
    const holderHandle = first === 'server-a:1:r' ? a : readers[1];
    await holderHandle.stop();
    await dovecot.deliver(message(7));
    await until('the seventh message read by the other process', () => handled.length >= 7);
    expect(handled[6]).toMatchObject({ outcome: 'ticket', by: first === 'server-a:1:r' ? 'server-b:2:r' : 'server-a:1:r' });
  });

  test('when the server separates folders with ".", then read mail lands in Deskside.Processed; mail over the size limit goes unread to Deskside.Failed', async () => {
    await setUp('.');
    const handled: (InboundResult & { uid: number; by: string })[] = [];
    reader('only:1:r', handled, { maxMessageBytes: 2048 });
    await dovecot.deliver(message(1));
    await dovecot.deliver(message(2, `\r\n${'x'.repeat(4000)}`));
    await until('two messages handled', () => handled.length >= 2);
    expect(handled.map((h) => h.outcome)).toEqual(['ticket', 'failed']);
    expect(handled[1].reason).toMatch(/larger than DESKSIDE_MAIL_MAX_MB/);
    expect(await dovecot.messages(['INBOX', 'Deskside.Processed', 'Deskside.Failed'])).toEqual([0, 1, 1]);
    expect(await t.database.db.selectFrom('tickets').select('id').execute()).toHaveLength(1);
    const failed = await t.database.db.selectFrom('mail_inbound').select(['outcome', 'from_address', 'subject']).where('outcome', '=', 'failed').execute();
    expect(failed).toEqual([{ outcome: 'failed', from_address: 'person2@example.com', subject: 'Problem number 2' }]);
  });
});
