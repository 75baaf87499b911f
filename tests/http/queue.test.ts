import request from 'supertest';
import { client, listCountText, listedTicketIds, makeApp, type TestApp } from '../support/app';

/**
 * The agents' queue (issue 15): a sortable table with counted tabs, page sizes, saved
 * views, bulk changes and previous/next within the list an agent came from.
 */

async function raise(t: TestApp, login: string, form: Record<string, string> = {}): Promise<number> {
  const res = await client(t.app, login).post('/tickets', { title: 'Printer jams', description: 'Every morning.', category: '6', priority: 'normal', ...form });
  expect(res.status).toBe(303);
  return Number(/^\/tickets\/(\d+)$/.exec(res.headers.location)![1]);
}

async function personId(t: TestApp, key: string): Promise<number> {
  return (await t.database.db.selectFrom('people').select('id').where('login_key', '=', key).executeTakeFirstOrThrow()).id;
}

async function row(t: TestApp, id: number) {
  return t.database.db.selectFrom('tickets').select(['status', 'priority', 'assignee_id', 'category_id', 'version']).where('id', '=', id).executeTakeFirstOrThrow();
}

async function eventCount(t: TestApp): Promise<number> {
  return Number((await t.database.db.selectFrom('ticket_events').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow()).n);
}

