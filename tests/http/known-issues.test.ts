import request from 'supertest';
import { client, makeApp, type TestApp } from '../support/app';

const AGENT = 'TEST\\agent1';
const ALICE = 'TEST\\alice';
const BOB = 'TEST\\bob';

async function count(t: TestApp, table: 'tickets' | 'ticket_events' | 'known_issues' | 'known_issue_events' | 'known_issue_tickets'): Promise<number> {
  const r = await t.database.db.selectFrom(table).select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirst();
  return Number(r!.n);
}

async function publish(t: TestApp, form: Record<string, string> = {}, who = client(t.app, AGENT)): Promise<number> {
  const res = await who.post('/known-issues', { title: 'E-mail is down in Building B', summary: 'Outlook shows “Disconnected”. Use webmail meanwhile.', status: 'investigating', category: '4', ...form }, { tokenFrom: '/known-issues/new' });
  expect(res.status).toBe(303);
  return Number(/^\/known-issues\/(\d+)$/.exec(res.headers.location)![1]);
}

async function raise(t: TestApp, who: string, title: string): Promise<number> {
  const res = await client(t.app, who).post('/tickets', { title, description: 'My password is Winter2026', category: '1', priority: 'normal' });
  return Number(/^\/tickets\/(\d+)$/.exec(res.headers.location)![1]);
}

