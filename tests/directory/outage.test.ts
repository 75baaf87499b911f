/**
 * The outage path end to end: the built server (dist/server.js, configured only through
 * DESKSIDE_LDAP_* variables) against a Samba DC that is stopped mid-test and started again.
 */
import request from 'supertest';
import { freePort } from '../support/http-client';
import { requireBuild, spawnServer, waitForListening, type RunningServer } from '../support/server-process';
import { describeWithSamba, startSambaDc, type SambaDc } from '../support/samba';
import { seedDirectory, SERVICE_PASSWORD } from './fixtures';

jest.setTimeout(60_000);

const CACHE_SECONDS = 1;
const MAX_STALE_SECONDS = 5;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));


describeWithSamba('a directory outage, through the running server', () => {
  let dc: SambaDc;
  let server: RunningServer;
  let base: string;

  beforeAll(async () => {
    requireBuild();
    dc = await startSambaDc();
    try {
      const f = await seedDirectory(dc);
      const port = await freePort();
      server = spawnServer({
        NODE_ENV: 'production',
        PORT: String(port),
        DESKSIDE_HOST: '127.0.0.1',
        DESKSIDE_IDENTITY: 'proxy',
        DESKSIDE_TRUSTED_PROXIES: '127.0.0.1',
        DESKSIDE_SECRET: 'outage-test-secret-0123456789abcdefghijklmnop',
        DESKSIDE_AGENTS: 'Helpdesk Agents',
        DESKSIDE_ADMINS: 'TEST\\Deskside Admins',
        DESKSIDE_LDAP_URL: dc.url,
        DESKSIDE_LDAP_STARTTLS: 'true',
        DESKSIDE_LDAP_CA_FILE: dc.caFile,
        DESKSIDE_LDAP_BIND_DN: f.svc,
        DESKSIDE_LDAP_BIND_PASSWORD: SERVICE_PASSWORD,
        DESKSIDE_LDAP_CACHE_SECONDS: String(CACHE_SECONDS),
        DESKSIDE_LDAP_MAX_STALE_SECONDS: String(MAX_STALE_SECONDS),
        DESKSIDE_LDAP_RETRY_SECONDS: '0.3',
        DESKSIDE_LDAP_CONNECT_TIMEOUT_SECONDS: '1',
        DESKSIDE_LDAP_TIMEOUT_SECONDS: '2',
        DESKSIDE_LOG_LEVEL: 'info',
      });
      await waitForListening(server, { port });
      base = `http://127.0.0.1:${port}`;
    } catch (err) {
      await server?.stop();
      await dc.destroy();
      throw err;
    }
  }, 120_000);

  afterAll(async () => {
    await server?.stop();
    await dc?.destroy();
  });

  const as = (login: string) => {
    const agent = request.agent(base);
    return {
      me: async () => (await agent.get('/me').set('X-Remote-User', login).set('Accept', 'application/json').expect(200)).body as { roles: string[] },
      page: async (url = '/') => agent.get(url).set('X-Remote-User', login),
    };
  };
  const health = async () => (await request(base).get('/healthz').expect(200)).body as { directory: string };

  test('when the DC stops, then pages are served with last known roles and a notice, then requester only, and recover when it is back', async () => {
    const erin = as('TEST\\erin');
    const dan = as('TEST\\dan');

    // 1. Directory up: roles from nested groups.
    expect((await erin.me()).roles).toEqual(['requester', 'agent', 'admin']);
    const lastSeen = Date.now();
    expect(await health()).toMatchObject({ directory: 'ok' });
    expect((await erin.page('/')).text).not.toContain('directory cannot be reached');

    // 2. DC down, answer expired but within max-stale: last known roles, notice, degraded.
    await dc.stop();
    await sleep(CACHE_SECONDS * 1000 + 200);
    expect((await erin.me()).roles).toEqual(['requester', 'agent', 'admin']);
    const stalePage = await erin.page('/');
    expect(stalePage.status).toBe(200);
    expect(stalePage.text).toContain('The directory cannot be reached, so your roles are the ones Deskside last saw.');
    expect(await health()).toMatchObject({ directory: 'degraded' });
    const admin = await erin.page('/admin/directory');
    expect(admin.status).toBe(200);
    expect(admin.text).toMatch(/Degraded<\/span> — last error: .*cannot connect/);
    // Someone Deskside never saw gets requester only, and is told why.
    expect((await dan.me()).roles).toEqual(['requester']);
    expect((await dan.page('/')).text).toContain('you have requester access only until it is back');

    // 3. Beyond max-stale: requester only, never more than last known.
    await sleep(Math.max(0, lastSeen + MAX_STALE_SECONDS * 1000 + 300 - Date.now()));
    expect((await erin.me()).roles).toEqual(['requester']);
    const lockedDown = await erin.page('/tickets/new');
    expect(lockedDown.status).toBe(200);
    expect(lockedDown.text).toContain('you have requester access only until it is back');
    expect((await erin.page('/admin/directory')).status).toBe(403);

    // 4. DC back: recovery without restarting Deskside.
    await dc.start();
    await sleep(400);
    expect((await erin.me()).roles).toEqual(['requester', 'agent', 'admin']);
    expect(await health()).toMatchObject({ directory: 'ok' });
    expect((await erin.page('/')).text).not.toContain('directory cannot be reached');
    expect(server.proc.exitCode).toBeNull();
  });

  test('when the server logged its work, then the bind password never appears in its output', () => {
    expect(server.output()).toContain('Active Directory over LDAP');
    expect(server.output()).not.toContain(SERVICE_PASSWORD);
  });
});
