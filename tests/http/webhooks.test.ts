import { createHmac, timingSafeEqual } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import Ajv2020 from 'ajv/dist/2020';
import addFormats from 'ajv-formats';
import { openApiDocument } from '../../app/features/api/openapi';
import { deliverDue } from '../../app/features/webhooks/deliverer';
import { createTicket } from '../../app/features/tickets/tickets.service';
import type { EventListener } from '../../app/features/tickets/ticket-events';
import { createLogger } from '../../app/logging';
import { ensurePerson } from '../../app/people/people.queries';
import { api } from '../support/api';
import { client, makeApp, type TestApp } from '../support/app';

/**
 * Webhooks against a real receiver: an HTTP server on loopback that checks each
 * delivery's signature the way the README tells receivers to, and answers what the test
 * tells it to (a 503 first, a redirect, silence).
 */

interface Received {
  headers: http.IncomingHttpHeaders;
  body: string;
  path: string;
}

class Receiver {
  readonly got: Received[] = [];
  /** What to answer next, one per request; then 200. */
  answers: (number | 'hang')[] = [];
  private server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      this.got.push({ headers: req.headers, body: Buffer.concat(chunks).toString('utf8'), path: req.url ?? '' });
      const answer = this.answers.shift() ?? 200;
      if (answer === 'hang') return; // never answers: the deliverer's timeout ends it
      if (answer >= 300 && answer < 400) res.setHeader('Location', 'http://127.0.0.1:1/elsewhere');
      if (answer === 503) res.setHeader('Retry-After', '1');
      res.statusCode = answer;
      res.end(answer === 200 ? 'thanks' : 'not now');
    });
  });
  url = '';
  async start(): Promise<void> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/deskside`;
  }
  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

/** What a receiver does (README "Webhooks"): recompute the HMAC over timestamp.body and compare in constant time; refuse old timestamps. */
function verify(secret: string, r: Received, now = Date.now()): boolean {
  const timestamp = String(r.headers['x-deskside-timestamp'] ?? '');
  const sent = String(r.headers['x-deskside-signature'] ?? '');
  if (!/^\d+$/.test(timestamp) || Math.abs(now / 1000 - Number(timestamp)) > 300) return false;
  const expected = `sha256=${createHmac('sha256', secret).update(`${timestamp}.${r.body}`).digest('hex')}`;
  return sent.length === expected.length && timingSafeEqual(Buffer.from(sent), Buffer.from(expected));
}

const ajv = new Ajv2020({ strict: false });
addFormats(ajv);
const doc = openApiDocument() as { components: unknown };
ajv.addSchema({ $id: 'https://deskside.test/hooks.json', components: JSON.parse(JSON.stringify(doc.components).replace(/"#\/components\//g, '"https://deskside.test/hooks.json#/components/')) as unknown });
const validPayload = ajv.compile({ $ref: 'https://deskside.test/hooks.json#/components/schemas/WebhookPayload' });

const silent = createLogger('silent');

describe('webhooks', () => {
  let t: TestApp;
  let receiver: Receiver;
  /** How far ahead of the clock the deliverer thinks it is (retries come due without waiting). */
  let ahead: number;
  const turn = (holder = 'test:1:a') => deliverDue({ database: t.database, logger: silent, timeoutMs: 1500, retryMs: 3_600_000, holder, now: () => Date.now() + ahead, backoff: { firstMs: 30_000, maxMs: 600_000 } });

  /** Add an endpoint through the admin page; returns its id and the secret it shows once. */
  async function addHook(form: Record<string, string | undefined>): Promise<{ id: number; secret: string }> {
    const admin = client(t.app, 'TEST\\admin1');
    const res = await admin.post('/admin/webhooks', { name: 'Receiver', url: receiver.url, events: 'ticket.raised', format: 'json', active: 'on', linkBase: 'https://helpdesk.test', ...form }, { tokenFrom: '/admin/webhooks' });
    expect(res.status).toBe(201);
    const secret = /value="(whsec_[A-Za-z0-9_-]+)"/.exec(res.text)![1];
    const row = await t.database.db.selectFrom('webhooks').select('id').orderBy('id', 'desc').executeTakeFirstOrThrow();
    return { id: row.id, secret };
  }

  beforeEach(async () => {
    t = await makeApp();
    receiver = new Receiver();
    await receiver.start();
    ahead = 0;
  });
  afterEach(async () => {
    await receiver.stop();
    await t.close();
  });

  test('when a ticket is raised, then the receiver gets one signed JSON delivery that verifies and matches the documented payload', async () => {
    const { secret } = await addHook({});
    const raised = await api(t.app, { login: 'TEST\\alice' }).post('/tickets', { title: 'Disk full on FS01', description: 'C: at 98%.', category: 1, priority: 'urgent' });
    expect(await turn()).toEqual({ delivered: 1, retrying: 0, failed: 0, lost: 0 });
    expect(receiver.got).toHaveLength(1);
    const r = receiver.got[0];
    expect(verify(secret, r)).toBe(true);
    expect(verify('whsec_wrong', r)).toBe(false);
    // A replayed delivery with a tampered body does not verify.
    expect(verify(secret, { ...r, body: r.body.replace('Disk full', 'Disk empty') })).toBe(false);
    expect(r.headers['content-type']).toBe('application/json; charset=utf-8');
    expect(r.headers['x-deskside-event']).toBe('ticket.raised');
    const payload = JSON.parse(r.body);
    expect(validPayload(payload)).toBe(true);
    expect(payload).toMatchObject({ event: 'ticket.raised', id: r.headers['x-deskside-delivery'], actor: { login: 'TEST\\alice' }, ticket: { id: raised.body.id, title: 'Disk full on FS01', priority: 'urgent', webUrl: `https://helpdesk.test/tickets/${raised.body.id}` }, changes: [] });
    // Delivered: never again.
    expect(await turn()).toEqual({ delivered: 0, retrying: 0, failed: 0, lost: 0 });
    const page = await client(t.app, 'TEST\\admin1').get('/admin/webhooks/1');
    expect(page.text).toMatch(/delivery-delivered[\s\S]*<strong>200<\/strong> 200 OK: thanks/);
  });

  test('when the receiver answers 503, then the same bytes are tried again after the wait, and the log keeps each answer', async () => {
    await addHook({});
    receiver.answers = [503, 500];
    await api(t.app, { login: 'TEST\\alice' }).post('/tickets', { title: 'Printer', description: 'Jams.', category: 2 });
    expect(await turn()).toMatchObject({ retrying: 1 });
    const waiting = await t.database.db.selectFrom('webhook_deliveries').selectAll().executeTakeFirstOrThrow();
    expect(waiting).toMatchObject({ status: 'queued', attempts: 1, last_status: 503 });
    // Not due yet.
    expect(await turn()).toEqual({ delivered: 0, retrying: 0, failed: 0, lost: 0 });
    ahead += 40_000;
    expect(await turn()).toMatchObject({ retrying: 1 });
    ahead += 120_000;
    expect(await turn()).toMatchObject({ delivered: 1 });
    expect(receiver.got).toHaveLength(3);
    expect(new Set(receiver.got.map((g) => g.body)).size).toBe(1);
    expect(new Set(receiver.got.map((g) => g.headers['x-deskside-delivery'])).size).toBe(1);
    const done = await t.database.db.selectFrom('webhook_deliveries').selectAll().executeTakeFirstOrThrow();
    expect(done).toMatchObject({ status: 'delivered', attempts: 3, last_status: 200 });
  });

  test('when the receiver refuses (4xx) or redirects, then the delivery fails at once without following; an admin can send it again', async () => {
    const { id } = await addHook({});
    receiver.answers = [400, 302];
    await api(t.app, { login: 'TEST\\alice' }).post('/tickets', { title: 'One', description: 'd', category: 1 });
    await api(t.app, { login: 'TEST\\alice' }).post('/tickets', { title: 'Two', description: 'd', category: 1 });
    expect(await turn()).toMatchObject({ failed: 2 });
    expect(receiver.got).toHaveLength(2);
    const rows = await t.database.db.selectFrom('webhook_deliveries').select(['id', 'status', 'last_status', 'last_answer']).orderBy('id').execute();
    expect(rows.map((r) => [r.status, r.last_status])).toEqual([
      ['failed', 400],
      ['failed', 302],
    ]);
    expect(rows[1].last_answer).toContain('does not follow redirects');
    const admin = client(t.app, 'TEST\\admin1');
    expect((await admin.post(`/admin/webhooks/${id}/deliveries/${rows[0].id}/retry`, {}, { tokenFrom: `/admin/webhooks/${id}` })).status).toBe(303);
    expect(await turn()).toMatchObject({ delivered: 1 });
  });

  test('when the receiver does not answer in time, then the try counts as not delivered and waits for the next', async () => {
    await addHook({});
    receiver.answers = ['hang'];
    await api(t.app, { login: 'TEST\\alice' }).post('/tickets', { title: 'Slow', description: 'd', category: 1 });
    expect(await turn()).toMatchObject({ retrying: 1 });
    const row = await t.database.db.selectFrom('webhook_deliveries').selectAll().executeTakeFirstOrThrow();
    expect(row.last_status).toBeNull();
    expect(row.last_answer).toContain('no answer within');
  });

  test('when two processes deliver at once, then the receiver gets each delivery exactly once', async () => {
    await addHook({});
    for (let i = 0; i < 6; i++) await api(t.app, { login: 'TEST\\alice' }).post('/tickets', { title: `T${i}`, description: 'd', category: 1 });
    const [a, b] = await Promise.all([turn('host-a:1:x'), turn('host-b:2:y')]);
    expect(a.delivered + b.delivered).toBe(6);
    expect(receiver.got).toHaveLength(6);
    expect(new Set(receiver.got.map((g) => g.headers['x-deskside-delivery'])).size).toBe(6);
  });

  test('when an internal note is added, then only an endpoint marked internal hears of it', async () => {
    const open = await addHook({ name: 'Channel', events: 'ticket.commented' });
    const internal = await addHook({ name: 'Agents only', events: 'ticket.commented', internal: 'on', url: `${receiver.url}/internal` });
    const id = (await api(t.app, { login: 'TEST\\alice' }).post('/tickets', { title: 'VPN', description: 'd', category: 5 })).body.id;
    await api(t.app, { login: 'TEST\\agent1' }).post(`/tickets/${id}/comments`, { body: 'Certificate expired on gw2.', internal: true });
    await api(t.app, { login: 'TEST\\agent1' }).post(`/tickets/${id}/comments`, { body: 'Fixed, please try again.' });
    await turn();
    const byHook = (hookId: number) => receiver.got.filter((g) => String(g.headers['x-deskside-delivery']).startsWith(`w${hookId}:`)).map((g) => (JSON.parse(g.body) as { comment?: unknown }).comment);
    expect(byHook(open.id)).toEqual([{ body: 'Fixed, please try again.', internal: false }]);
    expect(byHook(internal.id)).toEqual([
      { body: 'Certificate expired on gw2.', internal: true },
      { body: 'Fixed, please try again.', internal: false },
    ]);
  });

  test('when an endpoint wants only some events and priorities, then it hears of those alone, with the changes listed', async () => {
    await addHook({ events: 'ticket.changed', priorities: 'urgent' });
    const alice = api(t.app, { login: 'TEST\\alice' });
    const low = (await alice.post('/tickets', { title: 'Low', description: 'd', category: 1, priority: 'low' })).body.id;
    const urgent = (await alice.post('/tickets', { title: 'Urgent', description: 'd', category: 1, priority: 'urgent' })).body.id;
    const agent = api(t.app, { login: 'TEST\\agent1' });
    await agent.patch(`/tickets/${low}`, { status: 'open' }, { headers: { 'If-Match': '"1"' } });
    await agent.patch(`/tickets/${urgent}`, { status: 'resolved', category: 2 }, { headers: { 'If-Match': '"1"' } });
    await turn();
    expect(receiver.got).toHaveLength(1);
    const p = JSON.parse(receiver.got[0].body);
    expect(p).toMatchObject({ event: 'ticket.changed', ticket: { id: urgent, status: 'resolved' } });
    expect(p.changes).toEqual([
      { field: 'status', from: 'new', to: 'resolved' },
      { field: 'category', from: { id: 1, name: expect.any(String) }, to: { id: 2, name: expect.any(String) } },
    ]);
    expect(validPayload(p)).toBe(true);
  });

  test('when the format is a Teams card, then people’s text is in TextRuns (never read as Markdown) and the card links to the ticket', async () => {
    await addHook({ format: 'teams' });
    await api(t.app, { login: 'TEST\\alice' }).post('/tickets', { title: '[click me](https://evil.example) **now** {{DATE(2017-02-14T06:00:00Z)}}', description: 'd', category: 1 });
    await turn();
    const card = JSON.parse(receiver.got[0].body);
    expect(card.type).toBe('message');
    const content = card.attachments[0].content;
    expect(card.attachments[0].contentType).toBe('application/vnd.microsoft.card.adaptive');
    const textBlocks = JSON.stringify(content.body.filter((b: { type: string }) => b.type === 'TextBlock'));
    expect(textBlocks).not.toContain('evil.example');
    const runs = content.body.filter((b: { type: string }) => b.type === 'RichTextBlock').flatMap((b: { inlines: { text: string }[] }) => b.inlines.map((i) => i.text));
    expect(runs).toContain('[click me](https://evil.example) **now** {{DATE(2017-02-14T06:00:00Z)}}');
    expect(content.actions[0]).toMatchObject({ type: 'Action.OpenUrl', url: expect.stringMatching(/^https:\/\/helpdesk\.test\/tickets\/\d+$/) });
  });

  test('when the ticket’s transaction rolls back, then no delivery is left behind', async () => {
    await addHook({});
    const requester = (await ensurePerson(t.database.db, 'TEST\\alice', 'test\\alice')).id;
    const listener: EventListener = {
      async eventsRecorded(trx, dialect, events, context) {
        await t.webhooks.listener.eventsRecorded(trx, dialect, events, context);
        throw new Error('something later in the same transaction failed');
      },
    };
    await expect(createTicket(t.database, requester, { title: 'Never', description: 'd', categoryId: 1, priority: 'normal' }, listener)).rejects.toThrow('failed');
    expect(await t.database.db.selectFrom('tickets').select('id').execute()).toEqual([]);
    expect(await t.database.db.selectFrom('webhook_deliveries').select('id').execute()).toEqual([]);
  });

  test('when an admin sends a test message, then the receiver gets a signed ping', async () => {
    const { id, secret } = await addHook({});
    const admin = client(t.app, 'TEST\\admin1');
    expect((await admin.post(`/admin/webhooks/${id}/test`, {}, { tokenFrom: `/admin/webhooks/${id}` })).status).toBe(303);
    await turn();
    expect(receiver.got[0].headers['x-deskside-event']).toBe('ping');
    expect(verify(secret, receiver.got[0])).toBe(true);
    expect(validPayload(JSON.parse(receiver.got[0].body))).toBe(true);
  });

  test('when the secret is renewed, then the next delivery is signed with the new one only', async () => {
    const { id, secret } = await addHook({});
    const admin = client(t.app, 'TEST\\admin1');
    const res = await admin.post(`/admin/webhooks/${id}/secret`, {}, { tokenFrom: `/admin/webhooks/${id}` });
    const renewed = /value="(whsec_[A-Za-z0-9_-]+)"/.exec(res.text)![1];
    expect(renewed).not.toBe(secret);
    await api(t.app, { login: 'TEST\\alice' }).post('/tickets', { title: 'After', description: 'd', category: 1 });
    await turn();
    expect(verify(renewed, receiver.got[0])).toBe(true);
    expect(verify(secret, receiver.got[0])).toBe(false);
  });

  test.each([
    ['a file address', 'file:///etc/passwd', 'Only http:// and https:// addresses'],
    ['an FTP address', 'ftp://files.example/in', 'Only http:// and https:// addresses'],
    ['a script', 'javascript:alert(1)', 'Only http:// and https:// addresses'],
    ['credentials in the address', 'https://user:pw@hooks.example/in', 'Leave the user name and password out'],
    ['no address', '', 'Enter the address'],
  ])('when the address is %s, then the form refuses it beside the field', async (_what, url, message) => {
    const admin = client(t.app, 'TEST\\admin1');
    const res = await admin.post('/admin/webhooks', { name: 'Bad', url, events: 'ticket.raised', format: 'json', linkBase: 'https://helpdesk.test' }, { tokenFrom: '/admin/webhooks' });
    expect(res.status).toBe(400);
    expect(res.text).toContain('href="#url"');
    expect(res.text).toContain(message);
    expect(await t.database.db.selectFrom('webhooks').select('id').execute()).toEqual([]);
  });

  test('when an endpoint is edited from a stale page, then 409 shows it as it is now; switched off, nothing more is sent', async () => {
    const { id } = await addHook({});
    const admin = client(t.app, 'TEST\\admin1');
    const form = { name: 'Renamed', url: receiver.url, events: 'ticket.raised', format: 'json', linkBase: 'https://helpdesk.test', version: '1' };
    expect((await admin.post(`/admin/webhooks/${id}`, form, { tokenFrom: `/admin/webhooks/${id}` })).status).toBe(303);
    const stale = await admin.post(`/admin/webhooks/${id}`, { ...form, name: 'Again' }, { tokenFrom: `/admin/webhooks/${id}` });
    expect(stale.status).toBe(409);
    expect(stale.text).toContain('Someone else saved this webhook');
    // The first save left "active" unticked: the endpoint is off.
    await api(t.app, { login: 'TEST\\alice' }).post('/tickets', { title: 'Unheard', description: 'd', category: 1 });
    await turn();
    expect(receiver.got).toEqual([]);
  });

  test('when people other than admins ask for the webhook pages, then they are refused', async () => {
    expect((await client(t.app, 'TEST\\agent1').get('/admin/webhooks')).status).toBe(403);
    expect((await client(t.app).get('/admin/webhooks')).status).toBe(401);
  });
});
