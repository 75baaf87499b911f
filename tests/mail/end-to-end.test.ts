/**
 * E-mail both ways through real servers: Dovecot holds the desk's mailbox (messages delivered
 * by dovecot-lda, as a mail server would), an smtp-server peer with STARTTLS and AUTH takes
 * what Deskside sends. The app is the real one (createApp over SQLite); its sender and mailbox
 * reader are the ones compose.ts starts, with short intervals.
 */
import { simpleParser, type ParsedMail } from 'mailparser';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { start, type Running } from '../../app/compose';
import { openDatabase, type Database } from '../../app/db/database';
import { createLogger } from '../../app/logging';
import { startMailboxReader, type ReaderHandle } from '../../app/features/mail/reader';
import { startSender } from '../../app/features/mail/sender';
import { smtpTransport } from '../../app/features/mail/transport';
import type { InboundResult } from '../../app/features/mail/inbound.service';
import { inboundDeps, type MailParts } from '../../app/features/mail/mail.service';
import { client, makeApp, type TestApp } from '../support/app';
import { bothCas, describeWithDovecot, startDovecot, startSmtpPeer, type Dovecot, type SmtpPeer } from '../support/mail-servers';

jest.setTimeout(60_000);

const DESK = 'helpdesk@deskside.test';

async function until<T>(what: string, probe: () => T | undefined | Promise<T | undefined>, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

function message(o: { from: string; subject: string; id: string; body: string; headers?: string[] }): string {
  return [
    `From: ${o.from}`,
    `To: IT Helpdesk <${DESK}>`,
    `Subject: ${o.subject}`,
    `Message-ID: ${o.id}`,
    'Date: Mon, 2 Nov 2026 10:00:00 +0100',
    'MIME-Version: 1.0',
    'Content-Type: text/plain; charset=utf-8',
    'Content-Transfer-Encoding: 8bit',
    ...(o.headers ?? []),
    '',
    o.body.replace(/\n/g, '\r\n'),
    '',
  ].join('\r\n');
}

/** What the SMTP peer got, parsed, from `from` on. */
async function arrived(peer: SmtpPeer, count: number): Promise<ParsedMail[]> {
  const got = await peer.waitFor(count, 15_000);
  return Promise.all(got.map((m) => simpleParser(m.raw)));
}

describeWithDovecot('e-mail both ways, through Dovecot and an SMTP server', () => {
  let smtp: SmtpPeer;
  let dovecot: Dovecot;
  let t: TestApp;
  let mail: MailParts;
  let second: Database;
  const handled: (InboundResult & { uid: number })[] = [];
  const stops: (() => Promise<void>)[] = [];
  let reader: ReaderHandle;

  beforeAll(async () => {
    [smtp, dovecot] = await Promise.all([startSmtpPeer({ tls: 'starttls' }), startDovecot()]);
    const caFile = bothCas(dovecot.dir, smtp, dovecot);
    t = await makeApp({
      env: {
        DESKSIDE_SMTP_URL: smtp.url,
        DESKSIDE_MAIL_FROM: `IT Helpdesk <${DESK}>`,
        DESKSIDE_PUBLIC_URL: 'https://helpdesk.deskside.test',
        DESKSIDE_MAIL_CA_FILE: caFile,
        DESKSIDE_IMAP_URL: dovecot.url('implicit'),
        // Slow polling: that new mail is read within seconds shows IDLE at work.
        DESKSIDE_IMAP_POLL_SECONDS: '600',
      },
    });
    mail = t.mail!;
    const config = mail.config;
    const logger = createLogger('silent');
    // Two senders on one database, as two iisnode processes (their own connections) would be.
    second = openDatabase(t.config.database);
    for (const [database, holder] of [
      [t.database, 'server-a:1:aaaa'],
      [second, 'server-b:2:bbbb'],
    ] as const) {
      const s = startSender({
        database,
        outbox: mail.outbox,
        transport: () => smtpTransport(config.smtp, config.caFile),
        logger,
        from: config.from,
        publicUrl: config.publicUrl,
        replyByMail: true,
        serverName: 'test',
        retryMs: 600_000,
        holder,
        pollMs: 100,
        backoff: { firstMs: 100, maxMs: 400 },
      });
      stops.push(() => s.stop());
    }
    reader = startMailboxReader({
      database: t.database,
      imap: config.imap!,
      caFile: config.caFile,
      maxMessageBytes: 64 * 1024,
      inbound: inboundDeps(t.database, mail, t.attachments),
      logger,
      holder: 'server-a:1:reader',
      clientOptions: { autoIdleDelay: 100 },
      onHandled: (r) => handled.push(r),
    });
    stops.push(() => reader.stop());
    // Agents sign in once, with the address the directory would give them.
    await client(t.app, 'TEST\\agent1').get('/me');
    await t.database.db.updateTable('people').set({ email: 'agent1@deskside.test' }).where('login', '=', 'TEST\\agent1').execute();
  });

  afterAll(async () => {
    for (const stop of stops) await stop();
    await second?.close();
    await t?.close();
    await Promise.all([smtp?.stop(), dovecot?.stop()]);
  });

  const handledCount = (n: number) => until(`${n} messages read`, () => (handled.length >= n ? handled.slice(0, n) : undefined));

  test('when a person mails the desk, then a ticket is raised in their name with their file, they get the acknowledgement, an agent’s reply reaches them, and their e-mail reply lands in the timeline without the quoted text', async () => {
    const t0 = Date.now();
    // With the printer's status page as a file.
    await dovecot.deliver(
      [
        'From: Alice Example <Alice@Example.com>',
        `To: IT Helpdesk <${DESK}>`,
        'Subject: Printer on the 2nd floor prints blank pages',
        'Message-ID: <first-1@example.com>',
        'Date: Mon, 2 Nov 2026 10:00:00 +0100',
        'MIME-Version: 1.0',
        'Content-Type: multipart/mixed; boundary="b1"',
        '',
        '--b1',
        'Content-Type: text/plain; charset=utf-8',
        '',
        'Hello,\r\n\r\nevery page comes out blank since this morning.\r\n\r\nAlice',
        '--b1',
        'Content-Type: text/plain; name="status-page.txt"',
        'Content-Disposition: attachment; filename="status-page.txt"',
        'Content-Transfer-Encoding: base64',
        '',
        Buffer.from('Toner: 0 %\nDrum: OK\n').toString('base64'),
        '--b1--',
        '',
      ].join('\r\n'),
    );
    const [first] = await handledCount(1);
    // IDLE: read within seconds though the poll interval is ten minutes.
    expect(Date.now() - t0).toBeLessThan(5_000);
    expect(first).toMatchObject({ outcome: 'ticket', folder: 'processed' });
    const id = first.ticketId!;
    const ticket = await t.database.db.selectFrom('tickets').innerJoin('people', 'people.id', 'tickets.requester_id').select(['tickets.title', 'tickets.description', 'people.login', 'people.email', 'people.display_name']).where('tickets.id', '=', id).executeTakeFirstOrThrow();
    expect(ticket).toEqual({ title: 'Printer on the 2nd floor prints blank pages', description: 'Hello,\n\nevery page comes out blank since this morning.\n\nAlice', login: 'alice@example.com', email: 'alice@example.com', display_name: 'Alice Example' });
    // The file is the ticket's, served to the agents like any other.
    const file = await t.database.db.selectFrom('attachments').select(['id', 'name']).where('ticket_id', '=', id).executeTakeFirstOrThrow();
    expect(file.name).toBe('status-page.txt');
    const download = await client(t.app, 'TEST\\agent1').get(`/tickets/${id}/attachments/${file.id}/status-page.txt`);
    expect(download.status).toBe(200);
    expect(download.text).toBe('Toner: 0 %\nDrum: OK\n');

    // The acknowledgement, threaded under Alice's own message.
    const [ack] = await arrived(smtp, 1);
    expect(smtp.received[0].envelope).toEqual({ mailFrom: DESK, rcptTo: ['alice@example.com'] });
    expect(smtp.received[0].secure).toBe(true);
    expect(ack.subject).toBe(`[#${id}] Printer on the 2nd floor prints blank pages`);
    expect(ack.text).toContain(`its number is #${id}`);
    expect(ack.text).toContain('attached status-page.txt');
    expect(ack.headers.get('auto-submitted')).toBe('auto-generated');
    expect(ack.inReplyTo).toBe('<first-1@example.com>');
    expect(ack.references).toEqual([expect.stringMatching(new RegExp(`^<ticket-${id}\\.[0-9a-f]{16}@helpdesk\\.deskside\\.test>$`)), '<first-1@example.com>']);

    // An agent answers on the web; the answer is mailed to Alice.
    const agent = client(t.app, 'TEST\\agent1');
    expect((await agent.post(`/tickets/${id}/comments`, { body: 'Please check the toner cartridge: is the seal strip pulled out?' })).status).toBe(303);
    const [, answer] = await arrived(smtp, 2);
    expect(answer.to && !Array.isArray(answer.to) && answer.to.text).toBe('alice@example.com');
    expect(answer.text).toContain('Please check the toner cartridge');

    // Alice answers from Outlook, quoting it all.
    await dovecot.deliver(
      message({
        from: 'Alice Example <alice@example.com>',
        subject: `RE: [#${id}] Printer on the 2nd floor prints blank pages`,
        id: '<reply-2@example.com>',
        headers: [`In-Reply-To: ${answer.messageId!}`, `References: ${(answer.references as string[]).join(' ')} ${answer.messageId!}`],
        body: `That was it, it prints again. Thank you!\n\nAlice\n\nFrom: IT Helpdesk <${DESK}>\nSent: Monday, 2 November 2026 10:05\nTo: Alice Example <alice@example.com>\nSubject: [#${id}] Printer on the 2nd floor prints blank pages\n\nPlease check the toner cartridge: is the seal strip pulled out?`,
      }),
    );
    const [, reply] = await handledCount(2);
    expect(reply).toMatchObject({ outcome: 'comment', ticketId: id });
    const comments = await t.database.db.selectFrom('ticket_events').select(['id', 'body', 'actor_id']).where('ticket_id', '=', id).where('kind', '=', 'comment').orderBy('id').execute();
    expect(comments.map((c) => c.body)).toEqual(['Please check the toner cartridge: is the seal strip pulled out?', 'That was it, it prints again. Thank you!\n\nAlice']);
    const page = await agent.get(`/tickets/${id}`);
    expect(page.text).toContain('That was it, it prints again. Thank you!');
    expect(page.text).toContain('by e-mail');
    const link = /href="(\/tickets\/\d+\/mail\/\d+)"/.exec(page.text)![1];
    const original = await agent.get(link);
    expect(original.status).toBe(200);
    expect(original.text).toContain('Sent: Monday, 2 November 2026 10:05');
    // Someone else's ticket's mail is not theirs to read.
    expect((await client(t.app, 'TEST\\bob').get(link)).status).toBe(403);
  });

  test('when an out-of-office answers a notification, then it is filed away with no comment and no mail back', async () => {
    const before = { handled: handled.length, sent: smtp.received.length };
    const id = handled[0].ticketId!;
    const comments = async () => Number((await t.database.db.selectFrom('ticket_events').select((eb) => eb.fn.countAll<number>().as('n')).where('ticket_id', '=', id).executeTakeFirstOrThrow()).n);
    const eventsBefore = await comments();
    await dovecot.deliver(
      message({
        from: 'Alice Example <alice@example.com>',
        subject: `Automatic reply: [#${id}] Printer on the 2nd floor prints blank pages`,
        id: '<ooo-3@example.com>',
        headers: ['Auto-Submitted: auto-replied', 'X-Auto-Response-Suppress: All'],
        body: 'I am out of the office until Monday.',
      }),
    );
    const r = (await handledCount(before.handled + 1))[before.handled];
    expect(r).toMatchObject({ outcome: 'ignored', folder: 'processed' });
    expect(r.reason).toMatch(/Auto-Submitted: auto-replied/);
    expect(await comments()).toBe(eventsBefore);
    await new Promise((res) => setTimeout(res, 500));
    expect(smtp.received.length).toBe(before.sent);
  });

  test('when a message has no sender, then it goes to Deskside/Failed with the reason; read mail is moved, never deleted', async () => {
    const before = handled.length;
    await dovecot.deliver(['To: helpdesk@deskside.test', 'Subject: who am I', 'Message-ID: <nofrom-4@example.com>', '', 'No From header at all.', ''].join('\r\n'));
    const r = (await handledCount(before + 1))[before];
    expect(r).toMatchObject({ outcome: 'failed', folder: 'failed' });
    expect(r.reason).toMatch(/no sender address/);
    expect(await dovecot.messages(['INBOX', 'Deskside/Processed', 'Deskside/Failed'])).toEqual([0, 3, 1]);
  });

  test('when the SMTP server goes away and comes back, then the notifications queued meanwhile all arrive, once each, though two senders race for them', async () => {
    const id = handled[0].ticketId!;
    const agent = client(t.app, 'TEST\\agent1');
    const before = smtp.received.length;
    await smtp.goAway();
    for (let i = 1; i <= 5; i++) expect((await agent.post(`/tickets/${id}/comments`, { body: `Update ${i} while the mail server is down.` })).status).toBe(303);
    // Tried, refused, kept with the answer.
    const stuck = await until('failed tries recorded', async () => {
      const rows = await t.database.db.selectFrom('mail_outbox').selectAll().where('ticket_id', '=', id).where('status', '=', 'queued').execute();
      return rows.length === 5 && rows.every((r) => r.attempts >= 2 && r.last_answer) ? rows : undefined;
    });
    expect(stuck[0].last_answer).toMatch(/ECONNECTION|ESOCKET|ECONNREFUSED/);
    expect(smtp.received.length).toBe(before);
    await smtp.comeBack();
    const got = await arrived(smtp, before + 5);
    const late = got.slice(before);
    expect(late.map((m) => m.text!.match(/Update (\d) while/)![1]).sort()).toEqual(['1', '2', '3', '4', '5']);
    expect(new Set(late.map((m) => m.messageId)).size).toBe(5);
    // Nothing more trickles in: each went exactly once.
    await new Promise((res) => setTimeout(res, 1000));
    expect(smtp.received.length).toBe(before + 5);
    const rows = await t.database.db.selectFrom('mail_outbox').select(['status', 'message_id']).where('ticket_id', '=', id).execute();
    expect(rows.every((r) => r.status === 'sent')).toBe(true);
  });
});

describeWithDovecot('mail as start() runs it', () => {
  test('when Deskside starts with the mail settings, then its own reader and sender answer a message to the desk, and close() stops them', async () => {
    const [smtp, dovecot] = await Promise.all([startSmtpPeer({ tls: 'implicit' }), startDovecot()]);
    const dir = mkdtempSync(path.join(os.tmpdir(), 'deskside-start-mail-'));
    let running: Running | undefined;
    try {
      const caFile = bothCas(dir, smtp, dovecot);
      // An empty settings file of its own: nothing from the worktree's App_Data or .env.
      writeFileSync(path.join(dir, 'settings.env'), '');
      running = await start({
        NODE_ENV: 'test',
        PORT: '0',
        DESKSIDE_HOST: '127.0.0.1',
        DESKSIDE_IDENTITY: 'proxy',
        DESKSIDE_TRUSTED_PROXIES: '127.0.0.1',
        DESKSIDE_DATABASE: `sqlite:${path.join(dir, 'deskside.db')}`,
        DESKSIDE_SECRET: 'start-test-secret-0123456789abcdefghijklmnop',
        DESKSIDE_LOG_LEVEL: 'silent',
        DESKSIDE_SETTINGS_FILE: path.join(dir, 'settings.env'),
        DESKSIDE_SMTP_URL: smtp.url,
        DESKSIDE_MAIL_FROM: `IT Helpdesk <${DESK}>`,
        DESKSIDE_PUBLIC_URL: 'https://helpdesk.deskside.test',
        DESKSIDE_MAIL_CA_FILE: caFile,
        DESKSIDE_IMAP_URL: dovecot.url('starttls'),
      });
      await dovecot.deliver(message({ from: 'dora@example.com', subject: 'Monitor flickers', id: '<start-1@example.com>', body: 'Since the update.' }));
      const [ack] = await arrived(smtp, 1);
      expect(ack.subject).toBe('[#1] Monitor flickers');
      expect(smtp.received[0].envelope.rcptTo).toEqual(['dora@example.com']);
      await running.close();
      running = undefined;
      // The reader let its lease go: another process may read at once.
      const db = openDatabase(`sqlite:${path.join(dir, 'deskside.db')}`);
      try {
        const lease = await db.db.selectFrom('worker_leases').selectAll().where('name', '=', 'mail-reader').executeTakeFirstOrThrow();
        expect(Date.parse(String(lease.expires_at))).toBeLessThanOrEqual(Date.now());
      } finally {
        await db.close();
      }
    } finally {
      await running?.close();
      await Promise.all([smtp.stop(), dovecot.stop()]);
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
