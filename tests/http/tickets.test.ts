import request from 'supertest';
import { client, listedTicketIds, makeApp, type TestApp } from '../support/app';

async function count(t: TestApp, table: 'tickets' | 'ticket_events'): Promise<number> {
  const r = await t.database.db.selectFrom(table).select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirst();
  return Number(r!.n);
}

async function raise(t: TestApp, login: string | ReturnType<typeof client>, form: Partial<Record<'title' | 'description' | 'category' | 'priority', string>> = {}): Promise<number> {
  const who = typeof login === 'string' ? client(t.app, login) : login;
  const res = await who.post('/tickets', { title: 'VPN drops every ten minutes', description: 'Since Monday.', category: '5', priority: 'normal', ...form });
  expect(res.status).toBe(303);
  const m = /^\/tickets\/(\d+)$/.exec(res.headers.location);
  expect(m).not.toBeNull();
  return Number(m![1]);
}

async function versionOf(t: TestApp, id: number): Promise<number> {
  return (await t.database.db.selectFrom('tickets').select('version').where('id', '=', id).executeTakeFirstOrThrow()).version;
}

describe('raising a ticket', () => {
  let t: TestApp;
  beforeEach(async () => {
    t = await makeApp();
  });
  afterEach(() => t.close());

  test('when a requester fills in the form, then the ticket exists with a "created" event and they land on it', async () => {
    const alice = client(t.app, 'TEST\\alice');
    const form = await alice.get('/tickets/new');
    expect(form.status).toBe(200);
    expect(form.text).toContain('Raise a new ticket');
    const id = await raise(t, alice, { title: '  Outlook   asks for my password  ', priority: 'high' });
    const page = await alice.get(`/tickets/${id}`);
    expect(page.status).toBe(200);
    expect(page.text).toContain('Outlook asks for my password');
    expect(page.text).toContain('Your ticket has been raised');
    // Said once: a reload does not say it again.
    expect((await alice.get(`/tickets/${id}`)).text).not.toContain('Your ticket has been raised');
    expect(page.text).toContain('priority-high');
    expect(page.text).toContain('raised this ticket');
    const row = await t.database.db.selectFrom('tickets').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
    expect(row).toMatchObject({ status: 'new', active: 1, priority: 3, category_id: 5, assignee_id: null, version: 1 });
    expect(await count(t, 'ticket_events')).toBe(1);
  });

  test.each([
    ['an empty title', { title: '   ' }, 'title', 'Enter a short summary'],
    ['an overlong title', { title: 'x'.repeat(201) }, 'title', '200 characters or fewer'],
    ['an empty description', { description: '' }, 'description', 'Describe the problem'],
    ['an overlong description', { description: 'y'.repeat(20_001) }, 'description', '20,000 characters or fewer'],
    ['no category', { category: '' }, 'category', 'Choose the category'],
    ['an unknown category', { category: '9999' }, 'category', 'Choose one of the listed categories'],
    ['a non-numeric category', { category: "1' OR '1'='1" }, 'category', 'Choose one of the listed categories'],
    ['an unknown priority', { priority: 'apocalyptic' }, 'priority', 'Choose low, normal, high or urgent'],
  ])('when the form has %s, then it comes back with the input, a summary and the field message, and nothing is saved', async (_what, change, field, message) => {
    const alice = client(t.app, 'TEST\\alice');
    const input = { title: 'Keep <this> & "that"', description: 'Details I typed', category: '2', priority: 'low', ...change };
    const res = await alice.post('/tickets', input);
    expect(res.status).toBe(400);
    expect(res.text).toContain('There is a problem');
    expect(res.text).toContain(`href="#${field}"`);
    expect(res.text).toContain(message);
    if (field !== 'title') expect(res.text).toContain('value="Keep &lt;this&gt; &amp; &#34;that&#34;"');
    if (field !== 'description') expect(res.text).toContain('Details I typed');
    expect(await count(t, 'tickets')).toBe(0);
    expect(await count(t, 'ticket_events')).toBe(0);
  });

  test('when a guest posts a ticket anyway, then it is refused and nothing is saved', async () => {
    // Guest pages carry no form to copy a token from, so the CSRF wall answers first.
    const guest = client(t.app);
    const res = await guest.post('/tickets', { title: 'x', description: 'y', category: '1', priority: 'low' }, { token: 'guessed' });
    expect(res.status).toBe(403);
    expect(await count(t, 'tickets')).toBe(0);
  });
});

