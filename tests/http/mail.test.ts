/**
 * Notifications through the web app: who gets which mail (outbox rows written with the
 * events), what the mail says (rendered by the sender, handed to a transport that records
 * it), each person's choices at /me/notifications, and /admin/mail. The real SMTP and IMAP
 * servers are in tests/mail/.
 */
import type { SendMailOptions } from 'nodemailer';
import { createLogger } from '../../app/logging';
import type { MailParts } from '../../app/features/mail/mail.service';
import { sendDue } from '../../app/features/mail/sender';
import { client, makeApp, type TestApp } from '../support/app';

const MAIL_ENV = {
  DESKSIDE_SMTP_URL: 'smtp://127.0.0.1:2525',
  DESKSIDE_MAIL_FROM: 'IT Helpdesk <helpdesk@corp.example>',
  DESKSIDE_PUBLIC_URL: 'https://helpdesk.corp.example',
};

const EMAILS: Record<string, string> = {
  'TEST\\alice': 'alice@corp.example',
  'TEST\\bob': 'bob@corp.example',
  'TEST\\agent1': 'agent1@corp.example',
  'TEST\\agent2': 'agent2@corp.example',
  'TEST\\admin1': 'admin1@corp.example',
};

/** Everyone signs in once (a person row), and gets the address the directory would give. */
async function people(t: TestApp): Promise<Record<string, ReturnType<typeof client>>> {
  const out: Record<string, ReturnType<typeof client>> = {};
  for (const login of Object.keys(EMAILS)) {
    out[login] = client(t.app, login);
    expect((await out[login].get('/me')).status).toBe(200);
    await t.database.db.updateTable('people').set({ email: EMAILS[login] }).where('login', '=', login).execute();
  }
  return out;
}

async function raise(who: ReturnType<typeof client>, title = 'VPN drops every ten minutes'): Promise<number> {
  const res = await who.post('/tickets', { title, description: 'Since Monday <b>bold</b> & co.', category: '5', priority: 'normal' });
  expect(res.status).toBe(303);
  return Number(/(\d+)$/.exec(res.headers.location)![1]);
}

async function outbox(t: TestApp, ticketId?: number) {
  let q = t.database.db.selectFrom('mail_outbox').selectAll().orderBy('id');
  if (ticketId !== undefined) q = q.where('ticket_id', '=', ticketId);
  return q.execute();
}

async function versionOf(t: TestApp, id: number): Promise<number> {
  return (await t.database.db.selectFrom('tickets').select('version').where('id', '=', id).executeTakeFirstOrThrow()).version;
}

async function personId(t: TestApp, login: string): Promise<number> {
  return (await t.database.db.selectFrom('people').select('id').where('login', '=', login).executeTakeFirstOrThrow()).id;
}

/** Send what is due through a transport that keeps the messages. */
async function deliver(t: TestApp, mail: MailParts): Promise<SendMailOptions[]> {
  const sent: SendMailOptions[] = [];
  await sendDue({
    database: t.database,
    outbox: mail.outbox,
    transport: () => ({ sendMail: async (m: SendMailOptions) => (sent.push(m), { response: '250 2.0.0 Queued as TEST' }), close: () => undefined }),
    logger: createLogger('silent'),
    from: mail.config.from,
    publicUrl: mail.config.publicUrl,
    replyByMail: false,
    serverName: 'test',
    retryMs: 60_000,
  });
  return sent;
}

