/**
 * "Never twice" with several senders on one database, against a real SMTP server: each
 * sender has its own database connection (as each iisnode process and server has), they
 * poll and claim at the same time, the server refuses some messages for now, and a sender
 * that died holding a claim is replaced once its lease runs out.
 */
import { simpleParser } from 'mailparser';
import { createLogger } from '../../app/logging';
import { openDatabase, type Database } from '../../app/db/database';
import { queueTestMessage } from '../../app/features/mail/outbox.service';
import { startSender } from '../../app/features/mail/sender';
import { smtpTransport } from '../../app/features/mail/transport';
import { ensurePerson } from '../../app/people/people.queries';
import { makeApp, type TestApp } from '../support/app';
import { describeWithSmtpPeer, startSmtpPeer, type SmtpPeer } from '../support/mail-servers';

jest.setTimeout(60_000);

describeWithSmtpPeer('several senders on one outbox, through a real SMTP server', () => {
  let smtp: SmtpPeer;
  let t: TestApp;
  let admin: number;
  const connections: Database[] = [];
  beforeAll(async () => {
    smtp = await startSmtpPeer({ tls: 'starttls' });
  });
  afterAll(async () => {
    await smtp?.stop();
  });
  beforeEach(async () => {
    t = await makeApp({ env: { DESKSIDE_SMTP_URL: smtp.url, DESKSIDE_MAIL_FROM: 'helpdesk@deskside.test', DESKSIDE_PUBLIC_URL: 'https://helpdesk.deskside.test', DESKSIDE_MAIL_CA_FILE: smtp.caFile } });
    admin = (await ensurePerson(t.database.db, 'TEST\\admin1', 'test\\admin1')).id;
  });
  afterEach(async () => {
    await Promise.all(connections.splice(0).map((c) => c.close()));
    await t.close();
  });

  /** A sender as another process would run it: its own connection to the same database. */
  function sender(holder: string, logs: string[], extra: { leaseMs?: number } = {}) {
    const database = openDatabase(t.config.database);
    connections.push(database);
    const config = t.mail!.config;
    return startSender({
      database,
      outbox: t.mail!.outbox,
      transport: () => smtpTransport(config.smtp, config.caFile),
      logger: createLogger('info', { write: (line: string) => void logs.push(line) }),
      from: config.from,
      publicUrl: config.publicUrl,
      replyByMail: false,
      serverName: 'test',
      retryMs: 600_000,
      holder,
      pollMs: 20,
      batch: 3,
      backoff: { firstMs: 50, maxMs: 200 },
      ...extra,
    });
  }

  test('when three senders race for 40 notifications and the server turns some away for now, then every one arrives exactly once', async () => {
    const before = smtp.received.length;
    for (let i = 0; i < 40; i++) await queueTestMessage(t.database, t.mail!.outbox.settings.threading, `person${i}@example.com`, admin);
    smtp.failNext(4, 451);
    const logs: string[] = [];
    const running = ['a:1:x', 'b:2:y', 'c:3:z'].map((h) => sender(h, logs));
    try {
      const got = (await smtp.waitFor(before + 40, 20_000)).slice(before);
      await new Promise((r) => setTimeout(r, 500));
      expect(smtp.received.length - before).toBe(40);
      const ids = await Promise.all(got.map(async (m) => (await simpleParser(m.raw)).messageId));
      expect(new Set(ids).size).toBe(40);
      expect(new Set(got.map((m) => m.envelope.rcptTo[0])).size).toBe(40);
    } finally {
      await Promise.all(running.map((s) => s.stop()));
    }
    const rows = await t.database.db.selectFrom('mail_outbox').select(['status', 'attempts']).execute();
    expect(rows.every((r) => r.status === 'sent')).toBe(true);
    expect(rows.reduce((n, r) => n + r.attempts, 0)).toBe(44);
    // They really raced: more than one of them sent some.
    const holders = new Set(logs.filter((l) => l.includes('"event":"mail-sent"')).map((l) => (JSON.parse(l) as { holder: string }).holder));
    expect(holders.size).toBeGreaterThan(1);
  });

  test('when a sender died holding a claim, then another sends the notification once the lease runs out, and not before', async () => {
    await queueTestMessage(t.database, t.mail!.outbox.settings.threading, 'late@example.com', admin);
    const soon = new Date(Date.now() + 1500).toISOString();
    await t.database.db.updateTable('mail_outbox').set({ lease_owner: 'dead:9:gone', lease_expires_at: soon, attempts: 1 }).execute();
    const before = smtp.received.length;
    const s = sender('alive:1:x', []);
    try {
      await new Promise((r) => setTimeout(r, 800));
      expect(smtp.received.length).toBe(before);
      await smtp.waitFor(before + 1, 5000);
    } finally {
      await s.stop();
    }
    expect(await t.database.db.selectFrom('mail_outbox').select(['status', 'attempts', 'lease_owner']).executeTakeFirstOrThrow()).toEqual({ status: 'sent', attempts: 2, lease_owner: null });
  });

  test('when the server refuses a notification for good, then it is marked failed at once with the server\u2019s answer and not tried again', async () => {
    await queueTestMessage(t.database, t.mail!.outbox.settings.threading, 'nobody@example.com', admin);
    smtp.failNext(1, 550, '5.1.1 No such mailbox here');
    const s = sender('a:1:x', []);
    try {
      const row = await (async () => {
        for (let i = 0; i < 200; i++) {
          const r = await t.database.db.selectFrom('mail_outbox').selectAll().executeTakeFirstOrThrow();
          if (r.status !== 'queued') return r;
          await new Promise((res) => setTimeout(res, 25));
        }
        throw new Error('never finished');
      })();
      expect(row).toMatchObject({ status: 'failed', attempts: 1 });
      expect(row.last_answer).toMatch(/^550 5\.1\.1 No such mailbox here/);
    } finally {
      await s.stop();
    }
  });
});
