import request from 'supertest';
import { createToken, revoke } from '../../app/features/api-tokens/tokens.service';
import { addComment, createTicket } from '../../app/features/tickets/tickets.service';
import { publishKnownIssue } from '../../app/features/known-issues/known-issues.service';
import { NO_LISTENER } from '../../app/features/tickets/ticket-events';
import { parseLogin } from '../../app/login';
import { ensurePerson } from '../../app/people/people.queries';
import { api, type Caller } from '../support/api';
import { client, makeApp, type TestApp } from '../support/app';

/**
 * The JSON API through HTTP, every answer checked against the OpenAPI document by
 * tests/support/api.ts. People: TEST\alice (a requester), TEST\bob (another),
 * TEST\agent1 (an agent), TEST\admin1 (an admin), named by the trusted proxy header
 * (the test app's Windows identity) unless a test says otherwise.
 */

const ALICE = 'TEST\\alice';
const AGENT = 'TEST\\agent1';

async function personId(t: TestApp, login: string): Promise<number> {
  return (await ensurePerson(t.database.db, login, login.toLowerCase())).id;
}

async function ticketFor(t: TestApp, login: string, title = 'Printer on floor 3 jams'): Promise<number> {
  return createTicket(t.database, await personId(t, login), { title, description: 'Every job since Monday.', categoryId: 2, priority: 'normal' }, NO_LISTENER);
}

async function tokenFor(t: TestApp, login: string, opts: { scope: 'read' | 'read-write'; role?: 'requester' | 'agent'; state?: 'expired' | 'revoked' }): Promise<string> {
  const id = await personId(t, login);
  const roles = new Set(login === AGENT || login === 'TEST\\admin1' ? (['requester', 'agent'] as const) : (['requester'] as const));
  const made = await createToken(t.database, id, roles, { name: `${opts.scope} ${opts.state ?? ''}`, scope: opts.scope, role: opts.role ?? 'requester', days: '30' });
  if (made.kind !== 'ok') throw new Error(JSON.stringify(made.errors));
  if (opts.state === 'expired') await t.database.db.updateTable('api_tokens').set({ expires_at: new Date(Date.now() - 1000).toISOString() }).where('id', '=', made.row.id).execute();
  if (opts.state === 'revoked') await revoke(t.database, made.row.id, id);
  return made.token;
}

/** A browser's session for `login` (signed in once by the proxy header), and its CSRF token. */
async function sessionOf(t: TestApp, login: string): Promise<{ agent: request.Agent; csrf: string }> {
  const c = client(t.app, login);
  const csrf = await c.token('/me');
  return { agent: c.agent, csrf };
}

type Kind = 'token read' | 'token read-write' | 'token expired' | 'token revoked' | 'Windows identity' | 'session with CSRF header' | 'session without CSRF header' | 'guest';
const KINDS: Kind[] = ['token read', 'token read-write', 'token expired', 'token revoked', 'Windows identity', 'session with CSRF header', 'session without CSRF header', 'guest'];

async function callerOf(t: TestApp, kind: Kind, login: string): Promise<Caller> {
  switch (kind) {
    case 'token read':
      return { token: await tokenFor(t, login, { scope: 'read' }) };
    case 'token read-write':
      return { token: await tokenFor(t, login, { scope: 'read-write' }) };
    case 'token expired':
      return { token: await tokenFor(t, login, { scope: 'read-write', state: 'expired' }) };
    case 'token revoked':
      return { token: await tokenFor(t, login, { scope: 'read-write', state: 'revoked' }) };
    case 'Windows identity':
      return { login };
    case 'session with CSRF header':
      return sessionOf(t, login);
    case 'session without CSRF header':
      return { agent: (await sessionOf(t, login)).agent };
    case 'guest':
      return {};
  }
}