describe('notifications, with mail on', () => {
  let t: TestApp;
  let p: Record<string, ReturnType<typeof client>>;
  beforeEach(async () => {
    t = await makeApp({ env: MAIL_ENV });
    p = await people(t);
  });
  afterEach(() => t.close());

  test('when a requester raises a ticket, then one acknowledgement is queued to them in the same transaction, with the number and the threading headers', async () => {
    const id = await raise(p['TEST\\alice']);
    const rows = await outbox(t, id);
    expect(rows.map((r) => [r.to_address, r.audience, r.status, r.subject])).toEqual([['alice@corp.example', 'requester', 'queued', `[#${id}] VPN drops every ten minutes`]]);
    const created = await t.database.db.selectFrom('ticket_events').select('id').where('ticket_id', '=', id).executeTakeFirstOrThrow();
    expect(rows[0].event_ids).toBe(String(created.id));
    expect(rows[0].dedupe_key).toBe(`e${created.id}:alice@corp.example`);
    expect(rows[0].message_id).toMatch(new RegExp(`^<ticket-${id}\\.event-${created.id}\\.[0-9a-f]{8}\\.[0-9a-f]{16}@helpdesk\\.corp\\.example>$`));

    const [m] = await deliver(t, t.mail!);
    expect(m).toMatchObject({ from: 'IT Helpdesk <helpdesk@corp.example>', to: 'alice@corp.example', subject: `[#${id}] VPN drops every ten minutes`, messageId: rows[0].message_id });
    expect(m.headers).toEqual({ 'Auto-Submitted': 'auto-generated', 'X-Auto-Response-Suppress': 'All' });
    expect(m.inReplyTo).toMatch(new RegExp(`^<ticket-${id}\\.[0-9a-f]{16}@helpdesk\\.corp\\.example>$`));
    expect(m.references).toEqual([m.inReplyTo]);
    expect(m.text).toContain(`We have your request: its number is #${id}`);
    expect(m.text).toContain('Since Monday <b>bold</b> & co.');
    expect(m.text).toContain(`https://helpdesk.corp.example/tickets/${id}`);
    expect(m.html).toContain('Since Monday &lt;b&gt;bold&lt;/b&gt; &amp; co.');
    expect(m.html).not.toContain('<b>bold</b>');
    expect(m.html).toContain('https://helpdesk.corp.example/me/notifications');
    const sent = (await outbox(t, id))[0];
    expect(sent).toMatchObject({ status: 'sent', attempts: 1, last_answer: '250 2.0.0 Queued as TEST', lease_owner: null });
    // Nothing is sent twice: the row is no longer due.
    expect(await deliver(t, t.mail!)).toEqual([]);
  });

  test('when an agent replies, then resolves, then the requester hears of each; an internal note goes to nobody', async () => {
    const id = await raise(p['TEST\\alice']);
    await deliver(t, t.mail!);
    const agent = p['TEST\\agent1'];
    expect((await agent.post(`/tickets/${id}/comments`, { body: 'Secret: the firewall is misconfigured', internal: 'on' })).status).toBe(303);
    expect(await outbox(t, id)).toHaveLength(1);
    expect((await agent.post(`/tickets/${id}/comments`, { body: 'Please restart the VPN client.' })).status).toBe(303);
    expect((await agent.post(`/tickets/${id}`, { version: String(await versionOf(t, id)), status: 'resolved' })).status).toBe(303);
    const mails = await deliver(t, t.mail!);
    expect(mails.map((m) => m.to)).toEqual(['alice@corp.example', 'alice@corp.example']);
    expect(mails[0].text).toContain('Please restart the VPN client.');
    expect(mails[1].text).toContain('set the status to Resolved');
    for (const m of mails) expect(`${m.text as string}${m.html as string}`).not.toContain('firewall');
  });

  test('when an agent assigns a ticket and the requester replies, then the assignee hears of both; nobody hears of their own action', async () => {
    const id = await raise(p['TEST\\alice']);
    await deliver(t, t.mail!);
    const agent2 = await personId(t, 'TEST\\agent2');
    expect((await p['TEST\\agent1'].post(`/tickets/${id}`, { version: '1', assignee: String(agent2) })).status).toBe(303);
    // Assigning oneself is not news.
    const other = await raise(p['TEST\\bob'], 'Printer jams');
    expect((await p['TEST\\agent1'].post(`/tickets/${other}`, { version: '1', assignee: String(await personId(t, 'TEST\\agent1')) })).status).toBe(303);
    expect((await p['TEST\\alice'].post(`/tickets/${id}/comments`, { body: 'It dropped again at 10:14.' })).status).toBe(303);
    const mails = (await deliver(t, t.mail!)).filter((m) => m.to !== 'bob@corp.example');
    expect(mails.map((m) => [m.to, String(m.subject)])).toEqual([
      ['agent2@corp.example', `[#${id}] VPN drops every ten minutes`],
      ['agent2@corp.example', `[#${id}] VPN drops every ten minutes`],
    ]);
    expect(mails[0].text).toContain('assigned ticket');
    expect(mails[1].text).toContain('It dropped again at 10:14.');
    expect(mails[1].text).toContain('Raised by: ');
  });

  test('when a ticket is raised with files and an agent answers with a file only, then the mails name the files', async () => {
    const alice = p['TEST\\alice'];
    const raised = await alice.postFiles('/tickets', { title: 'Scanner jams', description: 'See the photo.', category: '1', priority: 'normal' }, [{ name: 'jam.jpg', content: Buffer.from('not really a jpeg'), type: 'image/jpeg' }]);
    expect(raised.status).toBe(303);
    const id = Number(/(\d+)$/.exec(raised.headers.location)![1]);
    const [ack] = await deliver(t, t.mail!);
    expect(ack.text).toContain('We have your request');
    expect(ack.text).toContain('attached jam.jpg');
    expect(ack.html).toContain('<strong>jam.jpg</strong>');
    const answered = await p['TEST\\agent1'].postFiles(`/tickets/${id}/comments`, { body: '' }, [
      { name: 'manual.pdf', content: Buffer.from('%PDF-1.4 manual'), type: 'application/pdf' },
      { name: 'steps.txt', content: Buffer.from('1. open the lid'), type: 'text/plain' },
    ]);
    expect(answered.status).toBe(303);
    const [files] = await deliver(t, t.mail!);
    expect(files.to).toBe('alice@corp.example');
    expect(files.text).toContain(`added files to your ticket #${id}`);
    expect(files.text).toContain('attached manual.pdf, steps.txt');
  });

  test('when an agent opts in to every new ticket, then they hear of the next one raised, and not of their own', async () => {
    const agent = p['TEST\\agent1'];
    const page = await agent.get('/me/notifications');
    expect(page.status).toBe(200);
    expect(page.text).toContain('About every new ticket');
    expect((await agent.post('/me/notifications', { my_tickets: 'on', assigned: 'on', new_tickets: 'on' }, { tokenFrom: '/me/notifications' })).status).toBe(303);
    const saved = await agent.get('/me/notifications');
    expect(saved.text).toContain('Your choices are saved.');
    expect(saved.text).toMatch(/id="new_tickets" name="new_tickets" value="on" aria-describedby="new_tickets-hint" checked/);
    const id = await raise(p['TEST\\bob']);
    await raise(agent, 'My own monitor');
    const rows = await outbox(t);
    expect(rows.filter((r) => r.audience === 'agent').map((r) => [r.ticket_id, r.to_address])).toEqual([[id, 'agent1@corp.example']]);
    const mails = await deliver(t, t.mail!);
    expect(mails.find((m) => m.to === 'agent1@corp.example')!.text).toContain('raised a new ticket');
  });

  test('when a requester turns their mail off, then nothing more is queued for them; requesters are not offered the agents\u2019 choices', async () => {
    const alice = p['TEST\\alice'];
    const page = await alice.get('/me/notifications');
    expect(page.text).toContain('alice@corp.example');
    expect(page.text).not.toContain('About every new ticket');
    expect((await alice.post('/me/notifications', {}, { tokenFrom: '/me/notifications' })).status).toBe(303);
    await raise(alice);
    expect(await outbox(t)).toEqual([]);
    // An agent's choices posted by a requester are not theirs to make.
    await alice.post('/me/notifications', { my_tickets: 'on', new_tickets: 'on' }, { tokenFrom: '/me/notifications' });
    const prefs = await t.database.db.selectFrom('mail_preferences').selectAll().where('person_id', '=', await personId(t, 'TEST\\alice')).executeTakeFirstOrThrow();
    expect(prefs).toMatchObject({ my_tickets: 1, new_tickets: 0 });
  });

  test('when someone has no e-mail address, then nothing is queued for them and their page says why', async () => {
    const carol = client(t.app, 'TEST\\carol');
    expect((await carol.get('/me/notifications')).text).toContain('Deskside has no e-mail address for you');
    await raise(carol);
    expect(await outbox(t)).toEqual([]);
  });

  test('when a known issue gets a public update, then the requesters of its linked tickets hear of it', async () => {
    const agent = p['TEST\\agent1'];
    const id = await raise(p['TEST\\alice']);
    await deliver(t, t.mail!);
    const published = await agent.post('/known-issues', { title: 'VPN gateway down', summary: 'One gateway is down.', status: 'investigating', category: '5' });
    expect(published.status).toBe(303);
    const k = /(\d+)$/.exec(published.headers.location)![1];
    expect((await agent.post(`/known-issues/${k}/tickets`, { ticket: String(id) })).status).toBe(303);
    expect((await agent.post(`/known-issues/${k}/updates`, { body: 'A new certificate goes in tonight.' })).status).toBe(303);
    const mails = await deliver(t, t.mail!);
    expect(mails.map((m) => m.to)).toEqual(['alice@corp.example']);
    expect(mails[0].text).toContain('A new certificate goes in tonight.');
    expect(mails[0].text).toContain(`https://helpdesk.corp.example/known-issues/${k}`);
  });

  test('when the admin page is asked for, then admins see the outbox and can queue a test message; others are refused', async () => {
    await raise(p['TEST\\alice']);
    expect((await p['TEST\\alice'].get('/admin/mail')).status).toBe(403);
    expect((await client(t.app).get('/admin/mail')).status).toBe(401);
    const admin = p['TEST\\admin1'];
    const page = await admin.get('/admin/mail');
    expect(page.status).toBe(200);
    expect(page.text).toContain('127.0.0.1:2525 (STARTTLS, no sign-in)');
    expect(page.text).toContain('alice@corp.example');
    expect(page.text).toContain('Queued <span class="count">(1)</span>');
    const bad = await admin.post('/admin/mail/test', { to: 'not an address' }, { tokenFrom: '/admin/mail' });
    expect(bad.status).toBe(400);
    expect(bad.text).toContain('href="#test-to"');
    expect(bad.text).toContain('value="not an address"');
    const ok = await admin.post('/admin/mail/test', { to: 'Someone@Example.com' }, { tokenFrom: '/admin/mail' });
    expect(ok.status).toBe(303);
    const test = (await outbox(t)).find((r) => r.kind === 'test')!;
    expect(test).toMatchObject({ to_address: 'someone@example.com', status: 'queued', ticket_id: null });
    const mails = await deliver(t, t.mail!);
    const m = mails.find((x) => x.to === 'someone@example.com')!;
    expect(m.subject).toBe('Deskside test message');
    expect(m.text).toContain('asked for it');
    const after = await admin.get(`/admin/mail?status=sent`);
    expect(after.text).toContain('250 2.0.0 Queued as TEST');
  });
});

describe('with mail off', () => {
  let t: TestApp;
  beforeEach(async () => {
    t = await makeApp();
  });
  afterEach(() => t.close());

  test('when tickets are raised and answered, then no outbox row is written and the mail pages do not exist', async () => {
    const alice = client(t.app, 'TEST\\alice');
    await alice.get('/me');
    await t.database.db.updateTable('people').set({ email: 'alice@corp.example' }).execute();
    const id = await raise(alice);
    await client(t.app, 'TEST\\agent1').post(`/tickets/${id}/comments`, { body: 'On it.' });
    expect(await outbox(t)).toEqual([]);
    expect((await alice.get('/me/notifications')).status).toBe(404);
    expect((await client(t.app, 'TEST\\admin1').get('/admin/mail')).status).toBe(404);
    expect((await alice.get('/me')).text).not.toContain('/me/notifications');
  });
});