describe('who sees which tickets', () => {
  let t: TestApp;
  let alices: number;
  let bobs: number;
  beforeAll(async () => {
    t = await makeApp();
    alices = await raise(t, 'TEST\\alice', { title: 'Alice laptop broken' });
    bobs = await raise(t, 'TEST\\bob', { title: 'Bob salary question' });
    await client(t.app, 'TEST\\agent1').post(`/tickets/${bobs}/comments`, { body: 'Checked with payroll: wrong tax code', internal: 'on' });
    await client(t.app, 'TEST\\agent1').post(`/tickets/${bobs}/comments`, { body: 'We are looking into it' });
  });
  afterAll(() => t.close());

  test('when two requesters look, then neither can see the other\'s ticket by id or by any filter', async () => {
    const alice = client(t.app, 'TEST\\alice');
    expect((await alice.get(`/tickets/${bobs}`)).status).toBe(403);
    for (const url of ['/tickets', '/tickets?status=all', '/tickets?requester=TEST%5Cbob', '/tickets?q=salary', '/tickets?assignee=none']) {
      const list = await alice.get(url);
      expect({ url, status: list.status }).toEqual({ url, status: 200 });
      expect(list.text).not.toContain('Bob salary question');
    }
    const mine = await alice.get('/tickets?requester=me');
    expect(mine.text).toContain('Alice laptop broken');
    expect((await client(t.app, 'TEST\\bob').get(`/tickets/${alices}`)).status).toBe(403);
  });

  test('when a requester replies, they can only do so on their own ticket', async () => {
    const res = await client(t.app, 'TEST\\alice').post(`/tickets/${bobs}/comments`, { body: 'Sneaky' });
    expect(res.status).toBe(403);
    const events = await t.database.db.selectFrom('ticket_events').select('body').where('ticket_id', '=', bobs).execute();
    expect(events.map((e) => e.body)).not.toContain('Sneaky');
  });

  test('when the requester reads their ticket, then internal notes are hidden but replies are shown', async () => {
    const page = await client(t.app, 'TEST\\bob').get(`/tickets/${bobs}`);
    expect(page.text).toContain('We are looking into it');
    expect(page.text).not.toContain('wrong tax code');
    expect(page.text).not.toContain('Update ticket');
  });

  /** Anything of Bob's ticket a page could show: title, description, replies, notes, requester. */
  const bobsSecrets = ['Bob salary question', 'Since Monday', 'We are looking into it', 'wrong tax code', 'TEST\\bob'];

  test.each(['browse', 'none'])('when a guest (DESKSIDE_ANONYMOUS=%s) asks for a ticket, a list or a search, then it is the sign-in dance and nothing of any ticket', async (mode) => {
    const app = mode === 'browse' ? t : await makeApp({ env: { DESKSIDE_ANONYMOUS: 'none' } });
    try {
      const id = mode === 'browse' ? bobs : await raise(app, 'TEST\\bob', { title: 'Bob salary question' });
      for (const url of [`/tickets/${id}`, '/tickets', '/tickets?q=salary', '/tickets?status=all', `/tickets/${id + 1000}`, '/tickets?assignee=TEST%5Cagent1']) {
        const html = await request(app.app).get(url).set('Accept', 'text/html');
        expect({ url, status: html.status }).toEqual({ url, status: 401 });
        expect(html.headers['www-authenticate']).toBeDefined();
        for (const secret of bobsSecrets) expect({ url, leaks: html.text.includes(secret) }).toEqual({ url, leaks: false });
        const json = await request(app.app).get(url).set('Accept', 'application/json');
        expect({ url, status: json.status }).toEqual({ url, status: 401 });
        for (const secret of bobsSecrets) expect(json.text).not.toContain(secret);
      }
      // The owner who was merely not signed in comes back to their ticket after the dance.
      const page = await request(app.app).get(`/tickets/${id}`).set('Accept', 'text/html');
      expect(page.text).toContain(`returnTo=${encodeURIComponent(`/tickets/${id}`)}`);
      const home = await request(app.app).get('/');
      expect(home.status).toBe(200);
      for (const secret of bobsSecrets) expect(home.text).not.toContain(secret);
    } finally {
      if (app !== t) await app.close();
    }
  });

  test('when an agent or admin reads the ticket, then they see notes, contact details and the update form', async () => {
    for (const who of ['TEST\\agent2', 'TEST\\admin1']) {
      const page = await client(t.app, who).get(`/tickets/${bobs}`);
      expect(page.text).toContain('wrong tax code');
      expect(page.text).toContain('Internal note');
      expect(page.text).toContain('TEST\\bob');
      expect(page.text).toContain('Update ticket');
      expect(page.text).toContain('Assign to me');
    }
  });

  test('when a requester tries to post an internal note, then it is refused', async () => {
    const res = await client(t.app, 'TEST\\bob').post(`/tickets/${bobs}/comments`, { body: 'note?', internal: 'on' });
    expect(res.status).toBe(403);
  });

  test.each([['abc'], ['0x10'], ['-1'], ['99999999999'], ['1.5']])('when the id is %s, then the answer is a 404 page', async (id) => {
    const res = await client(t.app, 'TEST\\agent1').get(`/tickets/${id}`);
    expect(res.status).toBe(404);
    expect(res.text).toContain('Page not found');
  });

  test('when the id is unknown, then posting to it is a 404 and nothing is written', async () => {
    const before = await count(t, 'ticket_events');
    const res = await client(t.app, 'TEST\\agent1').post('/tickets/424242/comments', { body: 'hello' });
    expect(res.status).toBe(404);
    expect(await count(t, 'ticket_events')).toBe(before);
  });
});

