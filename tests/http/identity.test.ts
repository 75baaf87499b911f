import request from 'supertest';
import { client, csrfFrom, makeApp, type TestApp } from '../support/app';

describe('identity through a trusted proxy', () => {
  let t: TestApp;
  const logs: string[] = [];
  beforeAll(async () => {
    t = await makeApp({ logs });
  });
  afterAll(() => t.close());

  test('when a guest visits, then the header shows a sign-in link and no sign-out', async () => {
    const res = await request(t.app).get('/');
    expect(res.status).toBe(200);
    expect(res.text).toContain('Browsing as a guest');
    expect(res.text).toContain('href="/sign-in?returnTo=%2F"');
    expect(res.text).not.toContain('action="/sign-out"');
  });

  test('when the proxy names a person, then they are signed in and kept signed in by a cookie alone', async () => {
    const c = client(t.app, 'TEST\\alice');
    const first = await c.get('/me').set('Accept', 'application/json');
    expect(first.body).toMatchObject({ anonymous: false, login: 'TEST\\alice', roles: ['requester'], source: 'proxy' });
    const cookie = first.headers['set-cookie'] as unknown as string[];
    expect(cookie.find((x) => x.startsWith('deskside_session='))).toMatch(/HttpOnly; Max-Age=43200/);
    // Without the header, the session cookie alone still identifies them.
    const later = await c.agent.get('/me').set('Accept', 'application/json');
    expect(later.body).toMatchObject({ anonymous: false, login: 'TEST\\alice' });
  });

  test('when the header comes from an untrusted address, then it is ignored and logged', async () => {
    const u = await makeApp({ env: { DESKSIDE_TRUSTED_PROXIES: '10.9.9.9' }, logs });
    try {
      const res = await request(u.app).get('/me').set('Accept', 'application/json').set('X-Remote-User', 'TEST\\admin1');
      expect(res.body).toMatchObject({ anonymous: true, roles: [] });
      expect(logs.join('')).toMatch(/"event":"untrusted-proxy-header"/);
    } finally {
      await u.close();
    }
  });

  test('when the header is sent twice or has a bad shape, then the request is refused with 400', async () => {
    // supertest joins repeated .set() calls, so send raw duplicates through node's http
    const dup = await request(t.app).get('/me').set('X-Remote-User', ['TEST\\alice', 'TEST\\admin1'] as unknown as string);
    expect(dup.status).toBe(400);
    const bad = await request(t.app).get('/me').set('X-Remote-User', 'alice');
    expect(bad.status).toBe(400);
    expect(bad.text).toContain('cannot be genuine');
  });

  test('when a cookie is tampered with or signed with another secret, then the person is a guest', async () => {
    const c = client(t.app, 'TEST\\alice');
    const res = await c.get('/me').set('Accept', 'application/json');
    const cookie = (res.headers['set-cookie'] as unknown as string[]).find((x) => x.startsWith('deskside_session='))!.split(';')[0];
    const [name, value] = cookie.split('=');
    const [token, sig] = value.split('.');
    const flipped = `${name}=${token.slice(0, -1)}${token.endsWith('A') ? 'B' : 'A'}.${sig}`;
    const tampered = await request(t.app).get('/me').set('Accept', 'application/json').set('Cookie', flipped);
    expect(tampered.body.anonymous).toBe(true);
    const other = await makeApp({ env: { DESKSIDE_SECRET: 'another-secret-0123456789-abcdefghijklmnop' } });
    try {
      const foreign = await request(other.app).get('/me').set('Accept', 'application/json').set('Cookie', cookie);
      expect(foreign.body.anonymous).toBe(true);
    } finally {
      await other.close();
    }
  });

  test('when a person signs out, then their old cookie no longer works and they stay a guest', async () => {
    const c = client(t.app, 'TEST\\bob');
    const me = await c.get('/me');
    const cookie = (me.headers['set-cookie'] as unknown as string[]).find((x) => x.startsWith('deskside_session='))!.split(';')[0];
    const out = await c.post('/sign-out', {});
    expect(out.status).toBe(303);
    expect(out.headers.location).toBe('/');
    const replay = await request(t.app).get('/me').set('Accept', 'application/json').set('Cookie', cookie);
    expect(replay.body.anonymous).toBe(true);
    // The proxy still names bob on every request, but sign-out means guest until /sign-in.
    const after = await c.get('/me').set('Accept', 'application/json');
    expect(after.body.anonymous).toBe(true);
    const back = await c.get('/sign-in?returnTo=%2Fme');
    expect(back.status).toBe(303);
    expect(back.headers.location).toBe('/me');
    expect((await c.agent.get('/me').set('Accept', 'application/json')).body.login).toBe('TEST\\bob');
  });

  test('when roles come from config, then /me says which setting gave each', async () => {
    const res = await client(t.app, 'test\\ADMIN1').get('/me');
    expect(res.text).toContain('DESKSIDE_ADMINS');
    expect(res.text).toMatch(/role-admin/);
    const json = await client(t.app, 'TEST\\agent1').get('/me').set('Accept', 'application/json');
    expect(json.body.roles).toEqual(['requester', 'agent']);
  });
});

