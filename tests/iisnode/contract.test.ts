import { mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import type { Socket } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { rawRequest, spawnServer, waitForExit, waitForListening, waitForOutput, type RunningServer } from '../support/server-process';

/**
 * The iisnode contract: the root server.js that web.config names, loaded exactly as
 * iisnode loads it (through its interceptor, from the site folder, with IISNODE_VERSION
 * set, PORT a pipe path, production mode), spoken to over that pipe with the
 * X-iisnode-* headers iisnode appends after the client's own.
 */
describe('the built app under iisnode', () => {
  let server: RunningServer;
  let pipeDir: string;
  let socketPath: string;
  const where = () => ({ socketPath });

  beforeAll(async () => {
    pipeDir = mkdtempSync(path.join(os.tmpdir(), 'deskside-pipe-'));
    socketPath = path.join(pipeDir, 'iisnode-pipe.sock');
    server = spawnServer({
      IISNODE_VERSION: '0.2.26',
      PORT: socketPath,
      NODE_ENV: 'production',
      DESKSIDE_AGENTS: 'CORP\\carol',
      DESKSIDE_ADMINS: 'corp\\erin',
    }, { via: 'iisnode' });
    await waitForListening(server, where());
  });

  afterAll(async () => {
    await server?.stop();
    rmSync(pipeDir, { recursive: true, force: true });
  });

  // What iisnode appends after the client's headers: web.config's promoteServerVars
  // (LOGON_USER,AUTH_USER,AUTH_TYPE,HTTPS,REMOTE_ADDR), last one first
  // (Azure/iisnode src/iisnode/chttpprotocol.cpp); the identity ones empty when anonymous.
  const connectionVars: [string, string][] = [
    ['X-iisnode-REMOTE_ADDR', '10.1.2.3'],
    ['X-iisnode-HTTPS', 'off'],
  ];
  const anonymousVars: [string, string][] = [
    ...connectionVars,
    ['X-iisnode-AUTH_TYPE', ''],
    ['X-iisnode-AUTH_USER', ''],
    ['X-iisnode-LOGON_USER', ''],
  ];
  const signedIn = (login: string, type = 'Negotiate'): [string, string][] => [
    ...connectionVars,
    ['X-iisnode-AUTH_TYPE', type],
    ['X-iisnode-AUTH_USER', login],
    ['X-iisnode-LOGON_USER', login],
  ];

  test('when an anonymous visitor asks for the home page over the pipe, then it is served to a guest', async () => {
    const res = await rawRequest(where(), { path: '/', headers: [['Host', 'helpdesk.corp.example'], ...anonymousVars] });
    expect(res.status).toBe(200);
    expect(res.body).toContain('Browsing as a guest');
    expect(res.header('x-ua-compatible')).toBe('IE=edge');
    expect(res.header('x-powered-by')).toBeUndefined();
  });

  test('when a guest asks to sign in, then IIS is asked to challenge with Negotiate and NTLM', async () => {
    const res = await rawRequest(where(), { path: '/sign-in?returnTo=%2Ftickets', headers: [['Host', 'helpdesk.corp.example'], ['Accept', 'text/html'], ...anonymousVars] });
    expect(res.status).toBe(401);
    expect(res.all('www-authenticate')).toEqual(['Negotiate', 'NTLM']);
    expect(res.body).toContain('Local intranet');
  });

  test('when IIS has authenticated the person, then they are signed in, stay signed in by cookie, and their roles apply', async () => {
    const first = await rawRequest(where(), {
      path: '/sign-in?returnTo=%2Fme',
      headers: [['Host', 'helpdesk.corp.example'], ['Authorization', 'Negotiate YIIFzQYGKwYBBQUCoIIFwTCCBb2gMDAuBgkqhkiC9xIBAgIGCSqGSIb3EgECAgYKKwYBBAGCNwICHgYKKwYBBAGCNwICCqKCBYcEggWDYII='], ...signedIn('CORP\\Carol')],
    });
    expect(first.status).toBe(303);
    expect(first.header('location')).toBe('/me');
    const cookie = first.all('set-cookie').find((c) => c.startsWith('deskside_session='));
    expect(cookie).toMatch(/HttpOnly/);
    expect(cookie).toMatch(/SameSite=Lax/);
    // A later request arrives anonymous from IIS, as on an anonymous-allowed site.
    const me = await rawRequest(where(), { path: '/me', headers: [['Host', 'helpdesk.corp.example'], ['Accept', 'application/json'], ['Cookie', cookie!.split(';')[0]], ...anonymousVars] });
    expect(me.status).toBe(200);
    const body = JSON.parse(me.body);
    expect(body).toMatchObject({ anonymous: false, login: 'CORP\\Carol', source: 'iisnode', authType: 'Kerberos (via Negotiate)' });
    expect(body.roles).toEqual(['requester', 'agent']);
  });

  test('when the login differs only in case, then it is the same person with the same roles', async () => {
    const res = await rawRequest(where(), { path: '/me', headers: [['Host', 'h'], ['Accept', 'application/json'], ...signedIn('CORP\\ERIN', 'NTLM')] });
    expect(res.status).toBe(200);
    expect(JSON.parse(res.body)).toMatchObject({ login: 'CORP\\ERIN', roles: ['requester', 'agent', 'admin'], authType: 'NTLM' });
  });

  test('when a script calls the API with its Windows account (Invoke-RestMethod -UseDefaultCredentials), then IIS\'s word is enough: no token, no session', async () => {
    const first = await rawRequest(where(), { path: '/api/v1/tickets', headers: [['Host', 'helpdesk.corp.example'], ...anonymousVars] });
    // Unauthenticated first, as PowerShell and curl --negotiate ask: the challenges IIS answers, and Bearer.
    expect(first.status).toBe(401);
    expect(first.header('content-type')).toMatch(/^application\/problem\+json/);
    expect(first.all('www-authenticate')).toEqual(['Negotiate', 'NTLM', 'Bearer realm="Deskside"']);
    const body = JSON.stringify({ title: 'Disk C: on FS01 is 95% full', description: 'Raised by the nightly check.', category: 1, priority: 'high' });
    const raised = await rawRequest(where(), { method: 'POST', path: '/api/v1/tickets', headers: [['Host', 'helpdesk.corp.example'], ['Content-Type', 'application/json'], ...signedIn('CORP\\alice')], body });
    expect(raised.status).toBe(201);
    expect(raised.all('set-cookie')).toEqual([]);
    expect(raised.header('location')).toMatch(/^http:\/\/helpdesk\.corp\.example\/api\/v1\/tickets\/\d+$/);
    const mine = await rawRequest(where(), { path: '/api/v1/tickets?requester=me', headers: [['Host', 'helpdesk.corp.example'], ...signedIn('CORP\\alice')] });
    expect(JSON.parse(mine.body).items.map((t: { title: string }) => t.title)).toContain('Disk C: on FS01 is 95% full');
    const forged = await rawRequest(where(), { path: '/api/v1/me', headers: [['Host', 'h'], ['x-iisnode-logon_user', 'CORP\\erin'], ...anonymousVars] });
    expect(forged.status).toBe(400);
    expect(forged.header('content-type')).toMatch(/^application\/problem\+json/);
  });

  test('when a client sends its own X-iisnode-LOGON_USER before the real one, then the request is refused with 400 and logged', async () => {
    const res = await rawRequest(where(), {
      path: '/me',
      headers: [['Host', 'h'], ['Accept', 'application/json'], ['x-iisnode-logon_user', 'CORP\\erin'], ...anonymousVars],
    });
    expect(res.status).toBe(400);
    expect(res.body).not.toContain('erin');
    await waitForOutput(server, /"event":"identity-refused","reason":"x-iisnode-logon_user sent 2 times"/);
  });

  test('when AUTH_USER disagrees with LOGON_USER, then the request is refused', async () => {
    const res = await rawRequest(where(), {
      path: '/me',
      headers: [['Host', 'h'], ['X-iisnode-LOGON_USER', 'CORP\\alice'], ['X-iisnode-AUTH_USER', 'CORP\\erin'], ['X-iisnode-AUTH_TYPE', 'Negotiate']],
    });
    expect(res.status).toBe(400);
  });

  test.each([
    ['no domain', 'alice'],
    ['path traversal', 'CORP\\..\\admin'],
    ['two backslashes', 'CORP\\\\alice'],
    ['an oversized value', `CORP\\${'a'.repeat(400)}`],
    ['characters Windows forbids', 'CORP\\al*ce'],
  ])('when LOGON_USER has %s, then the request is refused with a page and no stack trace', async (_what, value) => {
    const res = await rawRequest(where(), { path: '/', headers: [['Host', 'h'], ['Accept', 'text/html'], ...signedIn(value)] });
    expect(res.status).toBe(400);
    expect(res.body).toContain('cannot be genuine');
    expect(res.body).not.toMatch(/at .*\.js:\d+/);
  });

  test('when LOGON_USER has a control character, then node refuses the request before any identity is read', async () => {
    const res = await rawRequest(where(), { path: '/me', headers: [['Host', 'h'], ['Accept', 'application/json'], ...signedIn('CORP\\ali\u0007ce')] });
    expect(res.status).toBe(400);
    expect(res.body).not.toContain('alice');
  });

  test("when IIS reuses a pooled pipe connection that sat idle past node's 5 s default, then it is still open and serves the request", async () => {
    // iisnode keeps idle pipe connections pooled for up to maxNamedPipePooledConnectionAge
    // (30 s by default) and takes them back for later requests (Azure/iisnode
    // src/iisnode/cconnectionpool.cpp); one node closed in the meantime fails a request.
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    const get = () =>
      new Promise<{ status: number; reused: boolean; socket: Socket }>((resolve, reject) => {
        const req = http.get({ socketPath, agent, path: '/healthz', headers: { Host: 'h', ...Object.fromEntries(anonymousVars) } }, (res) => {
          res.resume();
          res.on('end', () => resolve({ status: res.statusCode!, reused: req.reusedSocket, socket: req.socket! }));
        });
        req.on('error', reject);
      });
    try {
      const first = await get();
      expect(first).toMatchObject({ status: 200, reused: false });
      let closedWhileIdle = false;
      first.socket.once('close', () => (closedWhileIdle = true));
      await new Promise((r) => setTimeout(r, 6_000));
      expect(closedWhileIdle).toBe(false);
      const second = await get();
      expect(second).toMatchObject({ status: 200, reused: true });
      expect(second.socket).toBe(first.socket);
    } finally {
      agent.destroy();
    }
  }, 15_000);

  test('when a page does not exist in production, then the 404 page shows no stack', async () => {
    const res = await rawRequest(where(), { path: '/no/such/page', headers: [['Host', 'h'], ['Accept', 'text/html'], ...anonymousVars] });
    expect(res.status).toBe(404);
    expect(res.body).toContain('Page not found');
    expect(res.header('content-security-policy')).toContain("default-src 'self'");
  });
});

describe('starting the built app', () => {
  test('when iisnode starts it with the dev identity, then it refuses to start and names the setting', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'deskside-pipe-'));
    const server = spawnServer({ IISNODE_VERSION: '0.2.26', PORT: path.join(dir, 'p.sock'), DESKSIDE_IDENTITY: 'dev' }, { via: 'iisnode' });
    const code = await waitForExit(server);
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
    expect(code).toBe(1);
    expect(server.output()).toContain('DESKSIDE_IDENTITY=dev is refused under iisnode');
  });

  test('when production has no identity setting, then it refuses to start and lists the accepted values', async () => {
    const server = spawnServer({ NODE_ENV: 'production', PORT: '0' });
    const code = await waitForExit(server);
    await server.stop();
    expect(code).toBe(1);
    expect(server.output()).toMatch(/DESKSIDE_IDENTITY is required when NODE_ENV=production; accepted values: iisnode, proxy/);
  });
});