describe('working the queue', () => {
  let t: TestApp;
  beforeEach(async () => {
    t = await makeApp();
  });
  afterEach(() => t.close());

  test('when an agent assigns to themself, then the ticket opens, is assigned, and both events are in the timeline', async () => {
    const id = await raise(t, 'TEST\\alice');
    const agent = client(t.app, 'TEST\\agent1');
    await agent.get('/'); // the agent is recognised once, which puts them in the assignee list
    const agentId = (await t.database.db.selectFrom('people').select(['id', 'is_agent']).where('login_key', '=', 'test\\agent1').executeTakeFirstOrThrow());
    expect(agentId.is_agent).toBe(1);
    const res = await agent.post(`/tickets/${id}`, { version: '1', assignee: String(agentId.id) }, { tokenFrom: `/tickets/${id}` });
    expect(res.status).toBe(303);
    const page = await agent.get(`/tickets/${id}`);
    expect(page.text).toMatch(/assigned it to <strong>TEST\\agent1<\/strong>/);
    expect(page.text).toMatch(/changed the status from <span class="badge status-new">new<\/span> to <span class="badge status-open">open<\/span>/);
    const row = await t.database.db.selectFrom('tickets').select(['status', 'assignee_id', 'version']).where('id', '=', id).executeTakeFirstOrThrow();
    expect(row).toEqual({ status: 'open', assignee_id: agentId.id, version: 2 });
    expect(await count(t, 'ticket_events')).toBe(3);
  });

  test('when an agent changes status, priority and category, then each change is an event and the version moves once', async () => {
    const id = await raise(t, 'TEST\\alice');
    const agent = client(t.app, 'TEST\\agent1');
    const res = await agent.post(`/tickets/${id}`, { version: '1', status: 'pending', priority: 'urgent', category: '3' });
    expect(res.status).toBe(303);
    expect(res.headers.location).toBe(`/tickets/${id}`);
    const events = await t.database.db.selectFrom('ticket_events').select(['kind', 'from_value', 'to_value', 'ticket_version']).where('ticket_id', '=', id).orderBy('id').execute();
    expect(events).toEqual([
      { kind: 'created', from_value: null, to_value: null, ticket_version: 1 },
      { kind: 'status', from_value: 'new', to_value: 'pending', ticket_version: 2 },
      { kind: 'priority', from_value: 'normal', to_value: 'urgent', ticket_version: 2 },
      { kind: 'category', from_value: '5', to_value: '3', ticket_version: 2 },
    ]);
    const page = await client(t.app, 'TEST\\alice').get(`/tickets/${id}`);
    expect(page.text).toContain('moved it from <strong>Network &amp; VPN</strong> to <strong>Accounts &amp; access</strong>');
  });

  test('when two agents edit the same version, then the second gets 409 with what changed, nothing is overwritten, and re-applying works', async () => {
    const id = await raise(t, 'TEST\\alice');
    const first = client(t.app, 'TEST\\agent1');
    const second = client(t.app, 'TEST\\agent2');
    // Both open the ticket at version 1.
    const t1 = await first.token(`/tickets/${id}`);
    const t2 = await second.token(`/tickets/${id}`);
    expect((await first.post(`/tickets/${id}`, { version: '1', status: 'pending', priority: 'high' }, { token: t1 })).status).toBe(303);
    const conflict = await second.post(`/tickets/${id}`, { version: '1', status: 'resolved', priority: 'low' }, { token: t2 });
    expect(conflict.status).toBe(409);
    expect(conflict.text).toContain('Someone else changed this ticket first');
    expect(conflict.text).toContain('TEST\\agent1');
    expect(conflict.text).toMatch(/changed the status from <span class="badge status-new">new<\/span> to <span class="badge status-pending">pending<\/span>/);
    expect(conflict.text).toContain('name="version" value="2"');
    expect(conflict.text).toContain('Apply my changes anyway');
    let row = await t.database.db.selectFrom('tickets').select(['status', 'priority', 'version']).where('id', '=', id).executeTakeFirstOrThrow();
    expect(row).toEqual({ status: 'pending', priority: 3, version: 2 });
    // Re-apply from the conflict page: its form carries the current version.
    const reapply = await second.post(`/tickets/${id}`, { version: '2', status: 'resolved', priority: 'low' }, { tokenFrom: `/tickets/${id}` });
    expect(reapply.status).toBe(303);
    row = await t.database.db.selectFrom('tickets').select(['status', 'priority', 'version']).where('id', '=', id).executeTakeFirstOrThrow();
    expect(row).toEqual({ status: 'resolved', priority: 1, version: 3 });
  });

  test.each([
    ['an unknown status', { status: 'exploded' }, 'Choose one of the listed statuses'],
    ['an unknown priority', { priority: 'meh' }, 'Choose low, normal, high or urgent'],
    ['an unknown category', { category: '777' }, 'Choose one of the listed categories'],
    ['a person who is not an agent', { assignee: '1' }, 'Choose one of the listed agents'],
    ['a missing version', { version: '' }, 'missing the ticket version'],
  ])('when the edit has %s, then the ticket page returns 400 with the message and nothing changes', async (_what, change, message) => {
    const id = await raise(t, 'TEST\\alice');
    const res = await client(t.app, 'TEST\\agent1').post(`/tickets/${id}`, { version: '1', status: 'open', ...change });
    expect(res.status).toBe(400);
    expect(res.text).toContain(message);
    expect(await versionOf(t, id)).toBe(1);
    expect(await count(t, 'ticket_events')).toBe(1);
  });

  test('when a requester tries to change fields, then it is refused with 403', async () => {
    const id = await raise(t, 'TEST\\alice');
    const res = await client(t.app, 'TEST\\alice').post(`/tickets/${id}`, { version: '1', priority: 'urgent' });
    expect(res.status).toBe(403);
    expect(await versionOf(t, id)).toBe(1);
  });

  test('when the requester closes and reopens their ticket, then both are events and others may not', async () => {
    const id = await raise(t, 'TEST\\alice');
    const alice = client(t.app, 'TEST\\alice');
    expect((await client(t.app, 'TEST\\bob').post(`/tickets/${id}`, { action: 'close' })).status).toBe(403);
    const page = await alice.get(`/tickets/${id}`);
    expect(page.text).toContain('Close ticket');
    expect((await alice.post(`/tickets/${id}`, { action: 'close' })).status).toBe(303);
    const closed = await alice.get(`/tickets/${id}`);
    expect(closed.text).toContain('status-closed');
    expect(closed.text).toContain('Reopen ticket');
    expect((await alice.post(`/tickets/${id}`, { action: 'reopen' })).status).toBe(303);
    const kinds = await t.database.db.selectFrom('ticket_events').select(['kind', 'to_value']).where('ticket_id', '=', id).orderBy('id').execute();
    expect(kinds.map((k) => `${k.kind}:${k.to_value}`)).toEqual(['created:null', 'status:closed', 'status:open']);
  });

  test('when a requester replies to a pending ticket, then it goes back to open', async () => {
    const id = await raise(t, 'TEST\\alice');
    await client(t.app, 'TEST\\agent1').post(`/tickets/${id}`, { version: '1', status: 'pending' });
    const res = await client(t.app, 'TEST\\alice').post(`/tickets/${id}/comments`, { body: 'Here is the screenshot' });
    expect(res.status).toBe(303);
    expect(res.headers.location).toBe(`/tickets/${id}#latest`);
    const row = await t.database.db.selectFrom('tickets').select(['status']).where('id', '=', id).executeTakeFirstOrThrow();
    expect(row.status).toBe('open');
  });

  test('when a reply is empty or too long, then the form returns with the text and a message, and nothing is saved', async () => {
    const id = await raise(t, 'TEST\\alice');
    const alice = client(t.app, 'TEST\\alice');
    const empty = await alice.post(`/tickets/${id}/comments`, { body: '  \r\n ' });
    expect(empty.status).toBe(400);
    expect(empty.text).toContain('Write your reply before sending it');
    const long = 'z'.repeat(20_001);
    const tooLong = await alice.post(`/tickets/${id}/comments`, { body: long });
    expect(tooLong.status).toBe(400);
    expect(tooLong.text).toContain(long);
    expect(await count(t, 'ticket_events')).toBe(1);
  });

  test('when text contains markup, then it is shown as text, never as HTML', async () => {
    const id = await raise(t, 'TEST\\alice', { title: '<script>alert(1)</script>', description: '<img src=x onerror=alert(2)>' });
    const page = await client(t.app, 'TEST\\agent1').get(`/tickets/${id}`);
    expect(page.text).not.toContain('<script>alert(1)</script>');
    expect(page.text).not.toContain('<img src=x');
    expect(page.text).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
  });
});