/** What each route answers a requester (alice, on her own ticket), by caller kind, in KINDS order. */
const EXPECTED: Record<string, number[]> = {
  'GET /openapi.json': [200, 200, 200, 200, 200, 200, 200, 200],
  'GET /me': [200, 200, 401, 401, 200, 200, 200, 200],
  'GET /categories': [200, 200, 401, 401, 200, 200, 200, 401],
  'GET /people?q=carol': [403, 403, 401, 401, 403, 403, 403, 401],
  'GET /tickets': [200, 200, 401, 401, 200, 200, 200, 401],
  'POST /tickets': [403, 201, 401, 401, 201, 201, 403, 401],
  'GET /tickets/{id}': [200, 200, 401, 401, 200, 200, 200, 401],
  'PATCH /tickets/{id}': [403, 200, 401, 401, 200, 200, 403, 401],
  'POST /tickets/{id}/comments': [403, 201, 401, 401, 201, 201, 403, 401],
  'GET /known-issues': [200, 200, 401, 401, 200, 200, 200, 200],
  'GET /known-issues/{id}': [200, 200, 401, 401, 200, 200, 200, 200],
};

describe('the API: every route by every kind of caller', () => {
  let t: TestApp;
  let issue: number;
  beforeAll(async () => {
    t = await makeApp();
    issue = await publishKnownIssue(t.database, await personId(t, AGENT), { title: 'VPN drops in Building B', summary: 'Engineers are on it.', status: 'identified', categoryId: null });
  });
  afterAll(() => t.close());

  const cases = Object.entries(EXPECTED).flatMap(([route, statuses]) => KINDS.map((kind, i) => [route, kind, statuses[i]] as const));

  test.each(cases)('when %s is asked by a requester with a %s, then it answers %d', async (route, kind, expected) => {
    const ticket = await ticketFor(t, ALICE);
    const caller = await callerOf(t, kind, ALICE);
    const [method, rawPath] = route.split(' ');
    const path = rawPath.replace('/tickets/{id}', `/tickets/${ticket}`).replace('/known-issues/{id}', `/known-issues/${issue}`);
    const bodies: Record<string, unknown> = {
      'POST /tickets': { title: 'Monitor flickers', description: 'Since the new cable.', category: 1, priority: 'low' },
      'PATCH /tickets/{id}': { status: 'closed' },
      'POST /tickets/{id}/comments': { body: 'Still jamming this morning.' },
    };
    const res = await api(t.app, caller).send(method as 'GET', path, {
      body: bodies[route],
      headers: method === 'PATCH' ? { 'If-Match': '"1"' } : {},
    });
    expect({ route, kind, status: res.status, detail: res.status === expected ? undefined : res.text.slice(0, 300) }).toEqual({ route, kind, status: expected, detail: undefined });
    if (expected === 401) {
      expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
      expect(res.headers['www-authenticate']).toMatch(/Bearer/);
    }
    if (kind === 'token read' && method !== 'GET') expect(res.headers['www-authenticate']).toMatch(/insufficient_scope/);
    if (route === 'PATCH /tickets/{id}' && expected === 200) expect(res.body).toMatchObject({ id: ticket, status: 'closed', version: 2 });
    if (route === 'POST /tickets/{id}/comments' && expected === 201) expect(res.body.timeline.map((e: { kind: string }) => e.kind)).toEqual(['created', 'comment']);
  });

  test('when a Windows identity calls, then no session is begun for it (each call stands alone)', async () => {
    const before = await t.database.db.selectFrom('sessions').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
    const res = await api(t.app, { login: ALICE }).get('/me');
    expect(res.body).toMatchObject({ login: ALICE, via: 'transport' });
    expect(res.headers['set-cookie']).toBeUndefined();
    const after = await t.database.db.selectFrom('sessions').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
    expect(Number(after.n)).toBe(Number(before.n));
  });

  test('when a token and a Windows identity both arrive, then the token decides who is calling', async () => {
    const token = await tokenFor(t, 'TEST\\bob', { scope: 'read' });
    const res = await api(t.app, { token, login: ALICE }).get('/me');
    expect(res.body).toMatchObject({ login: 'TEST\\bob', via: 'token', token: { scope: 'read', role: 'requester' } });
  });

  test('when a token that does not work is sent with a Windows identity, then it is refused rather than ignored', async () => {
    const res = await api(t.app, { token: 'dsk_' + 'x'.repeat(43), login: ALICE }).get('/me');
    expect(res.status).toBe(401);
    expect(res.headers['www-authenticate']).toMatch(/error="invalid_token"/);
  });

  test('when a session calls, then /me gives the CSRF token that its changes need, and a cross-site origin is refused', async () => {
    const { agent } = await sessionOf(t, ALICE);
    const me = await api(t.app, { agent }).get('/me');
    expect(me.body).toMatchObject({ via: 'session', login: ALICE });
    expect(typeof me.body.csrfToken).toBe('string');
    const ok = await api(t.app, { agent, csrf: me.body.csrfToken }).post('/tickets', { title: 'From a page script', description: 'd', category: 1 });
    expect(ok.status).toBe(201);
    const cross = await api(t.app, { agent, csrf: me.body.csrfToken, headers: { Origin: 'https://evil.example' } }).post('/tickets', { title: 'x', description: 'd', category: 1 });
    expect(cross.status).toBe(403);
    expect(cross.body.errors).toEqual([{ header: 'X-CSRF-Token', detail: 'Missing or wrong' }]);
  });

  test('when a page is asked for with a token, then the token is ignored: pages keep their own sign-in', async () => {
    const token = await tokenFor(t, ALICE, { scope: 'read-write' });
    const res = await request(t.app).get('/tickets').set('Authorization', `Bearer ${token}`);
    expect(res.status).toBe(401);
    expect(res.text).toContain('<html');
  });
});