describe('signing in', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await makeApp({ env: { DESKSIDE_SIGNIN_CHALLENGE: 'Negotiate' } });
  });
  afterAll(() => t.close());

  test('when a guest asks to sign in, then the answer is 401 with the challenge and a help page', async () => {
    const res = await request(t.app).get('/sign-in?returnTo=%2Ftickets');
    expect(res.status).toBe(401);
    expect(res.headers['www-authenticate']).toBe('Negotiate');
    expect(res.text).toContain('Continue as a guest');
    expect(res.text).toContain('network.negotiate-auth.trusted-uris');
    expect(res.text).toContain('returnTo=%2Ftickets');
  });

  test.each([
    ['another site', 'https://evil.example/'],
    ['a protocol-relative URL', '//evil.example/x'],
    ['a backslash trick', '/\\evil.example'],
  ])('when returnTo points to %s, then a signed-in person goes home instead', async (_what, target) => {
    const res = await client(t.app, 'TEST\\alice').get(`/sign-in?returnTo=${encodeURIComponent(target)}`);
    expect(res.status).toBe(303);
    expect(res.headers.location).toBe('/');
  });

  test('when a guest tries an action that needs a person, then the sign-in dance starts with a way back', async () => {
    const res = await request(t.app).get('/tickets/new');
    expect(res.status).toBe(401);
    expect(res.headers['www-authenticate']).toBe('Negotiate');
    expect(res.text).toContain('returnTo=%2Ftickets%2Fnew');
  });

  test('when a signed-in person lacks the permission, then the answer is 403 in the site look, not a challenge', async () => {
    const bob = client(t.app, 'TEST\\bob');
    const created = await bob.post('/tickets', { title: 'Bob only', description: 'Private', category: '1', priority: 'low' });
    const res = await client(t.app, 'TEST\\alice').get(created.headers.location);
    expect(res.status).toBe(403);
    expect(res.headers['www-authenticate']).toBeUndefined();
    expect(res.text).toContain('You do not have access to this');
    expect(res.text).toContain('site-header');
  });
});

