/**
 * Kerberos without IIS, browser-free: the built server (dist/server.js, production,
 * DESKSIDE_IDENTITY=negotiate) against a real Samba KDC and directory. Clients: the
 * `kerberos` package in a child process (so tokens can be replayed) and curl's own
 * GSS-API --negotiate. Also the password form over HTTP and the server's output.
 */
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import request from 'supertest';
import { describeWithSamba } from '../support/samba';
import { rawRequest, spawnServer, waitForExit, waitForListening, waitForOutput, type RunningServer } from '../support/server-process';
import { desksideEnv, freePort, startRealm, USER_PASSWORD, type Realm } from './realm';

jest.setTimeout(60_000);

const CLIENT = path.join(__dirname, 'negotiate-client.js');

describeWithSamba('Kerberos (Negotiate) sign-in without IIS, through the built server', () => {
  let realm: Realm;
  let server: RunningServer;
  let port: number;
  let hostHeader: string;

  beforeAll(async () => {
    realm = await startRealm();
    try {
      port = await freePort();
      server = spawnServer(desksideEnv(realm, port));
      await waitForListening(server, { port });
      hostHeader = `${realm.host}:${port}`;
    } catch (err) {
      await server?.stop();
      await realm.destroy();
      throw err;
    }
  }, 120_000);

  afterAll(async () => {
    await server?.stop();
    await realm?.destroy();
  });

  /** Ask the child client to sign in as `user` at `pathname`. */
  function negotiate(cache: string, pathname: string) {
    const r = spawnSync(process.execPath, [CLIENT, realm.service, `http://127.0.0.1:${port}${pathname}`, hostHeader], {
      env: { PATH: process.env.PATH, KRB5_CONFIG: realm.krb5Conf, KRB5CCNAME: cache, NODE_PATH: path.resolve(__dirname, '../../node_modules') },
      cwd: path.resolve(__dirname, '../..'),
      encoding: 'utf8',
      timeout: 20_000,
    });
    const out = JSON.parse(r.stdout || '{}') as { token: string; status: number; location: string | null; setCookie: string[]; wwwAuthenticate: string[]; mutual: boolean | string | null; error?: string };
    if (out.error) throw new Error(`negotiate client: ${out.error}\n${r.stderr}`);
    return out;
  }
  const get = (pathname: string, headers: [string, string][] = []) => rawRequest({ port }, { path: pathname, headers: [['Host', hostHeader], ...headers] });
  const cookieOf = (setCookie: string[]) => setCookie.map((c) => c.split(';')[0]).filter((c) => !c.endsWith('=')).join('; ');

  test('when a guest asks to sign in, then the answer is 401 Negotiate with the help page and the password form', async () => {
    const home = await get('/');
    expect(home.status).toBe(200);
    const r = await get('/sign-in?returnTo=/tickets');
    expect(r.status).toBe(401);
    expect(r.all('WWW-Authenticate')).toEqual(['Negotiate']);
    expect(r.body).toContain('Sign in to Deskside');
    expect(r.body).toContain('action="/sign-in/password"');
  });

  test('when a browser sends a valid ticket, then the person is signed in with nested-group roles and the server proves itself', async () => {
    const cache = realm.kinit('carol');
    const out = negotiate(cache, '/sign-in?returnTo=/me');
    expect(out.status).toBe(303);
    expect(out.location).toBe('/me');
    expect(out.mutual).toBe(true);
    const me = await get('/me', [['Cookie', cookieOf(out.setCookie)], ['Accept', 'application/json']]);
    expect(JSON.parse(me.body)).toMatchObject({ anonymous: false, login: 'TEST\\carol', displayName: 'Carol Chen', roles: ['requester', 'agent'], source: 'negotiate', authType: 'Kerberos (Negotiate)' });
    // carol is in Service Desk L1 only; Helpdesk Agents (the agent role) comes through it.
    expect(JSON.parse(me.body).groups).toEqual(expect.arrayContaining(['TEST\\Service Desk L1', 'TEST\\Helpdesk Agents']));
  });

  test('when the same ticket is sent again, then it is refused as a replay with the 401 help page, not an error', async () => {
    const cache = realm.kinit('erin');
    const first = negotiate(cache, '/sign-in');
    expect(first.status).toBe(303);
    const replay = await get('/sign-in', [['Authorization', `Negotiate ${first.token}`]]);
    expect(replay.status).toBe(401);
    expect(replay.all('WWW-Authenticate')).toEqual(['Negotiate']);
    expect(replay.all('Set-Cookie').some((c) => c.startsWith('deskside_session=') && !c.startsWith('deskside_session=;'))).toBe(false);
    expect(replay.body).toContain('could not verify');
    // Logs are written asynchronously: wait for the line rather than race it.
    await waitForOutput(server, /"event":"credentials-rejected".*Request is a replay/);
  });

  test('when the token is garbage, NTLM or truncated, then each is a 401 with the help page and the server stays up', async () => {
    const cache = realm.kinit('dan');
    const real = negotiate(cache, '/');
    for (const token of ['Zm9vYmFy', 'TlRMTVNTUAABAAAAB4IIogAAAAAAAAAAAAAAAAAAAAAKAGFKAAAADw==', real.token.slice(0, 200), '!!not-base64!!', `${real.token.slice(0, -8)}AAAAAAA=`]) {
      const r = await get('/tickets/new', [['Authorization', `Negotiate ${token}`]]);
      expect({ token: token.slice(0, 12), status: r.status }).toEqual({ token: token.slice(0, 12), status: 401 });
      expect(r.body).toContain('Sign in to Deskside');
      expect(r.body).not.toMatch(/at \w+ \(|node_modules|GSS failure/);
    }
    expect((await get('/healthz')).status).toBe(200);
    expect(server.proc.exitCode).toBeNull();
    // Tickets are credentials: never in the log, not even a rejected one.
    await waitForOutput(server, /"event":"credentials-rejected".*only Kerberos is accepted/);
    expect(server.output()).not.toContain(real.token.slice(0, 40));
  });

  test('when curl answers the challenge with its own GSS-API, then it follows through to /me signed in', () => {
    const cache = realm.kinit('erin');
    const r = spawnSync(
      'curl',
      ['-s', '--negotiate', '-u', ':', '-L', '-H', 'Accept: application/json', '--resolve', `${realm.host}:${port}:127.0.0.1`, '-c', '-', `http://${realm.host}:${port}/sign-in?returnTo=/me`],
      { env: { PATH: process.env.PATH, KRB5_CONFIG: realm.krb5Conf, KRB5CCNAME: cache }, encoding: 'utf8', timeout: 20_000 },
    );
    expect(r.stdout).toMatch(/"login":"TEST\\\\erin"/);
    expect(r.stdout).toMatch(/"roles":\["requester","agent","admin"\]/);
  });

  describe('the password form', () => {
    async function form(agent: ReturnType<typeof request.agent>) {
      const page = await agent.get('/sign-in?returnTo=/me').set('Host', hostHeader).expect(401);
      return /name="_csrf" value="([^"]+)"/.exec(page.text)![1];
    }
    const post = async (username: string, password: string) => {
      const agent = request.agent(`http://127.0.0.1:${port}`);
      const csrf = await form(agent);
      const r = await agent.post('/sign-in/password').set('Host', hostHeader).type('form').send({ _csrf: csrf, returnTo: '/me', username, password });
      return { r, agent };
    };
    const messageOf = (html: string) => /<div class="error-summary"[^>]*>[\s\S]*?<p>([^<]*)<\/p>/.exec(html)?.[1];

    test('when the AD password is right, then the person is signed in with the password source', async () => {
      const { r, agent } = await post('TEST\\alice', USER_PASSWORD);
      expect(r.status).toBe(303);
      expect(r.headers.location).toBe('/me');
      const me = await agent.get('/me').set('Host', hostHeader).set('Accept', 'application/json').expect(200);
      expect(me.body).toMatchObject({ login: 'TEST\\alice', source: 'password', roles: ['requester'] });
    });

    test('when the account is unknown or the password wrong, then the page and message are the same', async () => {
      const unknown = await post('nobody-here', 'Whatever-1!');
      const wrong = await post('carol@deskside.test', 'Wrong-Passw0rd!');
      expect(unknown.r.status).toBe(401);
      expect(wrong.r.status).toBe(401);
      expect(messageOf(unknown.r.text)).toBe('That user name and password did not match. Check them and try again.');
      expect(messageOf(wrong.r.text)).toBe(messageOf(unknown.r.text));
      // No Negotiate challenge on the form's answer: a browser would re-send the form by itself.
      expect(wrong.r.headers['www-authenticate']).toBeUndefined();
    });

    test('when the password is empty, then nothing is bound and no session starts', async () => {
      const { r } = await post('TEST\\alice', '');
      expect(r.status).toBe(401);
      expect(messageOf(r.text)).toBe('Enter your user name and your password.');
      expect(([] as string[]).concat(r.headers['set-cookie'] ?? []).some((c) => /^deskside_session=[^;]/.test(c))).toBe(false);
    });

    test('when passwords were typed, then none of them appears in the server output', async () => {
      await post('TEST\\gina', 'Secret-Typed-Only-Once-42');
      await waitForOutput(server, /"event":"password-signin-failed","login":"TEST\\\\gina"/);
      for (const secret of ['Secret-Typed-Only-Once-42', 'Wrong-Passw0rd!', USER_PASSWORD, 'Whatever-1!']) expect(server.output()).not.toContain(secret);
    });
  });

  test('when the keytab has no key for the configured service, then the server refuses to start and says how to check', async () => {
    const p = await freePort();
    const bad = spawnServer(desksideEnv(realm, p, { DESKSIDE_KERBEROS_SERVICE: 'HTTP@elsewhere.deskside.test' }));
    try {
      expect(await waitForExit(bad)).toBe(1);
      expect(bad.output()).toMatch(/DESKSIDE_KERBEROS_SERVICE=HTTP@elsewhere.deskside.test cannot be used with DESKSIDE_KERBEROS_KEYTAB=.*klist -k -e/);
      expect(bad.output()).not.toMatch(/\n\s+at /);
    } finally {
      await bad.stop();
    }
  });
});