describe('the API: the same rules as the pages', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await makeApp();
  });
  afterAll(() => t.close());

  test('when a requester asks for someone else’s ticket, then it is refused, and their list holds only their own', async () => {
    const bobs = await ticketFor(t, 'TEST\\bob', 'Bob’s laptop');
    const alices = await ticketFor(t, ALICE, 'Alice’s printer');
    const alice = api(t.app, { login: ALICE });
    expect((await alice.get(`/tickets/${bobs}`)).status).toBe(403);
    expect((await alice.post(`/tickets/${bobs}/comments`, { body: 'me too' })).status).toBe(403);
    const list = await alice.get('/tickets?limit=100');
    expect(list.body.items.map((i: { id: number }) => i.id)).toEqual([alices]);
    // Asking for another requester's tickets does not widen it.
    expect((await alice.get('/tickets?requester=TEST%5Cbob')).body.items.map((i: { id: number }) => i.id)).toEqual([alices]);
  });

  test('when an agent writes an internal note, then the requester never sees it and cannot write one', async () => {
    const id = await ticketFor(t, ALICE);
    const agent = api(t.app, { login: AGENT });
    const noted = await agent.post(`/tickets/${id}/comments`, { body: 'Replace the fuser.', internal: true });
    expect(noted.status).toBe(201);
    expect(noted.body.timeline.at(-1)).toMatchObject({ kind: 'note', internal: true, body: 'Replace the fuser.' });
    const alice = api(t.app, { login: ALICE });
    expect((await alice.get(`/tickets/${id}`)).body.timeline.map((e: { kind: string }) => e.kind)).toEqual(['created']);
    const refused = await alice.post(`/tickets/${id}/comments`, { body: 'psst', internal: true });
    expect(refused.status).toBe(403);
  });

  test('when a requester changes a field only agents may, then it is refused; closing and reopening their own works', async () => {
    const id = await ticketFor(t, ALICE);
    const alice = api(t.app, { login: ALICE });
    const priority = await alice.patch(`/tickets/${id}`, { priority: 'urgent' }, { headers: { 'If-Match': '"1"' } });
    expect(priority.status).toBe(403);
    expect(priority.body.detail).toContain('priority');
    const closed = await alice.patch(`/tickets/${id}`, { status: 'closed' }, { headers: { 'If-Match': '"1"' } });
    expect(closed.body).toMatchObject({ status: 'closed', version: 2 });
    expect(closed.headers.etag).toBe('"2"');
    const reopened = await alice.patch(`/tickets/${id}`, { status: 'open' }, { headers: { 'If-Match': closed.headers.etag } });
    expect(reopened.body).toMatchObject({ status: 'open', version: 3 });
    expect((await alice.patch(`/tickets/${id}`, { status: 'resolved' }, { headers: { 'If-Match': '"3"' } })).status).toBe(403);
  });

  test('when an agent changes status, priority, category and assignee with If-Match, then each is an event and the ETag moves on', async () => {
    const id = await ticketFor(t, ALICE);
    const agent = api(t.app, { login: AGENT });
    await agent.get('/me'); // seen once as an agent, so the assignee list knows them
    const res = await agent.patch(`/tickets/${id}`, { status: 'pending', priority: 'high', category: 3, assignee: AGENT }, { headers: { 'If-Match': '"1"' } });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ status: 'pending', priority: 'high', category: { id: 3 }, assignee: { login: AGENT }, version: 2 });
    expect(res.body.timeline.map((e: { kind: string }) => e.kind)).toEqual(['created', 'status', 'priority', 'category', 'assignee']);
    expect(res.body.timeline[4]).toMatchObject({ from: null, to: { login: AGENT } });
    const unassigned = await agent.patch(`/tickets/${id}`, { assignee: null }, { headers: { 'If-Match': res.headers.etag } });
    expect(unassigned.body.assignee).toBeNull();
    const nobody = await agent.patch(`/tickets/${id}`, { assignee: 'TEST\\nobody' }, { headers: { 'If-Match': unassigned.headers.etag } });
    expect(nobody.status).toBe(422);
    expect(nobody.body.errors).toEqual([{ pointer: '/assignee', detail: 'Nobody with the login TEST\\nobody has used Deskside' }]);
    // Someone who is not an agent cannot be assigned (the service's own rule).
    const requester = await agent.patch(`/tickets/${id}`, { assignee: ALICE }, { headers: { 'If-Match': unassigned.headers.etag } });
    expect(requester.status).toBe(422);
    expect(requester.body.errors[0]).toMatchObject({ pointer: '/assignee' });
  });

  test('when If-Match is stale, then 412 with the current ETag and nothing changes; when missing, 428; `*` applies to whatever version', async () => {
    const id = await ticketFor(t, ALICE);
    const agent = api(t.app, { login: AGENT });
    await agent.patch(`/tickets/${id}`, { priority: 'high' }, { headers: { 'If-Match': '"1"' } });
    const stale = await agent.patch(`/tickets/${id}`, { priority: 'low' }, { headers: { 'If-Match': '"1"' } });
    expect(stale.status).toBe(412);
    expect(stale.headers.etag).toBe('"2"');
    const weak = await agent.patch(`/tickets/${id}`, { priority: 'low' }, { headers: { 'If-Match': 'W/"2"' } });
    expect(weak.status).toBe(412);
    const missing = await agent.patch(`/tickets/${id}`, { priority: 'low' });
    expect(missing.status).toBe(428);
    expect(missing.body.errors).toEqual([{ header: 'If-Match', detail: 'Missing' }]);
    expect((await agent.get(`/tickets/${id}`)).body.priority).toBe('high');
    const any = await agent.patch(`/tickets/${id}`, { priority: 'low' }, { headers: { 'If-Match': '*' } });
    expect(any.body).toMatchObject({ priority: 'low', version: 3 });
    const listed = await agent.patch(`/tickets/${id}`, { priority: 'urgent' }, { headers: { 'If-Match': '"1", "3"' } });
    expect(listed.body.priority).toBe('urgent');
  });

  test('when a reply arrives, then the ETag does not move (replies never conflict with an edit)', async () => {
    const id = await ticketFor(t, ALICE);
    const read = await api(t.app, { login: AGENT }).get(`/tickets/${id}`);
    await api(t.app, { login: ALICE }).post(`/tickets/${id}/comments`, { body: 'Any news?' });
    const res = await api(t.app, { login: AGENT }).patch(`/tickets/${id}`, { status: 'open' }, { headers: { 'If-Match': read.headers.etag } });
    expect(res.status).toBe(200);
  });

  test('when a requester replies to a ticket waiting on them, then it is open again, as on its page', async () => {
    const id = await ticketFor(t, ALICE);
    await api(t.app, { login: AGENT }).patch(`/tickets/${id}`, { status: 'pending' }, { headers: { 'If-Match': '"1"' } });
    const res = await api(t.app, { login: ALICE }).post(`/tickets/${id}/comments`, { body: 'Here is the log.' });
    expect(res.body.status).toBe('open');
  });

  test('when a token acts as a requester for an agent, then it sees only its person’s own tickets', async () => {
    await ticketFor(t, ALICE, 'Not the agent’s');
    const mine = await ticketFor(t, AGENT, 'The agent’s own');
    const token = await tokenFor(t, AGENT, { scope: 'read', role: 'requester' });
    const caller = api(t.app, { token });
    expect((await caller.get('/me')).body.roles).toEqual(['requester']);
    expect((await caller.get('/tickets?limit=100')).body.items.map((i: { id: number }) => i.id)).toEqual([mine]);
    expect((await caller.get('/people?q=a')).status).toBe(403);
  });

  test('when an agent token’s person stops being an agent, then the token stops working at once', async () => {
    const t2 = await makeApp({ env: { DESKSIDE_AGENTS: 'TEST\\agent1,TEST\\temp' } });
    try {
      const id = await personId(t2, 'TEST\\temp');
      const made = await createToken(t2.database, id, new Set(['requester', 'agent']), { name: 'Queue report', scope: 'read', role: 'agent', days: '30' });
      if (made.kind !== 'ok') throw new Error('no token');
      expect((await api(t2.app, { token: made.token }).get('/tickets')).status).toBe(200);
      // The same database and directory, read with settings that no longer name them (as after a group change).
      const t3 = await makeApp({ env: { DESKSIDE_AGENTS: 'TEST\\agent1', DESKSIDE_DATABASE: t2.config.database } });
      try {
        const res = await api(t3.app, { token: made.token }).get('/tickets');
        expect(res.status).toBe(401);
        expect(res.body.detail).toContain('no longer holds the agent role');
      } finally {
        await t3.database.close();
      }
    } finally {
      await t2.close();
    }
  });

  test('when the directory says a token’s account is disabled, then the token stops working', async () => {
    let disabled = false;
    const t2 = await makeApp({
      directory: {
        kind: 'static',
        describe: 'test',
        lookup: async (login) => ({ account: login.account, displayName: 'Dora', groups: [], disabled }),
        search: async () => [],
        groupMembers: async () => null,
        close: async () => undefined,
      },
    });
    try {
      const token = await tokenFor(t2, 'TEST\\dora', { scope: 'read' });
      expect((await api(t2.app, { token }).get('/me')).status).toBe(200);
      disabled = true;
      t2.directory.forget(parseLogin('TEST\\dora')!);
      expect((await api(t2.app, { token }).get('/me')).status).toBe(401);
    } finally {
      await t2.close();
    }
  });

  test('when agents search people, then they find those Deskside knows by name or login', async () => {
    await ensurePerson(t.database.db, 'TEST\\carol', 'test\\carol', { displayName: 'Carol Castro', email: 'carol@test.example' });
    const res = await api(t.app, { login: AGENT }).get('/people?q=castro');
    expect(res.body.items).toEqual([expect.objectContaining({ login: 'TEST\\carol', name: 'Carol Castro', email: 'carol@test.example' })]);
    expect((await api(t.app, { login: AGENT }).get('/people?q=' + 'x'.repeat(101))).status).toBe(400);
  });
});