describe('forms and headers', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await makeApp();
  });
  afterAll(() => t.close());

  test('when a POST has no token, a wrong token or another person\'s token, then it is refused with 403 and nothing changes', async () => {
    const alice = client(t.app, 'TEST\\alice');
    const bob = client(t.app, 'TEST\\bob');
    const form = { title: 'Printer on fire', description: 'Smoke', category: '1', priority: 'high' };
    const none = await alice.get('/').then(() => alice.agent.post('/tickets').set('X-Remote-User', 'TEST\\alice').type('form').send(form));
    expect(none.status).toBe(403);
    const wrong = await alice.post('/tickets', form, { token: 'not-a-token' });
    expect(wrong.status).toBe(403);
    const bobsToken = await bob.token();
    const stolen = await alice.post('/tickets', form, { token: bobsToken });
    expect(stolen.status).toBe(403);
    const count = await t.database.db.selectFrom('tickets').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirst();
    expect(Number(count!.n)).toBe(0);
  });

  test('when a form is posted from another site, then it is refused even with a valid token', async () => {
    const alice = client(t.app, 'TEST\\alice');
    const token = await alice.token();
    const res = await alice.agent
      .post('/tickets')
      .set('X-Remote-User', 'TEST\\alice')
      .set('Origin', 'https://evil.example')
      .type('form')
      .send({ _csrf: token, title: 'x', description: 'y', category: '1', priority: 'low' });
    expect(res.status).toBe(403);
    expect(res.text).toContain('sent from another site');
  });

  test('when any page is served, then the security headers are set and X-Powered-By is not', async () => {
    const res = await request(t.app).get('/');
    expect(res.headers['x-powered-by']).toBeUndefined();
    expect(res.headers['x-ua-compatible']).toBe('IE=edge');
    expect(res.headers['content-security-policy']).toContain("default-src 'self'");
    expect(res.headers['content-security-policy']).toContain("frame-ancestors 'none'");
    expect(res.headers['x-content-type-options']).toBe('nosniff');
    expect(res.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
  });

  test('when a body is larger than the limit, then the answer is 413 and nothing is saved', async () => {
    const alice = client(t.app, 'TEST\\alice');
    const res = await alice.post('/tickets', { title: 'big', description: 'x'.repeat(70_000), category: '1', priority: 'low' });
    expect(res.status).toBe(413);
    expect(res.text).toContain('larger than Deskside accepts');
  });

  test('when a page is missing, then 404 is a page in the site look; JSON callers get JSON', async () => {
    const html = await request(t.app).get('/nope');
    expect(html.status).toBe(404);
    expect(html.text).toContain('Page not found');
    expect(html.text).toContain('site-header');
    const json = await request(t.app).get('/nope').set('Accept', 'application/json');
    expect(json.body.error).toMatchObject({ status: 404 });
  });

  test('when the stylesheet is requested, then it is served from /public', async () => {
    const res = await request(t.app).get('/public/css/site.css');
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toMatch(/text\/css/);
  });

  test('when the page renders a form, then the token on it is accepted once the cookie is kept', async () => {
    const alice = client(t.app, 'TEST\\alice');
    const page = await alice.get('/tickets/new');
    const token = csrfFrom(page.text);
    const ok = await alice.post('/tickets', { title: 'Mouse', description: 'Broken', category: '1', priority: 'low' }, { token });
    expect(ok.status).toBe(303);
  });
});

describe('the demo identity', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await makeApp({ env: { DESKSIDE_IDENTITY: 'dev', DESKSIDE_TRUSTED_PROXIES: undefined, DESKSIDE_AGENTS: undefined, DESKSIDE_ADMINS: undefined } });
  });
  afterAll(() => t.close());

  test('when a newcomer acts as the admin, then roles come from nested demo groups', async () => {
    const c = client(t.app);
    const res = await c.post('/dev/act-as', { login: 'DEMO\\erin', returnTo: '/me' });
    expect(res.status).toBe(303);
    expect(res.headers.location).toBe('/me');
    const me = await c.agent.get('/me').set('Accept', 'application/json');
    expect(me.body).toMatchObject({ login: 'DEMO\\erin', roles: ['requester', 'agent', 'admin'], source: 'dev' });
    expect(me.body.groups).toEqual(expect.arrayContaining(['DEMO\\IT Operations', 'DEMO\\Deskside Admins']));
  });

  test('when someone asks to act as a person not in the demo, then it is a 400 and nobody is signed in', async () => {
    const c = client(t.app);
    const res = await c.post('/dev/act-as', { login: 'CORP\\ceo' });
    expect(res.status).toBe(400);
    expect((await c.agent.get('/me').set('Accept', 'application/json')).body.anonymous).toBe(true);
  });
});