const tabCounts = (html: string) =>
  Object.fromEntries([...html.matchAll(/<li><a href="[^"]*"(?: aria-current="page")?(?: class="shared-view")?>([^<]+?) <span class="tab-count">(?:<span class="visually-hidden">about <\/span><span aria-hidden="true">~<\/span>)?([\d,]+)<\/span><\/a><\/li>/g)].map((m) => [m[1], Number(m[2].replace(/,/g, ''))]));
const currentTab = (html: string) => /<a href="[^"]*" aria-current="page"(?: class="shared-view")?>([^<]+?) <span class="tab-count">/.exec(html)?.[1];

describe('the queue as a table', () => {
  let t: TestApp;
  let ids: number[];
  let agent1: number;
  beforeAll(async () => {
    t = await makeApp();
    await client(t.app, 'TEST\\agent1').get('/');
    await client(t.app, 'TEST\\agent2').get('/');
    agent1 = await personId(t, 'test\\agent1');
    ids = [];
    // 1..12: priorities cycle low, normal, high, urgent; odd ones Alice's, even ones Bob's.
    for (let i = 1; i <= 12; i++) ids.push(await raise(t, i % 2 ? 'TEST\\alice' : 'TEST\\bob', { title: `Queue ticket ${i}`, priority: ['low', 'normal', 'high', 'urgent'][(i - 1) % 4] }));
    const agent = client(t.app, 'TEST\\agent1');
    for (const id of ids.slice(0, 3)) expect((await agent.post(`/tickets/${id}`, { version: '1', assignee: String(agent1) })).status).toBe(303);
    for (const id of ids.slice(10)) expect((await agent.post(`/tickets/${id}`, { version: '1', status: 'closed' })).status).toBe(303);
  });
  afterAll(() => t.close());

  test('when an agent opens the queue, then it is a table with a header per column, the sortable ones links showing their direction', async () => {
    const page = await client(t.app, 'TEST\\agent1').get('/tickets');
    expect(page.status).toBe(200);
    expect(page.text).toContain('<table class="queue">');
    const headers = [...page.text.matchAll(/<th scope="col" class="[^"]*"(?: aria-sort="(\w+)")?>(?:<a href="([^"]*)">)?([^<]*)/g)].map((m) => ({ label: m[3] || 'select', sort: m[1], href: m[2] }));
    expect(headers.map((h) => h.label)).toEqual(['select', '#', 'Title', 'Requester', 'Assignee', 'Status', 'Priority', 'Category', 'Due', 'Updated']);
    const by = Object.fromEntries(headers.map((h) => [h.label, h]));
    expect(by.Updated).toEqual({ label: 'Updated', sort: 'descending', href: '/tickets?sort=updated' }); // the current sort: a click reverses it
    expect(by.Priority.href).toBe('/tickets?sort=-priority');
    expect(by['#'].href).toBe('/tickets?sort=-id');
    for (const plain of ['Title', 'Requester', 'Assignee', 'Status', 'Category']) expect(by[plain].href).toBeUndefined();
    expect(listedTicketIds(page.text)).toHaveLength(10);
    // Each row carries the version its checkbox would change.
    expect(page.text).toContain(`name="ticket" value="${ids[0]}:2"`);
    expect(page.text).toContain(`name="ticket" value="${ids[5]}:1"`);
  });

  test('when the queue is sorted by a header, then the rows follow it, both ways, and the header says so', async () => {
    const agent = client(t.app, 'TEST\\agent1');
    const urgentFirst = await agent.get('/tickets?sort=-priority');
    expect(listedTicketIds(urgentFirst.text).slice(0, 2)).toEqual([ids[7], ids[3]]); // urgent: 8 and 4, newest first
    expect(urgentFirst.text).toMatch(/aria-sort="descending"><a href="\/tickets\?sort=priority">Priority/);
    const lowFirst = await agent.get('/tickets?sort=priority');
    // Ties go by "updated", the same way round: 1 was assigned last.
    expect(listedTicketIds(lowFirst.text).slice(0, 3)).toEqual([ids[4], ids[8], ids[0]]);
    expect(lowFirst.text).toMatch(/aria-sort="ascending"><a href="\/tickets\?sort=-priority">Priority/);
    expect(listedTicketIds((await agent.get('/tickets?sort=id')).text)).toEqual(ids.slice(0, 10));
    expect(listedTicketIds((await agent.get('/tickets?sort=-id')).text)).toEqual(ids.slice(0, 10).reverse());
    expect(listedTicketIds((await agent.get('/tickets?sort=updated')).text).slice(-3)).toEqual([ids[0], ids[1], ids[2]]); // assigned last
    // Older addresses keep working.
    expect(listedTicketIds((await agent.get('/tickets?sort=oldest')).text)[0]).toBe(ids[0]);
  });

  test('when the created column is asked for, then it shows and sorts; page sizes are 25, 50 or 100', async () => {
    const agent = client(t.app, 'TEST\\agent1');
    const withCreated = await agent.get('/tickets?cols=created&sort=created');
    expect(withCreated.text).toMatch(/aria-sort="ascending"><a href="\/tickets\?sort=-created&amp;cols=created">Created/);
    expect(listedTicketIds(withCreated.text)[0]).toBe(ids[0]);
    expect((await agent.get('/tickets?per=50')).status).toBe(200);
    for (const bad of ['per=30', 'per=1000', 'cols=secret', 'sort=title', 'sort=-requester', 'sort=--id']) {
      const res = await agent.get(`/tickets?${bad}`);
      expect({ bad, status: res.status }).toEqual({ bad, status: 400 });
    }
  });

  test('when there are more tickets than a page holds, then per=… changes how many a page shows', async () => {
    const many = await makeApp();
    try {
      for (let i = 0; i < 60; i++) {
        await many.database.db
          .insertInto('people')
          .values({ login: 'TEST\\bulkreq', login_key: 'test\\bulkreq', display_name: null, email: null, department: null, title: null, is_agent: 0, created_at: '2026-01-01T00:00:00.000Z', updated_at: '2026-01-01T00:00:00.000Z' })
          .onConflict((oc) => oc.column('login_key').doNothing())
          .execute();
      }
      const requester = await personId(many, 'test\\bulkreq');
      await many.database.db
        .insertInto('tickets')
        .values(Array.from({ length: 60 }, (_, i) => ({ title: `Many ${i}`, description: 'x', status: 'open', active: 1, priority: 2, category_id: 1, requester_id: requester, assignee_id: null, created_at: '2026-01-01T00:00:00.000Z', updated_at: `2026-01-01T00:00:${String(i).padStart(2, '0')}.000Z`, resolved_at: null, version: 1 })))
        .execute();
      const agent = client(many.app, 'TEST\\agent1');
      expect(listedTicketIds((await agent.get('/tickets')).text)).toHaveLength(25);
      const fifty = await agent.get('/tickets?per=50');
      expect(listedTicketIds(fifty.text)).toHaveLength(50);
      expect(listCountText(fifty.text)).toBe('1–50 of 60 tickets');
      expect(fifty.text).toContain('href="/tickets?per=50&amp;page=2"');
      expect(listedTicketIds((await agent.get('/tickets?per=100')).text)).toHaveLength(60);
    } finally {
      await many.close();
    }
  });

  test('when the tabs are drawn, then each shows its count and the current one is marked', async () => {
    const agent = client(t.app, 'TEST\\agent1');
    const page = await agent.get('/tickets');
    expect(tabCounts(page.text)).toEqual({ 'All open': 10, 'Assigned to me': 3, Unassigned: 7, 'Resolved &amp; closed': 2 });
    expect(currentTab(page.text)).toBe('All open');
    expect(currentTab((await agent.get('/tickets?assignee=none')).text)).toBe('Unassigned');
    expect(currentTab((await agent.get('/tickets?status=done&sort=-priority')).text)).toBe('Resolved &amp; closed');
    expect(currentTab((await agent.get('/tickets?priority=high')).text)).toBeUndefined();
    // "Assigned to me" is each agent's own.
    expect(tabCounts((await client(t.app, 'TEST\\agent2').get('/tickets')).text)['Assigned to me']).toBe(0);
  });

  test('when a requester lists their tickets, then they get their own simple list, not the queue', async () => {
    const page = await client(t.app, 'TEST\\alice').get('/tickets');
    expect(page.status).toBe(200);
    expect(page.text).not.toContain('<table class="queue">');
    expect(page.text).not.toContain('/tickets/bulk');
    const mine = listedTicketIds(page.text);
    expect(mine.length).toBe(6);
    expect(mine.every((id) => ids.indexOf(id) % 2 === 0)).toBe(true);
  });
});

describe('saved views', () => {
  let t: TestApp;
  beforeEach(async () => {
    t = await makeApp();
    for (let i = 1; i <= 5; i++) await raise(t, 'TEST\\alice', { title: `Saved ${i}`, priority: i <= 2 ? 'urgent' : 'low' });
  });
  afterEach(() => t.close());

  test('when an agent saves the filters and sort, then the view is a tab with its count, current when shown, and can be deleted', async () => {
    const agent = client(t.app, 'TEST\\agent1');
    const saved = await agent.post('/views', { name: 'Urgent ones', query: 'priority=urgent&sort=-id&page=3&per=50' });
    expect(saved.status).toBe(303);
    expect(saved.headers.location).toMatch(/^\/tickets\?priority=urgent&sort=-id&saved=\d+$/);
    const page = await agent.get(saved.headers.location);
    expect(page.text).toContain('Saved the view “Urgent ones”');
    expect(tabCounts(page.text)['Urgent ones']).toBe(2);
    expect(currentTab(page.text)).toBe('Urgent ones');
    expect(page.text).toContain('href="/tickets?priority=urgent&amp;sort=-id"');
    // Other agents do not see a private view.
    expect(tabCounts((await client(t.app, 'TEST\\agent2').get('/tickets')).text)['Urgent ones']).toBeUndefined();
    const viewId = Number(/saved=(\d+)/.exec(saved.headers.location)![1]);
    expect((await client(t.app, 'TEST\\agent2').post(`/views/${viewId}/delete`, {})).status).toBe(404);
    const deleted = await agent.post(`/views/${viewId}/delete`, {});
    expect(deleted.status).toBe(303);
    expect(tabCounts((await agent.get('/tickets')).text)['Urgent ones']).toBeUndefined();
    expect((await agent.post(`/views/${viewId}/delete`, {})).status).toBe(404);
  });

  test('when an admin shares a view naming "me", then every agent has the tab, counted for themselves, and only admins delete it', async () => {
    const admin = client(t.app, 'TEST\\admin1');
    const agent = client(t.app, 'TEST\\agent1');
    await agent.get('/');
    const agentId = await personId(t, 'test\\agent1');
    const [first] = listedTicketIds((await agent.get('/tickets')).text);
    expect((await agent.post(`/tickets/${first}`, { version: '1', assignee: String(agentId) })).status).toBe(303);
    expect((await agent.post('/views', { name: 'Mine, urgent first', query: 'assignee=me&sort=-priority', shared: 'on' })).status).toBe(403);
    const shared = await admin.post('/views', { name: 'Mine, urgent first', query: 'assignee=me&sort=-priority', shared: 'on' });
    expect(shared.status).toBe(303);
    expect(tabCounts((await agent.get('/tickets')).text)['Mine, urgent first']).toBe(1);
    expect(tabCounts((await admin.get('/tickets')).text)['Mine, urgent first']).toBe(0);
    const viewId = Number(/saved=(\d+)/.exec(shared.headers.location)![1]);
    expect((await agent.post(`/views/${viewId}/delete`, {})).status).toBe(403);
    expect((await admin.post(`/views/${viewId}/delete`, {})).status).toBe(303);
  });

  test.each([
    ['no name', { name: '   ', query: 'priority=urgent' }, 'Give the view a name'],
    ['a name too long', { name: 'n'.repeat(61), query: '' }, '60 characters or fewer'],
    ['filters the queue refuses', { name: 'Odd', query: 'sort=random' }, 'These filters cannot be saved'],
    ['filters too long', { name: 'Long', query: `q=${'a'.repeat(1001)}` }, 'too long to save'],
  ])('when a view is saved with %s, then the form comes back with the message and nothing is saved', async (_what, form, message) => {
    const res = await client(t.app, 'TEST\\agent1').post('/views', form);
    expect(res.status).toBe(400);
    expect(res.text).toContain('There is a problem');
    expect(res.text).toContain(message);
    expect(await t.database.db.selectFrom('saved_views').selectAll().execute()).toEqual([]);
  });

  test('when an agent saves two views with one name, then the second is refused', async () => {
    const agent = client(t.app, 'TEST\\agent1');
    expect((await agent.post('/views', { name: 'Printers', query: 'category=6' })).status).toBe(303);
    const again = await agent.post('/views', { name: 'printers', query: 'category=6&sort=-id' });
    expect(again.status).toBe(400);
    expect(again.text).toContain('You already have a view called');
  });

  test('when a requester or a guest tries to save or delete a view, then they are refused', async () => {
    expect((await client(t.app, 'TEST\\alice').post('/views', { name: 'Mine', query: '' })).status).toBe(403);
    expect((await client(t.app, 'TEST\\alice').post('/views/1/delete', {})).status).toBe(403);
    expect((await request(t.app).post('/views').type('form').send({ name: 'x', query: '' })).status).toBe(403);
    expect((await client(t.app, 'TEST\\agent1').post('/views/abc/delete', {})).status).toBe(404);
  });
});

describe('bulk changes from the queue', () => {
  let t: TestApp;
  let ids: number[];
  beforeEach(async () => {
    t = await makeApp();
    await client(t.app, 'TEST\\agent1').get('/');
    await client(t.app, 'TEST\\agent2').get('/');
    ids = [];
    for (let i = 1; i <= 4; i++) ids.push(await raise(t, 'TEST\\alice', { title: `Bulk ${i}` }));
  });
  afterEach(() => t.close());

  const post = (login: string, form: Record<string, string | string[]>) => {
    const c = client(t.app, login);
    return c.token('/me').then((token) => c.agent.post('/tickets/bulk').set('X-Remote-User', login).type('form').send({ _csrf: token, ...form }));
  };

  test('when an agent assigns and resolves several tickets, then each changes at its version with its events, and a stale one is skipped, not overwritten', async () => {
    // Someone else changes the third ticket after the queue was shown.
    expect((await client(t.app, 'TEST\\agent2').post(`/tickets/${ids[2]}`, { version: '1', priority: 'high' })).status).toBe(303);
    const before = await eventCount(t);
    const res = await post('TEST\\agent1', { ticket: ids.slice(0, 3).map((id) => `${id}:1`), assignee: 'me', status: 'resolved', from: 'sort=-id' });
    expect(res.status).toBe(200);
    expect(res.text).toContain('2 tickets changed, 1 skipped');
    expect(res.text).toContain(`data-applied="${ids[0]}"`);
    expect(res.text).toContain(`data-skipped="${ids[2]}"`);
    expect(res.text).toContain('changed by someone else since your page was shown');
    expect(res.text).toContain('href="/tickets?sort=-id"');
    const me = await personId(t, 'test\\agent1');
    for (const id of ids.slice(0, 2)) expect(await row(t, id)).toMatchObject({ status: 'resolved', assignee_id: me, version: 2 });
    expect(await row(t, ids[2])).toMatchObject({ status: 'new', assignee_id: null, priority: 3, version: 2 });
    expect(await row(t, ids[3])).toMatchObject({ status: 'new', version: 1 });
    // Two changes (status, assignee) on each of two tickets.
    expect((await eventCount(t)) - before).toBe(4);
    const evs = await t.database.db.selectFrom('ticket_events').select(['kind', 'to_value', 'ticket_version', 'actor_id']).where('ticket_id', '=', ids[0]).where('kind', '!=', 'created').orderBy('id').execute();
    expect(evs).toEqual([
      { kind: 'status', to_value: 'resolved', ticket_version: 2, actor_id: me },
      { kind: 'assignee', to_value: String(me), ticket_version: 2, actor_id: me },
    ]);
  });

  test('when a ticket is already as asked, or gone, then the result page says so', async () => {
    const res = await post('TEST\\agent1', { ticket: [`${ids[0]}:1`, '999999:1'], priority: 'normal' });
    expect(res.status).toBe(200);
    expect(res.text).toContain('0 tickets changed, 1 already as you asked, 1 skipped');
    expect(res.text).toContain('#999999: no longer exists');
  });

  test('when the assignee is another agent by login, or nobody, then that is who gets them', async () => {
    const agent2 = await personId(t, 'test\\agent2');
    expect((await post('TEST\\agent1', { ticket: [`${ids[0]}:1`, `${ids[1]}:1`], assignee: 'TEST\\agent2', category: '3', priority: 'urgent' })).status).toBe(200);
    expect(await row(t, ids[0])).toMatchObject({ assignee_id: agent2, category_id: 3, priority: 4, status: 'open', version: 2 });
    expect((await post('TEST\\agent1', { ticket: `${ids[0]}:2`, assignee: 'none' })).status).toBe(200);
    expect(await row(t, ids[0])).toMatchObject({ assignee_id: null, version: 3 });
  });

  test.each<[string, Record<string, string | string[]>, string]>([
    ['no ticket selected', { status: 'open' }, 'Select at least one ticket'],
    ['a ticket without its version', { ticket: '1', status: 'open' }, 'not one this page made'],
    ['a ticket twice at two versions', { ticket: ['1:1', '1:2'], status: 'open' }, 'not one this page made'],
    ['too many tickets', { ticket: Array.from({ length: 101 }, (_, i) => `${i + 1}:1`), status: 'open' }, 'at most 100'],
    ['no change chosen', { ticket: '1:1' }, 'Choose at least one change'],
    ['an unknown login as assignee', { ticket: '1:1', assignee: 'TEST\\nobody' }, 'is not an agent'],
    ['a requester as assignee', { ticket: '1:1', assignee: 'TEST\\alice' }, 'is not an agent'],
    ['a mangled login', { ticket: '1:1', assignee: '*)(' }, 'is not an agent'],
    ['an unknown status', { ticket: '1:1', status: 'vaporised' }, 'Choose one of the listed statuses'],
    ['an unknown priority', { ticket: '1:1', priority: 'whenever' }, 'Choose low, normal, high or urgent'],
    ['an unknown category', { ticket: '1:1', category: '77' }, 'Choose one of the listed categories'],
  ])('when the bulk form has %s, then it is a 400 that says so and nothing is written', async (_what, form, message) => {
    const before = await eventCount(t);
    const res = await post('TEST\\agent1', form);
    expect(res.status).toBe(400);
    expect(res.text).toContain('Nothing was changed');
    expect(res.text).toContain(message);
    expect(await eventCount(t)).toBe(before);
    expect(await row(t, ids[0])).toMatchObject({ version: 1 });
  });

  test('when a requester or a guest posts a bulk change, then it is refused and nothing changes', async () => {
    expect((await post('TEST\\alice', { ticket: `${ids[0]}:1`, status: 'closed' })).status).toBe(403);
    expect((await request(t.app).post('/tickets/bulk').type('form').send({ ticket: `${ids[0]}:1`, status: 'closed' })).status).toBe(403);
    expect(await row(t, ids[0])).toMatchObject({ status: 'new', version: 1 });
  });
});

describe('previous and next within the list an agent came from', () => {
  let t: TestApp;
  let ids: number[];
  beforeEach(async () => {
    t = await makeApp();
    ids = [];
    for (let i = 1; i <= 4; i++) ids.push(await raise(t, 'TEST\\bob', { title: `Nav ${i}` }));
  });
  afterEach(() => t.close());

  const navOf = (html: string) => ({
    prev: /<a href="\/tickets\/(\d+)\?[^"]*" rel="prev"/.exec(html)?.[1],
    next: /<a href="\/tickets\/(\d+)\?[^"]*" rel="next"/.exec(html)?.[1],
    back: /<a href="([^"]*)" class="back-link">/.exec(html)?.[1],
  });

  test('when an agent opens a ticket from the queue, then previous and next follow that list, and stay put after they reply', async () => {
    const agent = client(t.app, 'TEST\\agent1');
    const queue = await agent.get('/tickets?sort=-id');
    const link = new RegExp(`href="(/tickets/${ids[2]}\\?from=[^"]+)"`).exec(queue.text)![1].replace(/&amp;/g, '&');
    const page = await agent.get(link);
    expect(navOf(page.text)).toEqual({ prev: String(ids[3]), next: String(ids[1]), back: '/tickets?sort=-id' });
    // Replying moves the ticket to the top of "recently updated"; in a list sorted that way
    // the agent still steps on from where the ticket was.
    const byUpdated = await agent.get(`/tickets/${ids[2]}?from=${encodeURIComponent('sort=-updated')}`);
    expect(navOf(byUpdated.text)).toMatchObject({ prev: String(ids[3]), next: String(ids[1]) });
    const pos = /name="pos" value="([^"]+)"/.exec(byUpdated.text)![1];
    const reply = await agent.post(`/tickets/${ids[2]}/comments`, { body: 'On it.', from: 'sort=-updated', pos }, { token: /name="_csrf" value="([^"]+)"/.exec(byUpdated.text)![1] });
    expect(reply.status).toBe(303);
    expect(reply.headers.location).toBe(`/tickets/${ids[2]}?from=${encodeURIComponent('sort=-updated')}&pos=${pos}#latest`);
    const after = await agent.get(reply.headers.location.replace('#latest', ''));
    expect(navOf(after.text)).toMatchObject({ prev: String(ids[3]), next: String(ids[1]) });
  });

  test('when the ticket is first or last, then there is no link past the end', async () => {
    const agent = client(t.app, 'TEST\\agent1');
    expect(navOf((await agent.get(`/tickets/${ids[3]}?from=sort%3D-id`)).text)).toMatchObject({ prev: undefined, next: String(ids[2]) });
    expect(navOf((await agent.get(`/tickets/${ids[0]}?from=sort%3D-id`)).text)).toMatchObject({ prev: String(ids[1]), next: undefined });
  });

  test('when the list address is not one the queue accepts, or a requester carries one, then the ticket shows without previous/next', async () => {
    const agent = client(t.app, 'TEST\\agent1');
    for (const q of ['from=sort%3Dnonsense', `from=${'x'.repeat(3000)}`, 'from=status%3Dall&pos=banana', 'from[a]=1']) {
      const res = await agent.get(`/tickets/${ids[1]}?${q}`);
      expect({ q, status: res.status }).toEqual({ q, status: 200 });
    }
    expect(navOf((await agent.get(`/tickets/${ids[1]}?from=sort%3Dnonsense`)).text).back).toBeUndefined();
    expect(navOf((await client(t.app, 'TEST\\bob').get(`/tickets/${ids[1]}?from=sort%3D-id`)).text).back).toBeUndefined();
  });
});
