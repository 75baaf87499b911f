/**
 * The mail test harness, proven with the libraries the app will use: nodemailer sends
 * through a real SMTP peer (STARTTLS or implicit TLS, AUTH or open relay), imapflow reads a
 * real Dovecot (imaps or STARTTLS, IDLE, folders, moves), mailparser reads what arrived.
 */
import { ImapFlow, type ImapFlowOptions } from 'imapflow';
import { simpleParser } from 'mailparser';
import nodemailer, { type SendMailOptions } from 'nodemailer';
import type SMTPTransport from 'nodemailer/lib/smtp-transport';
import { existsSync, readFileSync } from 'node:fs';
import { describeWithDovecot, describeWithSmtpPeer, startDovecot, startSmtpPeer, type Dovecot, type SmtpPeer } from '../support/mail-servers';

jest.setTimeout(30_000);

function transport(peer: SmtpPeer, extra: SMTPTransport.Options = {}) {
  // The URL form is what DESKSIDE_SMTP_URL will hold; TLS trust and policy come beside it.
  return nodemailer.createTransport({ url: peer.url, tls: { ca: [readFileSync(peer.caFile)] }, requireTLS: peer.tls === 'starttls', ...extra } as SMTPTransport.Options);
}

/** A raw message as nodemailer composes it: what the SMTP peer must receive unchanged. */
async function compose(mail: SendMailOptions): Promise<Buffer> {
  const info = await nodemailer.createTransport({ streamTransport: true, buffer: true, newline: 'windows' }).sendMail(mail);
  return info.message as Buffer;
}

const notification: SendMailOptions = {
  from: 'Deskside <helpdesk@deskside.test>',
  to: 'Alice Müller <alice@example.com>',
  subject: '[#123] Drucker im 2. Stock druckt nicht – Antwort',
  text: 'Hello Alice,\n\n.a line that starts with a dot (SMTP dot-stuffing)\nÜmlaute und €.\n',
  html: '<p>Hello Alice,</p><p>Ümlaute und €.</p>',
  messageId: '<ticket-123.event-456.abc@deskside.test>',
  inReplyTo: '<ticket-123@deskside.test>',
  references: ['<ticket-123@deskside.test>'],
  headers: { 'Auto-Submitted': 'auto-generated', 'X-Auto-Response-Suppress': 'All' },
};

