import request from 'supertest';
import { client, makeApp, type TestApp } from '../support/app';
import { fingerprint } from '../support/snapshot';

/**
 * Every route the workbench added, as a guest, a requester, an agent and an admin: the
 * guest gets the sign-in dance (or, for a post, the CSRF wall), the requester a 403,
 * agents and admins the page, and a refusal never changes anything.
 */
describe('the workbench routes for each role', () => {
  let t: TestApp;
  let ticket: number;
  let view: number;
  let reply: number;
  beforeAll(async () => {
    t = await makeApp();
    const res = await client(t.app, 'TEST\\alice').post('/tickets', { title: 'Roles', description: 'Who may do what.', category: '1', priority: 'normal' });
    ticket = Number(/\/tickets\/(\d+)/.exec(res.headers.location)![1]);
    const admin = client(t.app, 'TEST\\admin1');
    view = Number(/saved=(\d+)/.exec((await admin.post('/views', { name: 'Shared', query: 'priority=urgent', shared: 'on' })).headers.location)![1]);
    await admin.post('/admin/responses', { title: 'Hello', body: 'Hello {{requester.firstName}}', active: 'on' });
    reply = (await t.database.db.selectFrom('canned_responses').select('id').executeTakeFirstOrThrow()).id;
  });
  afterAll(() => t.close());

  const gets = () => [`/people?q=ali`, `/tickets/${ticket}/responses/${reply}`, `/admin/responses`];

  test('when a guest asks for a workbench page, then it is the sign-in dance; a post is stopped at the CSRF wall and changes nothing', async () => {
    for (const url of [...gets(), `/tickets/${ticket}/edit`]) expect({ url, status: (await request(t.app).get(url)).status }).toEqual({ url, status: 401 });
    const before = await fingerprint(t.database);
    for (const url of ['/tickets/bulk', '/views', `/views/${view}/delete`, `/tickets/${ticket}/edit`, '/admin/responses', `/admin/responses/${reply}`]) {
      expect({ url, status: (await request(t.app).post(url).type('form').send({ ticket: `${ticket}:1`, status: 'closed', name: 'x', title: 'x', body: 'x' })).status }).toEqual({ url, status: 403 });
    }
    expect(await fingerprint(t.database)).toBe(before);
  });

  test('when a requester tries the agents’ routes, then each is a 403 and nothing changes', async () => {
    const alice = client(t.app, 'TEST\\alice');
    for (const url of gets()) expect({ url, status: (await alice.get(url)).status }).toEqual({ url, status: 403 });
    const before = await fingerprint(t.database);
    const posts: [string, Record<string, string>][] = [
      ['/tickets/bulk', { ticket: `${ticket}:1`, status: 'closed' }],
      ['/views', { name: 'Mine', query: '' }],
      [`/views/${view}/delete`, {}],
      ['/admin/responses', { title: 'x', body: 'y', active: 'on' }],
      [`/admin/responses/${reply}`, { title: 'x', body: 'y', active: 'on' }],
    ];
    for (const [url, form] of posts) expect({ url, status: (await alice.post(url, form)).status }).toEqual({ url, status: 403 });
    // Agent fields on the requester's own forms are a 400, not a quiet success.
    expect((await alice.post('/tickets', { title: 'x', description: 'y', category: '1', priority: 'low', requester: 'TEST\\bob' })).status).toBe(400);
    expect((await alice.post(`/tickets/${ticket}/comments`, { body: 'x', status: 'resolved' })).status).toBe(400);
    expect(await fingerprint(t.database)).toBe(before);
  });

  test.each([['TEST\\agent1'], ['TEST\\admin1']])('when %s uses the workbench, then every route answers', async (login) => {
    const who = client(t.app, login);
    for (const url of [`/people?q=ali`, `/tickets/${ticket}/responses/${reply}`, `/tickets/${ticket}/edit`, '/tickets?sort=-priority&per=50']) {
      expect({ url, status: (await who.get(url)).status }).toEqual({ url, status: 200 });
    }
    const version = (await t.database.db.selectFrom('tickets').select('version').where('id', '=', ticket).executeTakeFirstOrThrow()).version;
    expect((await who.post('/tickets/bulk', { ticket: `${ticket}:${version}`, priority: login.endsWith('admin1') ? 'high' : 'low' })).status).toBe(200);
    expect((await who.post(`/tickets/${ticket}/comments`, { body: `From ${login}`, status: 'pending', assignee: 'me' })).status).toBe(303);
    const saved = await who.post('/views', { name: `View of ${login}`, query: 'assignee=me' });
    expect(saved.status).toBe(303);
    expect((await who.post(`/views/${/saved=(\d+)/.exec(saved.headers.location)![1]}/delete`, {})).status).toBe(303);
    const raised = await who.post('/tickets', { title: 'For Alice', description: 'By phone.', category: '1', priority: 'low', requester: 'TEST\\alice', channel: 'phone' });
    expect(raised.status).toBe(303);
    expect(String(raised.headers['set-cookie'])).toContain(`deskside_flash=${encodeURIComponent('created-for|')}`);
    expect((await who.get('/admin/responses')).status).toBe(login.endsWith('admin1') ? 200 : 403);
  });
});