describe('known issues', () => {
  let t: TestApp;
  beforeEach(async () => {
    t = await makeApp();
  });
  afterEach(() => t.close());

  test('when an agent publishes one, then guests, requesters and the new-ticket form all see it, and it is an event', async () => {
    const agent = client(t.app, AGENT);
    const id = await publish(t, {}, agent);
    const page = await agent.get(`/known-issues/${id}`);
    expect(page.text).toContain('Published. Everyone who can browse Deskside sees it now.');
    expect(page.text).toContain('published this known issue');
    for (const res of [await request(t.app).get('/'), await request(t.app).get('/known-issues'), await client(t.app, ALICE).get('/'), await client(t.app, ALICE).get('/tickets/new')]) {
      expect(res.status).toBe(200);
      expect(res.text).toContain('E-mail is down in Building B');
    }
    const guestPage = await request(t.app).get(`/known-issues/${id}`);
    expect(guestPage.status).toBe(200);
    expect(guestPage.text).toContain('Use webmail meanwhile');
    expect(guestPage.text).not.toContain('Publish an update');
    expect(guestPage.text).toContain(`returnTo=${encodeURIComponent(`/known-issues/${id}`)}`);
    expect(await count(t, 'known_issue_events')).toBe(1);
  });

  test('when guests may not browse, then known issues ask them to sign in and the home page lists none', async () => {
    const closed = await makeApp({ env: { DESKSIDE_ANONYMOUS: 'none' } });
    try {
      const id = await publish(closed);
      expect((await request(closed.app).get('/known-issues')).status).toBe(401);
      expect((await request(closed.app).get(`/known-issues/${id}`)).status).toBe(401);
      const home = await request(closed.app).get('/');
      expect(home.status).toBe(200);
      expect(home.text).not.toContain('E-mail is down');
      expect((await request(closed.app).get('/help')).status).toBe(200);
      expect((await client(closed.app, ALICE).get(`/known-issues/${id}`)).status).toBe(200);
    } finally {
      await closed.close();
    }
  });

  test.each([
    ['no title', { title: '' }, 'title', 'Enter a short public title'],
    ['an overlong title', { title: 'x'.repeat(121) }, 'title', '120 characters or fewer'],
    ['no summary', { summary: '  ' }, 'summary', 'Say what people will notice'],
    ['an unknown status', { status: 'on-fire' }, 'status', 'Choose one of the listed statuses'],
    ['an unknown category', { category: '999' }, 'category', 'Choose one of the listed categories'],
  ])('when the publish form has %s, then it comes back with the input and the field message, and nothing is saved', async (_what, change, field, message) => {
    const res = await client(t.app, AGENT).post('/known-issues', { title: 'Keep <this>', summary: 'Summary I typed', status: 'identified', category: '', ...change }, { tokenFrom: '/known-issues/new' });
    expect(res.status).toBe(400);
    expect(res.text).toContain(`href="#${field}"`);
    expect(res.text).toContain(message);
    if (field !== 'summary') expect(res.text).toContain('Summary I typed');
    if (field !== 'title') expect(res.text).toContain('value="Keep &lt;this&gt;"');
    expect(await count(t, 'known_issues')).toBe(0);
  });

  test('when a requester or a guest tries to publish, update or link, then they are refused and nothing changes', async () => {
    const id = await publish(t);
    const alice = client(t.app, ALICE);
    expect((await alice.get('/known-issues/new')).status).toBe(403);
    expect((await request(t.app).get('/known-issues/new')).status).toBe(401);
    for (const [url, form] of [
      ['/known-issues', { title: 'Fake outage', summary: 'x', status: 'investigating' }],
      [`/known-issues/${id}`, { version: '1', title: 'Hacked', summary: 'x', status: 'resolved' }],
      [`/known-issues/${id}/updates`, { body: 'All fine, ignore IT' }],
      [`/known-issues/${id}/tickets`, { ticket: '1' }],
    ] as const) {
      expect({ url, status: (await alice.post(url, form)).status }).toEqual({ url, status: 403 });
      // A guest has no form to take a token from: the CSRF wall answers first.
      expect({ url, status: (await request(t.app).post(url).type('form').send(form)).status }).toEqual({ url, status: 403 });
    }
    expect(await count(t, 'known_issues')).toBe(1);
    expect(await count(t, 'known_issue_events')).toBe(1);
    expect((await alice.get(`/known-issues/${id}`)).text).not.toContain('Hacked');
  });

  test('when a post has no form token, then it is refused before anything is written', async () => {
    const id = await publish(t);
    const agent = client(t.app, AGENT);
    for (const url of ['/known-issues', `/known-issues/${id}`, `/known-issues/${id}/updates`, `/known-issues/${id}/tickets`, `/known-issues/${id}/me-too`]) {
      const res = await agent.agent.post(url).set('X-Remote-User', AGENT).type('form').send({ title: 'x', summary: 'y', status: 'resolved', version: '1', body: 'z', ticket: '1' });
      expect({ url, status: res.status }).toEqual({ url, status: 403 });
    }
    expect(await count(t, 'known_issue_events')).toBe(1);
    expect(await count(t, 'tickets')).toBe(0);
  });

  test('when tickets are linked and an update is published, then each requester reads it on their own ticket, and nobody else learns which tickets are linked', async () => {
    const id = await publish(t);
    const alices = await raise(t, ALICE, 'Outlook says disconnected');
    const bobs = await raise(t, BOB, 'No e-mail since nine');
    const agent = client(t.app, AGENT);
    for (const ticket of [String(alices), `#${bobs}`]) expect((await agent.post(`/known-issues/${id}/tickets`, { ticket }, { tokenFrom: `/known-issues/${id}` })).status).toBe(303);
    const update = await agent.post(`/known-issues/${id}/updates`, { body: 'The switch in Building B is being replaced; next update at 14:00.' }, { tokenFrom: `/known-issues/${id}` });
    expect(update.status).toBe(303);
    const alicePage = await client(t.app, ALICE).get(`/tickets/${alices}`);
    expect(alicePage.text).toContain('This ticket is linked to the known issue');
    expect(alicePage.text).toContain('next update at 14:00');
    expect((await client(t.app, BOB).get(`/tickets/${bobs}`)).text).toContain('next update at 14:00');
    // The known issue's page: agents see the linked tickets; requesters and guests never.
    expect((await agent.get(`/known-issues/${id}`)).text).toContain('Outlook says disconnected');
    for (const page of [await client(t.app, ALICE).get(`/known-issues/${id}`), await request(t.app).get(`/known-issues/${id}`)]) {
      expect(page.text).toContain('next update at 14:00');
      expect(page.text).not.toContain('No e-mail since nine');
      expect(page.text).not.toContain(`/tickets/${bobs}`);
      expect(page.text).not.toContain('Winter2026');
    }
    // Alice's own link is shown to her alone.
    expect((await client(t.app, ALICE).get(`/known-issues/${id}`)).text).toContain(`Your ticket <a href="/tickets/${alices}">#${alices}</a> is linked`);
  });

  test.each([
    ['a word', 'abc', 'Enter the ticket number'],
    ['an unknown ticket', '99999', 'There is no ticket #99999'],
  ])('when an agent links %s, then the page comes back with the field message', async (_what, ticket, message) => {
    const id = await publish(t);
    const res = await client(t.app, AGENT).post(`/known-issues/${id}/tickets`, { ticket }, { tokenFrom: `/known-issues/${id}` });
    expect(res.status).toBe(400);
    expect(res.text).toContain('href="#ticket"');
    expect(res.text).toContain(message);
    expect(await count(t, 'known_issue_tickets')).toBe(0);
  });

  test('when the same ticket is linked twice, then the second is refused and there is one link and one event', async () => {
    const id = await publish(t);
    const ticket = await raise(t, ALICE, 'Printer offline');
    const agent = client(t.app, AGENT);
    expect((await agent.post(`/known-issues/${id}/tickets`, { ticket: String(ticket) }, { tokenFrom: `/known-issues/${id}` })).status).toBe(303);
    const again = await agent.post(`/known-issues/${id}/tickets`, { ticket: String(ticket) }, { tokenFrom: `/known-issues/${id}` });
    expect(again.status).toBe(400);
    expect(again.text).toContain('already linked');
    expect(await count(t, 'known_issue_tickets')).toBe(1);
    const linkedEvents = await t.database.db.selectFrom('ticket_events').select('kind').where('ticket_id', '=', ticket).where('kind', '=', 'issue-linked').execute();
    expect(linkedEvents).toHaveLength(1);
  });

  test('when a requester says "this is my problem too", then one ticket is raised for them, linked, and a second click lands on it', async () => {
    const id = await publish(t);
    const alice = client(t.app, ALICE);
    const first = await alice.post(`/known-issues/${id}/me-too`, {}, { tokenFrom: '/tickets/new' });
    expect(first.status).toBe(303);
    const ticketUrl = first.headers.location;
    const page = await alice.get(ticketUrl);
    expect(page.text).toContain('Affected by: E-mail is down in Building B');
    expect(page.text).toContain('linked to the known issue');
    expect(page.text).toContain('Your ticket has been raised and linked to the known issue');
    const second = await alice.post(`/known-issues/${id}/me-too`, {}, { tokenFrom: `/known-issues/${id}` });
    expect(second.headers.location).toBe(ticketUrl);
    expect(await count(t, 'tickets')).toBe(1);
    const row = await t.database.db.selectFrom('tickets').selectAll().executeTakeFirstOrThrow();
    expect(row).toMatchObject({ requester_id: expect.any(Number), category_id: 4, status: 'new' });
  });

  test('when an agent resolves it with its tickets, then each open linked ticket is resolved with its own event, in one go', async () => {
    const id = await publish(t);
    const a = await raise(t, ALICE, 'Outlook offline');
    const b = await raise(t, BOB, 'Mail stuck');
    const agent = client(t.app, AGENT);
    for (const ticket of [a, b]) await agent.post(`/known-issues/${id}/tickets`, { ticket: String(ticket) }, { tokenFrom: `/known-issues/${id}` });
    await client(t.app, BOB).post(`/tickets/${b}`, { action: 'close' }, { tokenFrom: `/tickets/${b}` });
    const res = await agent.post(`/known-issues/${id}`, { version: '1', title: 'E-mail is down in Building B', summary: 'Fixed: the switch was replaced.', status: 'resolved', category: '4', resolveTickets: 'on' }, { tokenFrom: `/known-issues/${id}` });
    expect(res.status).toBe(303);
    const statuses = await t.database.db.selectFrom('tickets').select(['id', 'status']).orderBy('id').execute();
    expect(statuses).toEqual([
      { id: a, status: 'resolved' },
      { id: b, status: 'closed' },
    ]);
    const resolvedEvents = await t.database.db.selectFrom('ticket_events').select('ticket_id').where('kind', '=', 'status').where('to_value', '=', 'resolved').execute();
    expect(resolvedEvents).toEqual([{ ticket_id: a }]);
    // Resolved issues leave the home page and the new-ticket form, and take no more "me too".
    expect((await request(t.app).get('/')).text).not.toContain('E-mail is down');
    const late = await client(t.app, 'TEST\\carol').post(`/known-issues/${id}/me-too`, {}, { tokenFrom: `/known-issues/${id}` });
    expect(late.status).toBe(409);
    expect(await count(t, 'tickets')).toBe(2);
  });

  test('when two agents change it from the same version, then the second gets 409 with what it is now, and nothing is overwritten', async () => {
    const id = await publish(t);
    const form = { version: '1', title: 'E-mail is down in Building B', summary: 'Outlook shows “Disconnected”. Use webmail meanwhile.', category: '4' };
    const first = await client(t.app, AGENT).post(`/known-issues/${id}`, { ...form, status: 'identified' }, { tokenFrom: `/known-issues/${id}` });
    expect(first.status).toBe(303);
    const second = await client(t.app, 'TEST\\agent2').post(`/known-issues/${id}`, { ...form, status: 'monitoring' }, { tokenFrom: `/known-issues/${id}` });
    expect(second.status).toBe(409);
    expect(second.text).toContain('Someone else changed this known issue first');
    expect(second.text).toContain('Cause identified');
    const row = await t.database.db.selectFrom('known_issues').select(['status', 'version']).executeTakeFirstOrThrow();
    expect(row).toEqual({ status: 'identified', version: 2 });
  });

  test('when the status form has no version, a bad status or an unknown id, then 400 or 404 and nothing changes', async () => {
    const id = await publish(t);
    const agent = client(t.app, AGENT);
    expect((await agent.post(`/known-issues/${id}`, { title: 'x', summary: 'y', status: 'resolved' }, { tokenFrom: `/known-issues/${id}` })).status).toBe(400);
    const bad = await agent.post(`/known-issues/${id}`, { version: '1', title: 'x', summary: 'y', status: 'gone' }, { tokenFrom: `/known-issues/${id}` });
    expect(bad.status).toBe(400);
    expect(bad.text).toContain('Choose one of the listed statuses');
    for (const url of ['/known-issues/999', '/known-issues/abc', '/known-issues/999/updates']) {
      expect({ url, get: (await agent.get(url)).status }).toEqual({ url, get: 404 });
    }
    expect((await agent.post('/known-issues/999/updates', { body: 'x' }, { tokenFrom: `/known-issues/${id}` })).status).toBe(404);
    const empty = await agent.post(`/known-issues/${id}/updates`, { body: '   ' }, { tokenFrom: `/known-issues/${id}` });
    expect(empty.status).toBe(400);
    expect(empty.text).toContain('Write the update before publishing it');
    expect(await count(t, 'known_issue_events')).toBe(1);
  });

  test('when text contains markup, then it is shown as text on every page that shows it', async () => {
    await publish(t, { title: '<script>alert(1)</script> VPN', summary: '<img src=x onerror=alert(1)>' });
    for (const url of ['/', '/known-issues', '/known-issues/1']) {
      const res = await request(t.app).get(url);
      expect(res.text).not.toContain('<script>alert(1)');
      expect(res.text).not.toContain('<img src=x');
      expect(res.text).toContain('&lt;script&gt;alert(1)&lt;/script&gt; VPN');
    }
  });
});
