/**
 * What becomes of a message from the desk's mailbox (inbound.service.ts), on a real app and
 * database; reading it over IMAP is tests/mail/end-to-end.test.ts.
 */
import { inboundDeps } from '../../../../app/features/mail/mail.service';
import { processMessage, type InboundDeps } from '../../../../app/features/mail/inbound.service';
import { notificationMessageId, ticketRootMessageId } from '../../../../app/features/mail/threading';
import { client, makeApp, type TestApp } from '../../../support/app';
import { alternative, raw } from './samples';

const ENV = {
  DESKSIDE_SMTP_URL: 'smtp://127.0.0.1:2525',
  DESKSIDE_MAIL_FROM: 'IT Helpdesk <helpdesk@corp.example>',
  DESKSIDE_PUBLIC_URL: 'https://helpdesk.corp.example',
  DESKSIDE_IMAP_URL: 'imaps://helpdesk%40corp.example:pw@127.0.0.1/INBOX',
};

let n = 0;
function mail(o: { from?: string; subject?: string; id?: string | null; body?: string; headers?: string[] }): Buffer {
  const headers = [`From: ${o.from ?? 'Alice <alice@corp.example>'}`, 'To: helpdesk@corp.example', `Subject: ${o.subject ?? 'Laptop will not start'}`, 'Date: Mon, 2 Nov 2026 10:00:00 +0100'];
  if (o.id !== null) headers.push(`Message-ID: ${o.id ?? `<m${++n}@mail.example>`}`);
  return Buffer.from(raw([...headers, 'Content-Type: text/plain; charset=utf-8', ...(o.headers ?? [])], o.body ?? 'It shows a black screen.'));
}