describe('the API: lists, pages and filters', () => {
  let t: TestApp;
  let ids: number[];
  beforeAll(async () => {
    t = await makeApp();
    ids = [];
    for (let i = 0; i < 7; i++) ids.push(await ticketFor(t, ALICE, `Ticket ${i}`));
    await addComment(t.database, { personId: await personId(t, ALICE), isAgent: false }, ids[2], { body: 'bump', internal: undefined }, NO_LISTENER);
  });
  afterAll(() => t.close());

  test('when a list is read a page at a time through `next`, then every ticket comes once, in order, and the last page has no next', async () => {
    const agent = api(t.app, { login: AGENT });
    const seen: number[] = [];
    let url: string | null = '/tickets?status=all&limit=3';
    let pages = 0;
    while (url) {
      const res = await agent.get(url.replace(/^https?:\/\/[^/]+/, ''));
      expect(res.status).toBe(200);
      if (res.body.next) expect(res.headers.link).toBe(`<${res.body.next}>; rel="next"`);
      seen.push(...res.body.items.map((i: { id: number }) => i.id));
      url = res.body.next;
      pages++;
    }
    expect(pages).toBe(3);
    // The same tickets, in the same order (recently updated first), as one long page.
    const all = await agent.get('/tickets?status=all&limit=100');
    expect(seen).toEqual(all.body.items.map((i: { id: number }) => i.id));
    expect(new Set(seen)).toEqual(new Set(ids));
    const total = await agent.get('/tickets?status=all&limit=3');
    expect(total.body).toMatchObject({ total: 7, totalExact: true, limit: 3 });
  });

  test('when filters and sort are given, then they are /tickets’ own', async () => {
    const agent = api(t.app, { login: AGENT });
    const oldest = await agent.get('/tickets?status=all&sort=oldest&limit=2');
    expect(oldest.body.items.map((i: { id: number }) => i.id)).toEqual(ids.slice(0, 2));
    const next = await agent.get(oldest.body.next.replace(/^https?:\/\/[^/]+/, ''));
    expect(next.body.items.map((i: { id: number }) => i.id)).toEqual(ids.slice(2, 4));
    const found = await agent.get('/tickets?status=all&q=Ticket%205');
    expect(found.body.items.map((i: { id: number }) => i.id)).toContain(ids[5]);
    const mine = await api(t.app, { login: ALICE }).get('/tickets?requester=me&limit=100');
    expect(mine.body.items).toHaveLength(7);
  });

  test.each([
    ['an unknown parameter', '/tickets?colour=red', 'colour'],
    ['a repeated parameter', '/tickets?status=open&status=new', 'status'],
    ['a limit out of range', '/tickets?limit=101', 'limit'],
    ['a page number (the API pages by cursor)', '/tickets?page=2', 'page'],
    ['a made-up cursor', '/tickets?cursor=bm9wZQ', 'cursor'],
  ])('when the list is asked with %s, then 400 names the parameter', async (_what, url, parameter) => {
    const res = await api(t.app, { login: AGENT }).get(url);
    expect(res.status).toBe(400);
    expect(res.body.errors.map((e: { parameter: string }) => e.parameter)).toContain(parameter);
  });

  test('when a filter value is not one /tickets accepts, then 400 says what is', async () => {
    const res = await api(t.app, { login: AGENT }).get('/tickets?status=sideways');
    expect(res.status).toBe(400);
    expect(res.body.detail).toContain('status must be one of');
  });

  test('when a cursor is used with another sort, then it is refused', async () => {
    const agent = api(t.app, { login: AGENT });
    const first = await agent.get('/tickets?status=all&limit=2');
    const cursor = new URL(first.body.next as string).searchParams.get('cursor')!;
    const res = await agent.get(`/tickets?status=all&limit=2&sort=oldest&cursor=${cursor}`);
    expect(res.status).toBe(400);
    expect(res.body.errors[0]).toMatchObject({ parameter: 'cursor' });
  });
});

