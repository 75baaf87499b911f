import request from 'supertest';
import { client, makeApp, type TestApp } from '../support/app';
import { freePort } from '../support/http-client';
import { spawnServer, waitForOutput } from '../support/server-process';

/** The security review's findings (issue 14), each pinned by a test that failed before its fix. */
describe('the security review', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await makeApp();
  });
  afterAll(() => t.close());

  const cookiesOf = (res: request.Response) => ([] as string[]).concat(res.headers['set-cookie'] ?? []);
  async function raise(who = 'TEST\\alice') {
    const res = await client(t.app, who).post('/tickets', { title: 'Printer jams', description: 'Tray 2', category: '1', priority: 'normal' });
    return Number(/\/tickets\/(\d+)/.exec(res.headers.location)![1]);
  }

  describe('cookies get Secure whenever the request came over HTTPS', () => {
    test('when a trusted proxy says X-Forwarded-Proto: https, then the session and form cookies are Secure', async () => {
      const res = await request(t.app).get('/me').set('X-Remote-User', 'TEST\\alice').set('X-Forwarded-Proto', 'https');
      const cookies = cookiesOf(res).filter((c) => /^deskside_(session|csrf)=/.test(c));
      expect(cookies).toHaveLength(2);
      for (const c of cookies) expect(c).toMatch(/; Secure/);
    });

    test('when the proxy says http, or nothing, then they are not (a browser on http would never send them back)', async () => {
      for (const proto of ['http', undefined]) {
        const r = request(t.app).get('/me').set('X-Remote-User', 'TEST\\alice');
        const res = proto ? await r.set('X-Forwarded-Proto', proto) : await r;
        for (const c of cookiesOf(res)) expect(c).not.toMatch(/Secure/);
      }
    });

    test('when DESKSIDE_COOKIE_SECURE=true, then every cookie is Secure even over plain http', async () => {
      const strict = await makeApp({ env: { DESKSIDE_COOKIE_SECURE: 'true' } });
      try {
        const res = await request(strict.app).get('/me').set('X-Remote-User', 'TEST\\alice');
        const cookies = cookiesOf(res);
        expect(cookies.length).toBeGreaterThanOrEqual(2);
        for (const c of cookies) expect(c).toMatch(/; Secure/);
      } finally {
        await strict.close();
      }
    });
  });

  test('when a requester filters by assignee, then the page does not say whether that login exists', async () => {
    const agentPage = await client(t.app, 'TEST\\agent1').get('/tickets?assignee=TEST%5Cnobody');
    expect(agentPage.text).toContain('Nobody with the login TEST\\nobody has used Deskside yet');
    await client(t.app, 'TEST\\agent2').get('/me'); // agent2 now exists
    for (const login of ['TEST%5Cnobody', 'TEST%5Cagent2']) {
      const page = await client(t.app, 'TEST\\alice').get(`/tickets?assignee=${login}`);
      expect(page.status).toBe(200);
      expect(page.text).not.toContain('has used Deskside');
    }
  });

  test('when a signed-in person gets a page or /me, then it is never stored; a guest page may be', async () => {
    const id = await raise();
    const alice = client(t.app, 'TEST\\alice');
    for (const url of ['/', `/tickets/${id}`, '/tickets', '/tickets/new', '/me', '/known-issues', '/help']) {
      const res = await alice.get(url);
      expect({ url, cacheControl: res.headers['cache-control'] }).toEqual({ url, cacheControl: 'no-store' });
    }
    expect((await request(t.app).get('/me').set('Accept', 'application/json')).headers['cache-control']).toBe('no-store');
    expect((await request(t.app).get('/help')).headers['cache-control']).toBeUndefined();
  });

  test.each(['constructor', '__proto__', 'toString', 'hasOwnProperty'])('when the list is sorted by %s, then it is an unknown value (400), not a property of every object', async (sort) => {
    const res = await client(t.app, 'TEST\\agent1').get(`/tickets?sort=${sort}`);
    expect(res.status).toBe(400);
    expect(res.text).toContain('sort must be one of');
  });

  test('when someone who signed out goes to /Sign-In in another letter case, then Windows sign-in still signs them in', async () => {
    const alice = client(t.app, 'TEST\\alice');
    await alice.post('/sign-out', {});
    // Signed out: the proxy's header alone does not sign her back in.
    expect((await alice.get('/me').set('Accept', 'application/json')).body.anonymous).toBe(true);
    const back = await alice.get('/Sign-In/?returnTo=%2Fme');
    expect(back.status).toBe(303);
    expect((await alice.get('/me').set('Accept', 'application/json')).body).toMatchObject({ anonymous: false, login: 'TEST\\alice' });
  });

  test('when a ticket is raised, then "your ticket has been raised" is said once, to the person who raised it, and never from a link', async () => {
    const alice = client(t.app, 'TEST\\alice');
    const res = await alice.post('/tickets', { title: 'Monitor flickers', description: 'Every few seconds', category: '1', priority: 'normal' });
    const url = res.headers.location;
    expect(url).toMatch(/^\/tickets\/\d+$/);
    // An agent opening the same address, even with the old query string, is not told so.
    expect((await client(t.app, 'TEST\\agent1').get(`${url}?created=1`)).text).not.toContain('Your ticket has been raised');
    expect((await alice.get(url)).text).toContain('Your ticket has been raised');
    expect((await alice.get(url)).text).not.toContain('Your ticket has been raised');
    expect((await alice.get(`${url}?created=1`)).text).not.toContain('Your ticket has been raised');
  });

  describe('the dev identity', () => {
    test('when it starts without DESKSIDE_HOST, then it answers this computer only and says it is for demos', async () => {
      const port = await freePort();
      const server = spawnServer({ PORT: String(port), DESKSIDE_IDENTITY: 'dev', DESKSIDE_DEMO_DATA: 'false' });
      try {
        const line = await waitForOutput(server, /"msg":"[^"]*is listening on [^"]*"/, 20_000);
        expect(line).toContain(`listening on http://127.0.0.1:${port}`);
        expect(line).toMatch(/demo .*anyone can act as anyone.*for demos and development only/);
      } finally {
        await server.stop();
      }
    });

    test('when DESKSIDE_HOST says otherwise, then that address is used', async () => {
      const port = await freePort();
      const server = spawnServer({ PORT: String(port), DESKSIDE_IDENTITY: 'dev', DESKSIDE_DEMO_DATA: 'false', DESKSIDE_HOST: '0.0.0.0' });
      try {
        expect(await waitForOutput(server, /"msg":"[^"]*is listening on [^"]*"/, 20_000)).toContain(`listening on http://0.0.0.0:${port}`);
      } finally {
        await server.stop();
      }
    });
  });
});