describeWithSmtpPeer('the test SMTP peer (smtp-server) with nodemailer', () => {
  let starttls: SmtpPeer;
  let implicit: SmtpPeer;
  let relay: SmtpPeer;

  beforeAll(async () => {
    [starttls, implicit, relay] = await Promise.all([startSmtpPeer({ tls: 'starttls' }), startSmtpPeer({ tls: 'implicit' }), startSmtpPeer({ auth: false })]);
  });
  afterAll(async () => {
    await Promise.all([starttls?.stop(), implicit?.stop(), relay?.stop()]);
  });

  test('when nodemailer sends over STARTTLS with AUTH PLAIN, then the message arrives encrypted, authenticated and byte for byte', async () => {
    const raw = await compose(notification);
    const before = starttls.received.length;
    await transport(starttls, { authMethod: 'PLAIN' }).sendMail({ envelope: { from: 'helpdesk@deskside.test', to: ['alice@example.com'] }, raw });
    const [got] = (await starttls.waitFor(before + 1)).slice(before);
    expect(got.secure).toBe(true);
    expect(got.user).toBe(starttls.auth?.user);
    expect(got.envelope).toEqual({ mailFrom: 'helpdesk@deskside.test', rcptTo: ['alice@example.com'] });
    expect(got.raw.equals(raw)).toBe(true);
  });

  test('when a notification is sent with AUTH LOGIN, then mailparser reads back its threading and loop-prevention headers', async () => {
    const before = starttls.received.length;
    await transport(starttls, { authMethod: 'LOGIN' }).sendMail(notification);
    const [got] = (await starttls.waitFor(before + 1)).slice(before);
    expect(got.user).toBe(starttls.auth?.user);
    const parsed = await simpleParser(got.raw);
    expect(parsed.subject).toBe(notification.subject);
    expect(parsed.messageId).toBe('<ticket-123.event-456.abc@deskside.test>');
    expect(parsed.inReplyTo).toBe('<ticket-123@deskside.test>');
    expect(parsed.references).toBe('<ticket-123@deskside.test>');
    expect(parsed.headers.get('auto-submitted')).toBe('auto-generated');
    expect(parsed.headers.get('x-auto-response-suppress')).toBe('All');
    expect(parsed.text).toBe(notification.text);
    expect(parsed.html).toContain('Ümlaute und €.');
  });

  test('when nodemailer sends to smtps:// (implicit TLS), then the message arrives over TLS', async () => {
    expect(implicit.url).toMatch(/^smtps:\/\//);
    await transport(implicit).sendMail({ ...notification, messageId: '<implicit@deskside.test>' });
    const [got] = await implicit.waitFor(1);
    expect(got.secure).toBe(true);
    expect((await simpleParser(got.raw)).messageId).toBe('<implicit@deskside.test>');
  });

  test('when the client does not trust the test CA, then the TLS handshake is refused (self-signed is not accepted by default)', async () => {
    const untrusting = nodemailer.createTransport({ url: implicit.url } as SMTPTransport.Options);
    await expect(untrusting.sendMail(notification)).rejects.toThrow(/certificate/i);
  });

  test('when the password is wrong, then AUTH fails with 535', async () => {
    const wrong = nodemailer.createTransport({ host: starttls.host, port: starttls.port, secure: false, requireTLS: true, tls: { ca: [readFileSync(starttls.caFile)] }, auth: { user: 'deskside', pass: 'wrong' } });
    await expect(wrong.sendMail(notification)).rejects.toMatchObject({ code: 'EAUTH', responseCode: 535 });
  });

  test('when the peer is an open relay, then it takes mail without AUTH and records no user', async () => {
    expect(relay.url).toBe(`smtp://127.0.0.1:${relay.port}`);
    await transport(relay).sendMail(notification);
    const [got] = await relay.waitFor(1);
    expect(got.user).toBeNull();
    expect(got.secure).toBe(true); // STARTTLS is still offered and nodemailer takes it
  });

  test('when told to fail the next messages, then they get the 4xx or 5xx answer and later ones are accepted', async () => {
    const t = transport(starttls);
    const before = starttls.received.length;
    starttls.failNext(1, 451);
    starttls.failNext(1, 550, 'No such mailbox');
    await expect(t.sendMail(notification)).rejects.toMatchObject({ responseCode: 451 });
    await expect(t.sendMail(notification)).rejects.toMatchObject({ responseCode: 550, response: expect.stringContaining('No such mailbox') });
    await t.sendMail(notification);
    expect(starttls.received.length).toBe(before + 1);
    expect(starttls.refused.slice(-2).map((r) => r.code)).toEqual([451, 550]);
  });

  test('when the peer goes away, then sending fails to connect; when it comes back on the same port, then sending works and nothing was recorded twice', async () => {
    const t = transport(relay, { connectionTimeout: 2000 });
    const before = relay.received.length;
    await relay.goAway();
    expect(relay.listening()).toBe(false);
    await expect(t.sendMail(notification)).rejects.toMatchObject({ code: expect.stringMatching(/ECONNECTION|ESOCKET/) });
    await relay.comeBack();
    await t.sendMail(notification);
    expect(relay.received.length).toBe(before + 1);
  });
});

describeWithDovecot('the test IMAP server (Dovecot) with imapflow', () => {
  let dovecot: Dovecot;
  const clients: ImapFlow[] = [];

  async function connect(tls: 'implicit' | 'starttls', overrides: Partial<ImapFlowOptions> = {}): Promise<ImapFlow> {
    const client = new ImapFlow(dovecot.imapFlowOptions(tls, overrides));
    client.on('error', () => undefined); // errors surface through the awaited calls
    clients.push(client);
    await client.connect();
    return client;
  }

  function message(id: string, subject: string): string {
    return [`From: Bob <bob@example.com>`, `To: helpdesk@deskside.test`, `Subject: ${subject}`, `Message-ID: <${id}@example.com>`, `Date: Mon, 2 Nov 2026 10:00:00 +0100`, `MIME-Version: 1.0`, `Content-Type: text/plain; charset=utf-8`, ``, `Body of ${id}.`, ``].join('\r\n');
  }

  beforeAll(async () => {
    dovecot = await startDovecot();
  });
  afterAll(async () => {
    await Promise.all(clients.map((c) => c.logout().catch(() => c.close())));
    await dovecot?.stop();
  });

  test('when a message is delivered and read over imaps, then imapflow fetches it with its body intact', async () => {
    const raw = message('first', 'Printer on fire');
    await dovecot.deliver(raw);
    const client = await connect('implicit');
    expect(client.secureConnection).toBe(true);
    const lock = await client.getMailboxLock('INBOX');
    try {
      const msg = await client.fetchOne('*', { source: true, envelope: true }, { uid: true });
      expect(msg && msg.envelope?.messageId).toBe('<first@example.com>');
      // dovecot-lda prepends its own trace header (Return-Path); our bytes follow untouched.
      const source = (msg as { source: Buffer }).source.toString('utf8');
      expect(source.endsWith(raw)).toBe(true);
      const parsed = await simpleParser((msg as { source: Buffer }).source);
      expect(parsed.subject).toBe('Printer on fire');
    } finally {
      lock.release();
    }
  });

  test('when imapflow connects to imap:// with STARTTLS required, then the session is upgraded and sees the mailbox', async () => {
    expect(dovecot.url('starttls')).toMatch(/^imap:\/\/helpdesk:.+@127\.0\.0\.1:\d+\/INBOX$/);
    const client = await connect('starttls');
    expect(client.secureConnection).toBe(true);
    const status = await client.status('INBOX', { messages: true });
    expect(status && status.messages).toBeGreaterThanOrEqual(1);
  });

  test('when the client does not trust the test CA, then connecting fails; rejectUnauthorized: false (tests only) gets in', async () => {
    const untrusting = new ImapFlow(dovecot.imapFlowOptions('implicit', { tls: {} }));
    untrusting.on('error', () => undefined);
    await expect(untrusting.connect()).rejects.toThrow(/certificate/i);
    const careless = await connect('implicit', { tls: { rejectUnauthorized: false } });
    expect(careless.usable).toBe(true);
  });

  test('when the password is wrong, then login fails', async () => {
    const wrong = new ImapFlow(dovecot.imapFlowOptions('implicit', { auth: { user: dovecot.user, pass: 'wrong' } }));
    wrong.on('error', () => undefined);
    await expect(wrong.connect()).rejects.toMatchObject({ authenticationFailed: true });
  });

  test('when a message is delivered while the client IDLEs, then it hears EXISTS within two seconds', async () => {
    // The reader's shape: a mailbox open without a held lock, and imapflow's auto-IDLE (its
    // default delay is 15 s of quiet; short here so the test need not wait).
    const client = await connect('implicit', { autoIdleDelay: 100 });
    expect(client.capabilities.has('IDLE')).toBe(true);
    const { exists: before } = await client.mailboxOpen('INBOX');
    for (let i = 0; i < 50 && !client.idling; i++) await new Promise((r) => setTimeout(r, 50));
    expect(client.idling).toBe(true);
    const t0 = Date.now();
    const heard = new Promise<number>((resolve) => client.once('exists', (e: { count: number }) => resolve(e.count)));
    await dovecot.deliver(message('idle', 'Arrives during IDLE'));
    expect(await heard).toBe(before + 1);
    expect(Date.now() - t0).toBeLessThan(2000);
  });

  test('when Deskside/Processed and Deskside/Failed are created and a message is moved, then it leaves INBOX and lands there', async () => {
    await dovecot.deliver(message('move-me', 'To be processed'));
    const client = await connect('implicit');
    for (const name of ['Processed', 'Failed']) await client.mailboxCreate(['Deskside', name]);
    const listed = (await client.list()).map((m) => m.path);
    expect(listed).toEqual(expect.arrayContaining(['INBOX', 'Deskside/Processed', 'Deskside/Failed']));

    const lock = await client.getMailboxLock('INBOX');
    let uid: number;
    try {
      const found = await client.search({ header: { 'message-id': '<move-me@example.com>' } }, { uid: true });
      expect(found).toHaveLength(1);
      uid = (found as number[])[0];
      const moved = await client.messageMove(String(uid), 'Deskside/Processed', { uid: true });
      expect(moved && moved.uidMap?.size).toBe(1);
    } finally {
      lock.release();
    }
    const remaining = await client.search({ header: { 'message-id': '<move-me@example.com>' } }, { uid: true }).catch(() => []);
    expect(remaining).toEqual([]);
    const processed = await client.status('Deskside/Processed', { messages: true });
    expect(processed && processed.messages).toBe(1);
  });

  test('when the server separates folders with "." instead of "/", then the array form of mailboxCreate still makes Deskside.Processed; when stopped, then its process and folder are gone', async () => {
    const dotted = await startDovecot({ separator: '.' });
    try {
      const client = new ImapFlow(dotted.imapFlowOptions('implicit'));
      client.on('error', () => undefined);
      await client.connect();
      try {
        const created = await client.mailboxCreate(['Deskside', 'Processed']);
        expect(created.path).toBe('Deskside.Processed');
        expect((await client.list()).find((m) => m.path === 'Deskside.Processed')?.delimiter).toBe('.');
      } finally {
        await client.logout();
      }
    } finally {
      await dotted.stop();
    }
    expect(() => process.kill(dotted.pid, 0)).toThrow(expect.objectContaining({ code: 'ESRCH' }));
    expect(existsSync(dotted.dir)).toBe(false);
  });
});

describeWithDovecot('a message through both servers', () => {
  let smtp: SmtpPeer;
  let dovecot: Dovecot;
  beforeAll(async () => {
    [smtp, dovecot] = await Promise.all([startSmtpPeer(), startDovecot()]);
  });
  afterAll(async () => {
    await Promise.all([smtp?.stop(), dovecot?.stop()]);
  });

  test('when nodemailer sends, the SMTP peer receives and Dovecot is given the same bytes, then imapflow reads what was sent', async () => {
    await transport(smtp).sendMail(notification);
    const [got] = await smtp.waitFor(1);
    await dovecot.deliver(got.raw, { envelopeFrom: got.envelope.mailFrom ?? '' });
    const client = new ImapFlow(dovecot.imapFlowOptions('starttls'));
    client.on('error', () => undefined);
    await client.connect();
    try {
      const lock = await client.getMailboxLock('INBOX');
      try {
        const msg = await client.fetchOne('*', { source: true }, { uid: true });
        const parsed = await simpleParser((msg as { source: Buffer }).source);
        expect(parsed.messageId).toBe(notification.messageId);
        expect(parsed.text).toBe(notification.text);
        expect(parsed.headers.get('auto-submitted')).toBe('auto-generated');
      } finally {
        lock.release();
      }
    } finally {
      await client.logout();
    }
  });
});
