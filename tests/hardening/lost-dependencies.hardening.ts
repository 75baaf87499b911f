import Sqlite from 'better-sqlite3';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { proxyServerEnv, spawnServer, waitForListening, type RunningServer } from '../support/server-process';
import { freePort, SessionClient } from '../support/http-client';
import { recordFigure } from './figures';

const env = (port: number) => proxyServerEnv(port);

async function timed<T>(fn: () => Promise<T>): Promise<{ value: T; ms: number }> {
  const started = Date.now();
  const value = await fn();
  return { value, ms: Date.now() - started };
}

describe('a locked database', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'deskside-lock-'));
  let server: RunningServer;
  let port: number;
  beforeAll(async () => {
    port = await freePort();
    server = spawnServer(env(port), { dir });
    await waitForListening(server, { port });
  });
  afterAll(async () => {
    await server?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  test('when another program holds the write lock, then health says 503 within 1 s, writes get a 503 page, reads go on, and all recovers by itself', async () => {
    const alice = new SessionClient(port, 'TEST\\alice');
    await alice.get('/tickets/new');
    expect((await alice.post('/tickets', { title: 'before the lock', description: 'x', category: '1', priority: 'low' })).status).toBe(303);

    // A DBA's tool (or a stuck process) takes the write lock and keeps it.
    const other = new Sqlite(path.join(dir, 'deskside.db'));
    other.pragma('busy_timeout = 5000');
    other.exec('begin immediate');
    try {
      const health = await timed(() => new SessionClient(port).request('GET', '/healthz'));
      recordFigure('/healthz answer time with the database locked (ms)', health.ms, '< 1000 and 503', health.ms < 1000 && health.value.status === 503);
      expect(health.value.status).toBe(503);
      expect(health.ms).toBeLessThan(1000);
      const read = await alice.get('/tickets?requester=me');
      expect(read.status).toBe(200);
      const write = await alice.post('/tickets', { title: 'during the lock', description: 'x', category: '1', priority: 'low' });
      recordFigure('a write while locked', write.status, '503 page, no "locked" text', write.status === 503 && !/database is locked/i.test(write.body));
      expect(write.status).toBe(503);
      expect(write.body).toContain('temporarily unavailable');
      expect(write.body).not.toMatch(/database is locked|SQLITE_/i);
    } finally {
      other.exec('rollback');
      other.close();
    }
    expect(server.proc.exitCode).toBeNull();
    const again = await timed(() => new SessionClient(port).request('GET', '/healthz'));
    expect(again.value.status).toBe(200);
    const after = await alice.post('/tickets', { title: 'after the lock', description: 'x', category: '1', priority: 'low' });
    recordFigure('service after the lock is released', after.status, '303 without restart', after.status === 303);
    expect(after.status).toBe(303);
    alice.close();
  });
});

describe('several processes on one SQLite file', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'deskside-multi-'));
  const servers: { server: RunningServer; port: number }[] = [];
  beforeAll(async () => {
    for (let i = 0; i < 3; i++) {
      const port = await freePort();
      const server = spawnServer(env(port), { dir });
      servers.push({ server, port });
      // One at a time, as iisnode's processes usually start; migrations are locked anyway.
      await waitForListening(server, { port });
    }
  });
  afterAll(async () => {
    await Promise.all(servers.map((s) => s.server.stop()));
    rmSync(dir, { recursive: true, force: true });
  });

  test('when three processes take writes at once, then nobody sees "database is locked" or any error', async () => {
    const seconds = Number(process.env.DESKSIDE_MULTI_SECONDS ?? 20);
    const deadline = Date.now() + seconds * 1000;
    let writes = 0;
    const errors: string[] = [];
    await Promise.all(
      Array.from({ length: 24 }, async (_, n) => {
        const { port } = servers[n % servers.length];
        const c = new SessionClient(port, n % 3 ? `TEST\\user${n}` : 'TEST\\agent1');
        await c.get('/tickets/new');
        let last: number | undefined;
        for (let k = 0; Date.now() < deadline; k++) {
          const r = last && k % 2 ? await c.post(`/tickets/${last}/comments`, { body: `multi ${n}-${k}` }) : await c.post('/tickets', { title: `multi ${n}-${k}`, description: 'x', category: '1', priority: 'low' });
          writes++;
          if (r.status !== 303) errors.push(`${r.status}${/locked/i.test(r.body) ? ' (locked)' : ''}`);
          else if (r.location && /^\/tickets\/\d+\?created/.test(r.location)) last = Number(/\d+/.exec(r.location)![0]);
        }
        c.close();
      }),
    );
    recordFigure(`writes through 3 processes on one file in ${seconds} s`, writes, '> 0', writes > 0);
    recordFigure('errors reaching people (incl. "database is locked")', errors.length, '0', errors.length === 0);
    expect(errors.slice(0, 10)).toEqual([]);
    for (const { server } of servers) expect(server.output()).not.toMatch(/database is locked/i);
  });
});

describe('an unreachable directory', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'deskside-nodir-'));
  let server: RunningServer;
  let port: number;
  beforeAll(async () => {
    port = await freePort();
    const ldapPort = await freePort(); // nothing listens there: connections are refused
    server = spawnServer(
      {
        ...env(port),
        DESKSIDE_LDAP_URL: `ldap://127.0.0.1:${ldapPort}`,
        DESKSIDE_LDAP_BIND_DN: 'CN=svc-deskside,CN=Users,DC=corp,DC=example',
        DESKSIDE_LDAP_BIND_PASSWORD: 'never-printed-7f3a',
        DESKSIDE_LDAP_BASE_DN: 'DC=corp,DC=example',
        DESKSIDE_LDAP_DOMAIN: 'TEST',
        DESKSIDE_AGENTS: 'TEST\\agent1,Helpdesk Agents',
      },
      { dir },
    );
    await waitForListening(server, { port });
  });
  afterAll(async () => {
    await server?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  test('when no domain controller answers, then pages are served with a notice, health says degraded, and config logins keep their role', async () => {
    const agent = new SessionClient(port, 'TEST\\agent1');
    const home = await timed(() => agent.get('/'));
    expect(home.value.status).toBe(200);
    expect(home.value.body).toContain('directory cannot be reached');
    expect(home.value.body).toContain('Open and assigned to you'); // agent by login, not by group
    const queue = await agent.get('/tickets');
    expect(queue.status).toBe(200);
    const health = await timed(() => new SessionClient(port).request('GET', '/healthz'));
    const body = JSON.parse(health.value.body) as { directory: string };
    recordFigure('pages served with the directory down', home.value.status, '200 with a notice', home.value.status === 200);
    recordFigure('/healthz with the directory down', `${health.value.status} directory=${body.directory} in ${health.ms} ms`, '200, degraded, < 1000 ms', health.value.status === 200 && body.directory === 'degraded' && health.ms < 1000);
    expect(health.value.status).toBe(200);
    expect(body.directory).toBe('degraded');
    expect(server.output()).not.toContain('never-printed-7f3a');
    agent.close();
  });
});