describe('the API: what callers send', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await makeApp({ env: { DESKSIDE_API_RATE_LIMIT: '3' } });
  });
  afterAll(() => t.close());

  test('when the body is not JSON, then 400 and nothing is saved', async () => {
    const res = await api(t.app, { login: ALICE }).send('POST', '/tickets', { body: '{"title": "unfinished', type: 'application/json' });
    expect(res.status).toBe(400);
    expect(res.body.title).toBe('The body is not valid JSON');
    expect(await t.database.db.selectFrom('tickets').select('id').execute()).toEqual([]);
  });

  test.each([
    ['a form post', 'application/x-www-form-urlencoded', 'title=x&description=y&category=1'],
    ['plain text', 'text/plain', '{"title":"x","description":"y","category":1}'],
    ['JSON that does not say so', 'application/octet-stream', '{"title":"x"}'],
  ])('when the body is %s, then 415 asks for JSON', async (_what, type, body) => {
    const res = await api(t.app, { login: ALICE }).send('POST', '/tickets', { body, type });
    expect(res.status).toBe(415);
    expect(res.headers['accept-post']).toBe('application/json');
  });

  test('when the body is larger than the API takes, then 413', async () => {
    const res = await api(t.app, { login: ALICE }).post('/tickets', { title: 'Big', description: 'x'.repeat(200_000), category: 1 });
    expect(res.status).toBe(413);
  });

  test('when the body has unknown fields or wrong types, then 422 names each field and nothing is saved', async () => {
    const res = await api(t.app, { login: ALICE }).post('/tickets', { title: 5, description: 'd', category: '2', assignee: 'me', 'weird/key': 1 });
    expect(res.status).toBe(422);
    expect(res.body.errors).toEqual([
      { pointer: '/title', detail: 'Must be a string' },
      { pointer: '/category', detail: 'Must be a whole number' },
      { pointer: '/assignee', detail: 'Unknown field; accepted: title, description, category, priority, requester, channel' },
      { pointer: '/weird~1key', detail: 'Unknown field; accepted: title, description, category, priority, requester, channel' },
    ]);
    const array = await api(t.app, { login: ALICE }).post('/tickets', [1, 2]);
    expect(array.body.errors).toEqual([{ pointer: '', detail: 'The body must be a JSON object' }]);
  });

  test('when a ticket breaks the service’s rules, then 422 carries the form’s own messages per field', async () => {
    const res = await api(t.app, { login: ALICE }).post('/tickets', { title: '   ', description: 'd', category: 9999, priority: 'apocalyptic' });
    expect(res.status).toBe(422);
    expect(res.body.errors).toEqual([
      { pointer: '/title', detail: 'Enter a short summary of the problem' },
      { pointer: '/category', detail: 'Choose one of the listed categories' },
      { pointer: '/priority', detail: 'Choose low, normal, high or urgent' },
    ]);
  });

  test('when a ticket is raised, then 201 with Location, ETag and the ticket as the API shows it', async () => {
    const res = await api(t.app, { login: ALICE }).post('/tickets', { title: '  VPN   drops ', description: 'Every ten minutes.', category: 5 });
    expect(res.status).toBe(201);
    expect(res.headers.location).toMatch(new RegExp(`/api/v1/tickets/${res.body.id}$`));
    expect(res.headers.etag).toBe('"1"');
    expect(res.body).toMatchObject({ title: 'VPN drops', status: 'new', priority: 'normal', category: { id: 5 }, requester: { login: ALICE }, requesterContact: { email: null } });
  });

  test('when an address or method does not exist, then 404 or 405 with Allow, as problem details', async () => {
    const alice = api(t.app, { login: ALICE });
    const missing = await alice.get('/nothing-here');
    expect(missing.status).toBe(404);
    expect(missing.headers['content-type']).toMatch(/^application\/problem\+json/);
    const method = await alice.send('DELETE', '/tickets/1');
    expect(method.status).toBe(405);
    expect(method.headers.allow).toBe('GET, PATCH, HEAD');
    expect((await alice.get('/tickets/abc')).status).toBe(404);
  });

  test('when an error happens, then the answer has no stack and no HTML', async () => {
    const res = await api(t.app, { login: ALICE }).get('/tickets/999999');
    expect(res.text).not.toMatch(/<html|at .*\.(js|ts):\d+/);
    expect(res.body).toMatchObject({ status: 404, title: 'Not found', type: expect.stringMatching(/\/api#problem-not-found$/) });
  });

  test('when the proxy header arrives twice, then the request is refused as forged', async () => {
    const res = await api(t.app, { headers: { 'X-Remote-User': 'TEST\\alice' } }).send('GET', '/me', { headers: {} });
    expect(res.status).toBe(200);
    const forged = await request(t.app).get('/api/v1/me').set('X-Remote-User', ['TEST\\alice', 'TEST\\admin1'] as unknown as string);
    expect(forged.status).toBe(400);
    expect(forged.headers['content-type']).toMatch(/^application\/problem\+json/);
  });

  test('when a token goes past its requests a minute, then 429 with Retry-After, for every process alike', async () => {
    const token = await tokenFor(t, ALICE, { scope: 'read' });
    const caller = api(t.app, { token });
    const statuses: number[] = [];
    for (let i = 0; i < 4; i++) statuses.push((await caller.get('/me')).status);
    expect(statuses).toEqual([200, 200, 200, 429]);
    const limited = await caller.get('/me');
    expect(Number(limited.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    expect(Number(limited.headers['retry-after'])).toBeLessThanOrEqual(60);
    // Windows sign-in is not counted.
    for (let i = 0; i < 5; i++) expect((await api(t.app, { login: ALICE }).get('/me')).status).toBe(200);
    const row = await t.database.db.selectFrom('api_tokens').select('last_used_at').where('token_hash', '!=', '').executeTakeFirstOrThrow();
    expect(row.last_used_at).not.toBeNull();
  });
});

describe('the API under iisnode', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await makeApp({ env: { DESKSIDE_IDENTITY: 'iisnode', IISNODE_VERSION: '0.2.26', DESKSIDE_TRUSTED_PROXIES: undefined } });
  });
  afterAll(() => t.close());

  test('when IIS names the Windows account on the request, then the API acts for it with no token (Invoke-RestMethod -UseDefaultCredentials)', async () => {
    const iis = { 'X-iisnode-LOGON_USER': 'TEST\\alice', 'X-iisnode-AUTH_TYPE': 'Negotiate' };
    const created = await api(t.app, { headers: iis }).post('/tickets', { title: 'From a monitoring script', description: 'Disk C: 95% full on FS01.', category: 1, priority: 'high' });
    expect(created.status).toBe(201);
    const mine = await api(t.app, { headers: iis }).get('/tickets?requester=me');
    expect(mine.body.items.map((i: { title: string }) => i.title)).toEqual(['From a monitoring script']);
  });

  test('when nobody is named, then 401 offers Negotiate and NTLM (which IIS then answers) as well as Bearer', async () => {
    const res = await api(t.app).get('/tickets');
    expect(res.status).toBe(401);
    expect(res.headers['www-authenticate']).toBe('Negotiate, NTLM, Bearer realm="Deskside"');
  });
});

describe('the API for guests when DESKSIDE_ANONYMOUS=none', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await makeApp({ env: { DESKSIDE_ANONYMOUS: 'none' } });
  });
  afterAll(() => t.close());

  test('when a guest asks for the known issues, then they are asked to sign in; /me still answers', async () => {
    expect((await api(t.app).get('/known-issues')).status).toBe(401);
    expect((await api(t.app).get('/me')).body).toMatchObject({ anonymous: true, via: null });
  });
});