describe('the ticket list', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await makeApp();
    const agent = client(t.app, 'TEST\\agent1');
    await agent.get('/');
    for (let i = 1; i <= 30; i++) {
      await raise(t, i % 2 ? 'TEST\\alice' : 'TEST\\bob', { title: `${i % 3 ? 'Printer' : 'Monitor'} problem number ${i}`, priority: i % 5 === 0 ? 'urgent' : 'normal', category: i % 2 ? '6' : '1' });
    }
    const agentId = (await t.database.db.selectFrom('people').select('id').where('login_key', '=', 'test\\agent1').executeTakeFirstOrThrow()).id;
    for (const id of [1, 2, 3]) await agent.post(`/tickets/${id}`, { version: '1', assignee: String(agentId) });
    await agent.post('/tickets/4', { version: '1', status: 'closed' });
  });
  afterAll(() => t.close());

  const titles = listedTicketIds;

  test('when an agent opens the queue, then open tickets show, 25 a page, most recently updated first, with an exact count', async () => {
    const agent = client(t.app, 'TEST\\agent1');
    const page1 = await agent.get('/tickets');
    expect(page1.status).toBe(200);
    expect(page1.text).toContain('of 29 tickets');
    const ids1 = titles(page1.text);
    expect(ids1).toHaveLength(25);
    expect(ids1.slice(0, 3)).toEqual([3, 2, 1]); // the assignments updated them last
    const page2 = await agent.get('/tickets?page=2');
    const ids2 = titles(page2.text);
    expect(ids2).toHaveLength(4);
    // Pages neither skip nor repeat a ticket.
    expect(new Set([...ids1, ...ids2]).size).toBe(29);
    expect([...ids1, ...ids2]).not.toContain(4);
  });

  test('when filters are combined, then only matching tickets are listed', async () => {
    const agent = client(t.app, 'TEST\\agent1');
    const mine = titles((await agent.get('/tickets?assignee=me')).text);
    expect(mine.sort()).toEqual([1, 2, 3]);
    const byLogin = titles((await agent.get('/tickets?assignee=TEST%5Cagent1&category=6')).text);
    expect(byLogin.sort()).toEqual([1, 3]);
    const urgent = titles((await agent.get('/tickets?priority=urgent&status=all')).text);
    expect(urgent.sort((a, b) => a - b)).toEqual([5, 10, 15, 20, 25, 30]);
    const done = titles((await agent.get('/tickets?status=closed')).text);
    expect(done).toEqual([4]);
    const unassigned = await agent.get('/tickets?assignee=none&requester=TEST%5Calice');
    expect(titles(unassigned.text).every((id) => id % 2 === 1 && id > 3)).toBe(true);
    const sorted = titles((await agent.get('/tickets?sort=oldest')).text);
    expect(sorted[0]).toBe(1);
    const urgentFirst = titles((await agent.get('/tickets?sort=-priority')).text);
    expect(urgentFirst.slice(0, 6).sort((a, b) => a - b)).toEqual([5, 10, 15, 20, 25, 30]);
  });

  test('when an agent searches words, then titles and descriptions match, by prefix for the last word', async () => {
    const agent = client(t.app, 'TEST\\agent1');
    const monitors = titles((await agent.get('/tickets?q=monitor&status=all')).text);
    expect(monitors.sort((a, b) => a - b)).toEqual([3, 6, 9, 12, 15, 18, 21, 24, 27, 30]);
    const prefix = titles((await agent.get('/tickets?q=Moni&status=all')).text);
    expect(prefix).toHaveLength(10);
    const both = titles((await agent.get('/tickets?q=problem+number+12&status=all')).text);
    expect(both).toEqual([12]);
    const odd = await agent.get('/tickets?q=%22%29%28*+OR&status=all');
    expect(odd.status).toBe(200);
  });

  test('when a requester lists "my tickets", then only theirs appear', async () => {
    const alice = client(t.app, 'TEST\\alice');
    const mine = titles((await alice.get('/tickets?requester=me&status=all')).text);
    expect(mine.length).toBe(15);
    expect(mine.every((id) => id % 2 === 1)).toBe(true);
  });

  test.each([
    ['status=bogus', 'status must be one of'],
    ['priority=high&priority=low', 'was given more than once'],
    ['category=abc', 'category must be a category number'],
    ['sort=random', 'sort must be one of'],
    ['page=0', 'page must be a whole number'],
    ['page=-3', 'page must be a whole number'],
    ['page=99999999999', 'page must be a whole number'],
    ['assignee=%2A%29%28', 'or a login such as'],
    [`q=${'a'.repeat(201)}`, 'search words must be 200 characters or fewer'],
  ])('when the list URL has %s, then the answer is a 400 page that says what is accepted', async (qs, message) => {
    const res = await client(t.app, 'TEST\\agent1').get(`/tickets?${qs}`);
    expect(res.status).toBe(400);
    expect(res.text).toContain(message);
  });

  test('when a page past the end is asked for, then the list says so instead of failing', async () => {
    const res = await client(t.app, 'TEST\\agent1').get('/tickets?page=50');
    expect(res.status).toBe(200);
    expect(res.text).toContain('past the end of the list');
  });

  test('when a guest asks for "my tickets", then they are asked to sign in and come back', async () => {
    const res = await request(t.app).get('/tickets?requester=me');
    expect(res.status).toBe(401);
    expect(res.text).toContain('returnTo=%2Ftickets%3Frequester%3Dme');
  });

  test('when people open the home page, then each role sees what matters to them', async () => {
    const guest = await request(t.app).get('/');
    expect(guest.text).toContain('Sign in to raise a ticket');
    const alice = await client(t.app, 'TEST\\alice').get('/');
    expect(alice.text).toContain('Your open tickets');
    expect(alice.text).toContain('href="/tickets/new"');
    const agent = await client(t.app, 'TEST\\agent1').get('/');
    expect(agent.text).toContain('Open and assigned to you');
    expect(agent.text).toMatch(/<span class="stat">3<\/span><span class="stat-label">Open and assigned to you/);
  });
});