describe('a message from the desk’s mailbox', () => {
  let t: TestApp;
  let d: InboundDeps;
  const people: Record<string, number> = {};

  async function setUp(env: Record<string, string> = {}) {
    t = await makeApp({ env: { ...ENV, ...env } });
    const m = t.mail!;
    d = inboundDeps(t.database, m, t.attachments);
    for (const [login, email] of [
      ['TEST\\alice', 'Alice@Corp.Example'],
      ['TEST\\bob', 'bob@corp.example'],
      ['TEST\\agent1', 'agent1@corp.example'],
    ]) {
      await client(t.app, login).get('/me');
      await t.database.db.updateTable('people').set({ email }).where('login', '=', login).execute();
      people[login] = (await t.database.db.selectFrom('people').select('id').where('login', '=', login).executeTakeFirstOrThrow()).id;
    }
  }
  afterEach(() => t.close());

  const tickets = () => t.database.db.selectFrom('tickets').select(['id', 'title', 'description', 'requester_id']).orderBy('id').execute();
  const events = (id: number) => t.database.db.selectFrom('ticket_events').select(['kind', 'body', 'actor_id']).where('ticket_id', '=', id).orderBy('id').execute();
  const outbox = () => t.database.db.selectFrom('mail_outbox').selectAll().orderBy('id').execute();

  test('when a known person writes, then a ticket is raised in their name (matched by address, whatever its case), marked as come by e-mail, and their acknowledgement threads under their message', async () => {
    await setUp();
    const r = await processMessage(d, mail({ from: 'Alice <ALICE@corp.example>', subject: 'FW: Laptop will not start', id: '<first@mail.example>' }));
    expect(r).toMatchObject({ outcome: 'ticket', folder: 'processed' });
    const [ticket] = await tickets();
    expect(ticket).toEqual({ id: r.ticketId, title: 'Laptop will not start', description: 'It shows a black screen.', requester_id: people['TEST\\alice'] });
    const { channel } = await t.database.db.selectFrom('tickets').select('channel').where('id', '=', ticket.id).executeTakeFirstOrThrow();
    expect(channel).toBe('email');
    const [ack] = await outbox();
    expect(ack).toMatchObject({ to_address: 'alice@corp.example', audience: 'requester', also_references: '<first@mail.example>' });
    const row = await t.database.db.selectFrom('mail_inbound').selectAll().executeTakeFirstOrThrow();
    expect(row).toMatchObject({ message_key: '<first@mail.example>', outcome: 'ticket', ticket_id: r.ticketId, person_id: people['TEST\\alice'] });
  });

  test('when the same message comes twice, then it is acted on once', async () => {
    await setUp();
    const m = mail({ id: '<twice@mail.example>' });
    expect((await processMessage(d, m)).outcome).toBe('ticket');
    expect(await processMessage(d, m)).toMatchObject({ outcome: 'duplicate', folder: 'processed' });
    expect(await tickets()).toHaveLength(1);
    // One without a Message-ID is told apart by its bytes.
    const anonymous = mail({ id: null, body: 'No id here.' });
    expect((await processMessage(d, anonymous)).outcome).toBe('ticket');
    expect((await processMessage(d, anonymous)).outcome).toBe('duplicate');
  });

  test('when someone unknown writes, then they become a requester named as the mail names them; with reject, nothing is raised and nothing answered', async () => {
    await setUp();
    const r = await processMessage(d, mail({ from: '"Zoë Outsider" <zoe@partner.example>' }));
    expect(r.outcome).toBe('ticket');
    const zoe = await t.database.db.selectFrom('people').select(['login', 'email', 'display_name', 'is_agent']).where('email', '=', 'zoe@partner.example').executeTakeFirstOrThrow();
    expect(zoe).toEqual({ login: 'zoe@partner.example', email: 'zoe@partner.example', display_name: 'Zoë Outsider', is_agent: 0 });
    await t.close();
    await setUp({ DESKSIDE_MAIL_UNKNOWN_SENDERS: 'reject' });
    expect(await processMessage(d, mail({ from: 'stranger@spam.example' }))).toMatchObject({ outcome: 'rejected', folder: 'processed' });
    expect(await tickets()).toEqual([]);
    expect(await outbox()).toEqual([]);
  });

  test('when the requester replies to a notification, then the reply lands on its ticket without the quoted text, the whole message is kept, and the assignee hears of it', async () => {
    await setUp();
    const { ticketId } = await processMessage(d, mail({}));
    await t.database.db.updateTable('tickets').set({ assignee_id: people['TEST\\agent1'], status: 'pending' }).where('id', '=', ticketId!).execute();
    const notification = notificationMessageId({ ticketId: ticketId!, eventId: 1, recipient: 'alice@corp.example' }, d.threading);
    const reply = alternative(
      ['From: Alice <alice@corp.example>', 'To: helpdesk@corp.example', 'Subject: RE: something else entirely', `In-Reply-To: ${notification}`, `References: ${ticketRootMessageId(ticketId!, d.threading)} ${notification}`, 'Message-ID: <reply@mail.example>'],
      'It works now, thanks.\n\nSent from my iPhone\n\n> On Mon, 2 Nov 2026 at 10:00, IT Helpdesk wrote:\n> Please restart it.',
      '<div>It works now, thanks.</div><div id="appendonsend"></div><hr><div>Please restart it.</div>',
    );
    const r = await processMessage(d, Buffer.from(reply));
    expect(r).toMatchObject({ outcome: 'comment', ticketId });
    expect(r.reason).toMatch(/In-Reply-To\/References/);
    const evs = await events(ticketId!);
    expect(evs.slice(1)).toEqual([
      { kind: 'comment', body: 'It works now, thanks.', actor_id: people['TEST\\alice'] },
      { kind: 'status', body: null, actor_id: people['TEST\\alice'] },
    ]);
    const kept = await t.database.db.selectFrom('mail_inbound').select('original').where('message_key', '=', '<reply@mail.example>').executeTakeFirstOrThrow();
    expect(kept.original).toContain('Please restart it.');
    const last = (await outbox()).at(-1)!;
    expect(last).toMatchObject({ to_address: 'agent1@corp.example', audience: 'assignee' });
    const page = await client(t.app, 'TEST\\agent1').get(`/tickets/${ticketId}`);
    expect(page.text).toMatch(/by e-mail · <a class="via-mail" href="\/tickets\/\d+\/mail\/\d+">the whole e-mail<\/a>/);
  });

  test('when [#123] in a subject is the only clue, then it counts from the requester or an agent; anyone else raises a ticket of their own', async () => {
    await setUp();
    const { ticketId } = await processMessage(d, mail({}));
    expect((await processMessage(d, mail({ subject: `AW: [#${ticketId}] Laptop will not start`, body: 'Still black.' }))).outcome).toBe('comment');
    expect((await processMessage(d, mail({ from: 'agent1@corp.example', subject: `[#${ticketId}] Laptop will not start`, body: 'Bring it to the desk.' }))).outcome).toBe('comment');
    const bob = await processMessage(d, mail({ from: 'bob@corp.example', subject: `RE: [#${ticketId}] Laptop will not start`, body: 'Mine too!' }));
    expect(bob.outcome).toBe('ticket');
    expect((await tickets()).at(-1)).toMatchObject({ title: 'Laptop will not start', requester_id: people['TEST\\bob'] });
    expect((await events(ticketId!)).map((e) => e.body).filter(Boolean)).toEqual(['Still black.', 'Bring it to the desk.']);
  });

  test('when References are forged (a made-up MAC) or from another host, then they lead nowhere', async () => {
    await setUp();
    const { ticketId } = await processMessage(d, mail({}));
    const forged = `<ticket-${ticketId}.0123456789abcdef@helpdesk.corp.example>`;
    const r = await processMessage(d, mail({ from: 'bob@corp.example', subject: 'Re: hello', headers: [`In-Reply-To: ${forged}`, `References: ${forged}`], body: 'Let me in.' }));
    expect(r.outcome).toBe('ticket');
    expect(r.ticketId).not.toBe(ticketId);
  });

  test('when someone copied in answers a notification, then it is kept as an internal note, not a reply', async () => {
    await setUp();
    const { ticketId } = await processMessage(d, mail({}));
    const notification = notificationMessageId({ ticketId: ticketId!, eventId: 1, recipient: 'alice@corp.example' }, d.threading);
    const r = await processMessage(d, mail({ from: 'bob@corp.example', subject: 'RE: Laptop', headers: [`In-Reply-To: ${notification}`], body: 'I am her manager; this is urgent.' }));
    expect(r).toMatchObject({ outcome: 'comment', ticketId });
    const last = (await events(ticketId!)).at(-1)!;
    expect(last.kind).toBe('note');
    expect(last.body).toMatch(/^By e-mail from bob@corp\.example, who is not this ticket’s requester \(so only agents see it\):\n\nI am her manager/);
    // Its whole message is as private as the note: agents only, and the requester cannot guess their way to it.
    const row = await t.database.db.selectFrom('mail_inbound').select('id').where('from_address', '=', 'bob@corp.example').executeTakeFirstOrThrow();
    expect((await client(t.app, 'TEST\\agent1').get(`/tickets/${ticketId}/mail/${row.id}`)).status).toBe(200);
    expect((await client(t.app, 'TEST\\alice').get(`/tickets/${ticketId}/mail/${row.id}`)).status).toBe(404);
    expect((await client(t.app, 'TEST\\alice').get(`/tickets/${ticketId}`)).text).not.toContain('her manager');
  });

  test('when machine mail comes (out of office, a bounce, the desk’s own notification, a list), then no ticket is raised and nothing is answered', async () => {
    await setUp();
    const ignored = [
      mail({ subject: 'Automatic reply: Laptop', headers: ['Auto-Submitted: auto-replied'] }),
      mail({ from: 'MAILER-DAEMON@corp.example', subject: 'Undeliverable: [#1] Laptop' }),
      mail({ from: 'IT Helpdesk <helpdesk@corp.example>', subject: '[#1] Laptop' }),
      mail({ subject: 'Weekly newsletter', headers: ['List-Id: <news.corp.example>'] }),
      mail({ subject: 'Sale!', headers: ['Precedence: bulk'] }),
    ];
    for (const m of ignored) expect(await processMessage(d, m)).toMatchObject({ outcome: 'ignored', folder: 'processed' });
    expect(await tickets()).toEqual([]);
    expect(await outbox()).toEqual([]);
    const reasons = await t.database.db.selectFrom('mail_inbound').select('reason').orderBy('id').execute();
    expect(reasons.map((r) => r.reason)).toEqual([
      expect.stringMatching(/auto reply: Auto-Submitted: auto-replied/),
      expect.stringMatching(/bounce/),
      expect.stringMatching(/desk's own address/),
      expect.stringMatching(/mailing list: List-Id/),
      expect.stringMatching(/bulk: Precedence: bulk/),
    ]);
  });

  test('when the desk is itself a mailing list, then mail with List-Id is a person’s', async () => {
    await setUp({ DESKSIDE_MAIL_ACCEPT_LIST_MAIL: 'true' });
    expect((await processMessage(d, mail({ headers: ['List-Id: <helpdesk.corp.example>'] }))).outcome).toBe('ticket');
  });

  test('when one sender floods the desk, then past the limit their mail is held back until they pause', async () => {
    await setUp({ DESKSIDE_MAIL_SENDER_LIMIT: '3', DESKSIDE_MAIL_SENDER_WINDOW_MINUTES: '10' });
    const now = Date.parse('2026-11-02T10:00:00Z');
    const outcomes = [];
    for (let i = 0; i < 5; i++) outcomes.push((await processMessage(d, mail({ body: `Loop ${i}` }), new Date(now + i * 1000))).outcome);
    expect(outcomes).toEqual(['ticket', 'ticket', 'ticket', 'rate-limited', 'rate-limited']);
    // Another sender is not held back by it.
    expect((await processMessage(d, mail({ from: 'bob@corp.example' }), new Date(now + 5000))).outcome).toBe('ticket');
    // After a quiet window, Alice gets through again.
    expect((await processMessage(d, mail({ body: 'Later' }), new Date(now + 11 * 60_000 + 5000))).outcome).toBe('ticket');
    expect(await tickets()).toHaveLength(5);
  });

  test('when a message brings files, then they become the ticket’s through the attachment store and its limits; signature logos are left out and too-large files are named', async () => {
    await setUp({ DESKSIDE_ATTACHMENT_MAX_MB: '0.05' });
    const b = 'mixed-1';
    const part = (headers: string[], body: string) => [`--${b}`, ...headers, '', body].join('\r\n');
    const screenshot = Buffer.alloc(20 * 1024, 7).toString('base64');
    const logo = Buffer.alloc(2 * 1024, 9).toString('base64');
    const huge = Buffer.alloc(80 * 1024, 1).toString('base64');
    const message = Buffer.from(
      raw(
        ['From: Alice <alice@corp.example>', 'To: helpdesk@corp.example', 'Subject: Error dialog', 'Message-ID: <files-1@mail.example>', 'MIME-Version: 1.0', `Content-Type: multipart/mixed; boundary="${b}"`],
        [
          part(['Content-Type: text/plain; charset=utf-8'], 'The dialog is attached.'),
          part(['Content-Type: application/pdf; name="report.pdf"', 'Content-Disposition: attachment; filename="report.pdf"', 'Content-Transfer-Encoding: base64'], Buffer.from('%PDF-1.4 report').toString('base64')),
          part(['Content-Type: image/png', 'Content-Disposition: inline', 'Content-ID: <shot@x>', 'Content-Transfer-Encoding: base64'], screenshot),
          part(['Content-Type: image/png; name="image001.png"', 'Content-Disposition: inline; filename="image001.png"', 'Content-ID: <logo@x>', 'Content-Transfer-Encoding: base64'], logo),
          part(['Content-Type: application/zip; name="dump.zip"', 'Content-Disposition: attachment; filename="dump.zip"', 'Content-Transfer-Encoding: base64'], huge),
          `--${b}--`,
          '',
        ].join('\r\n'),
      ),
    );
    const r = await processMessage(d, message);
    expect(r).toMatchObject({ outcome: 'ticket', folder: 'processed' });
    expect(r.reason).toMatch(/with 2 files/);
    const files = await t.database.db.selectFrom('attachments').select(['name', 'size', 'internal', 'uploaded_by']).where('ticket_id', '=', r.ticketId!).orderBy('id').execute();
    expect(files).toEqual([
      { name: 'report.pdf', size: 15, internal: 0, uploaded_by: people['TEST\\alice'] },
      { name: 'image-2.png', size: 20 * 1024, internal: 0, uploaded_by: people['TEST\\alice'] },
    ]);
    const [ticket] = await tickets();
    expect(ticket.description).toMatch(/^The dialog is attached\.\n\n\[Not attached from the e-mail: dump\.zip: 80 KB, larger than 51 KB/);
    expect((await events(r.ticketId!)).map((e) => e.kind)).toEqual(['created', 'attached', 'attached']);
    // A reply that is only a file adds the file.
    const reply = raw(
      ['From: alice@corp.example', 'To: helpdesk@corp.example', `Subject: RE: [#${r.ticketId}] Error dialog`, 'Message-ID: <files-2@mail.example>', 'MIME-Version: 1.0', `Content-Type: multipart/mixed; boundary="${b}"`],
      [part(['Content-Type: text/plain; name="more.log"', 'Content-Disposition: attachment; filename="more.log"'], 'line 1'), `--${b}--`, ''].join('\r\n'),
    );
    expect(await processMessage(d, Buffer.from(reply))).toMatchObject({ outcome: 'comment', ticketId: r.ticketId });
    expect((await events(r.ticketId!)).map((e) => e.kind)).toEqual(['created', 'attached', 'attached', 'attached']);
  });

  test('when a refused sender sends files, then nothing is stored for them', async () => {
    await setUp({ DESKSIDE_MAIL_UNKNOWN_SENDERS: 'reject' });
    const b = 'mixed-2';
    const message = raw(
      ['From: spam@spam.example', 'To: helpdesk@corp.example', 'Subject: Invoice', 'MIME-Version: 1.0', `Content-Type: multipart/mixed; boundary="${b}"`],
      [`--${b}`, 'Content-Type: text/plain', '', 'Pay now', `--${b}`, 'Content-Type: application/zip; name="invoice.zip"', 'Content-Disposition: attachment; filename="invoice.zip"', '', 'PK...', `--${b}--`, ''].join('\r\n'),
    );
    expect((await processMessage(d, Buffer.from(message))).outcome).toBe('rejected');
    const stored = [];
    for await (const blob of t.attachments.store.list()) stored.push(blob);
    expect(stored).toEqual([]);
  });

  test('when a message has no text and no sender, then it is filed as failed; a reply with no text is left alone', async () => {
    await setUp();
    expect(await processMessage(d, Buffer.from(raw(['To: helpdesk@corp.example', 'Subject: ?', 'Message-ID: <x@y>'], 'body')))).toMatchObject({ outcome: 'failed', folder: 'failed' });
    const { ticketId } = await processMessage(d, mail({}));
    expect((await processMessage(d, mail({ subject: `Re: [#${ticketId}] x`, body: '' }))).outcome).toBe('ignored');
  });
});
