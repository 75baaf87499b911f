import request from 'supertest';
import type { Express } from 'express';
import { createApp } from '../../app/app';
import { appDepsFor, openConfiguredDatabase } from '../../app/compose';
import { openDatabase, type Database } from '../../app/db/database';
import type { DirectoryCache } from '../../app/directory/cache';
import { createStaticDirectory, type StaticUser } from '../../app/directory/static';
import { createLogger } from '../../app/logging';
import { parseLogin } from '../../app/login';
import { client, makeApp, TEST_SECRET, type TestApp } from '../support/app';

// Each process remembers the sessions it has read (decision 0019). These tests run two
// apps on one database file, as iisnode runs two processes, and change things through
// one (or a bare connection) while the other has the session remembered.

const DOMAIN = 'TEST';
const users: StaticUser[] = [
  { login: 'TEST\\carol', displayName: 'Carol Agent', memberOf: ['Helpdesk Agents'] },
  { login: 'TEST\\dave', displayName: 'Dave Requester', memberOf: [] },
];

let t: TestApp;
let second: { app: Express; database: Database; directory: DirectoryCache };

async function secondProcess(of: TestApp): Promise<typeof second> {
  const logger = createLogger('silent');
  const database = await openConfiguredDatabase(of.config, logger);
  const deps = appDepsFor(of.config, { database, logger, secret: TEST_SECRET, directory: createStaticDirectory({ domain: DOMAIN, users, groupParents: {} }) });
  return { app: createApp(deps), database, directory: deps.directory };
}

function sessionCookie(res: request.Response): string {
  return (res.headers['set-cookie'] as unknown as string[]).find((x) => x.startsWith('deskside_session='))!.split(';')[0];
}

/** As IIS passes later requests when the site allows anonymous visitors: the cookie alone. */
function withCookie(app: Express, cookie: string) {
  return request(app).get('/me').set('Accept', 'application/json').set('Cookie', cookie);
}

beforeEach(async () => {
  t = await makeApp({ env: { DESKSIDE_AGENTS: 'TEST\\Helpdesk Agents' }, directory: createStaticDirectory({ domain: DOMAIN, users, groupParents: {} }) });
  second = await secondProcess(t);
});

afterEach(async () => {
  await second.database.close();
  await t.close();
  users[0].memberOf = ['Helpdesk Agents'];
  users[0].displayName = 'Carol Agent';
});

describe('sessions remembered per process', () => {
  test('when a person signs out on one process, then their cookie is a guest on the other at once', async () => {
    const carol = client(t.app, 'TEST\\carol');
    const cookie = sessionCookie(await carol.get('/me'));
    for (let i = 0; i < 3; i++) expect((await withCookie(second.app, cookie)).body.login).toBe('TEST\\carol');
    expect((await carol.post('/sign-out', {})).status).toBe(303);
    expect((await withCookie(second.app, cookie)).body.anonymous).toBe(true);
    // And on the process that signed them out.
    expect((await withCookie(t.app, cookie)).body.anonymous).toBe(true);
  });

  test('when a session row is deleted by another connection, then the remembered session is not used', async () => {
    const cookie = sessionCookie(await client(t.app, 'TEST\\dave').get('/me'));
    expect((await withCookie(t.app, cookie)).body.login).toBe('TEST\\dave');
    const other = openDatabase(t.config.database);
    await other.db.deleteFrom('sessions').execute();
    await other.close();
    expect((await withCookie(t.app, cookie)).body.anonymous).toBe(true);
  });

  test('when the directory drops someone from the agents group, then their next request on either process has no agent role', async () => {
    const cookie = sessionCookie(await client(t.app, 'TEST\\carol').get('/me'));
    for (const app of [t.app, second.app, t.app, second.app]) expect((await withCookie(app, cookie)).body.roles).toEqual(['requester', 'agent']);
    expect((await request(second.app).get('/dashboard').set('Cookie', cookie)).status).toBe(200);
    users[0].memberOf = [];
    // As when each process's directory cache lifetime (DESKSIDE_LDAP_CACHE_SECONDS) ends.
    for (const d of [t.directory, second.directory]) d.forget(parseLogin('TEST\\carol')!);
    for (const app of [t.app, second.app]) expect((await withCookie(app, cookie)).body.roles).toEqual(['requester']);
    expect((await request(second.app).get('/dashboard').set('Cookie', cookie)).status).toBe(403);
  });

  test('when another process changes the person, then the remembered session shows the new name', async () => {
    const cookie = sessionCookie(await client(t.app, 'TEST\\dave').get('/me'));
    expect((await withCookie(second.app, cookie)).body.login).toBe('TEST\\dave');
    const other = openDatabase(t.config.database);
    await other.db.updateTable('people').set({ login: 'TEST\\Dave' }).where('login_key', '=', 'test\\dave').execute();
    await other.close();
    expect((await withCookie(second.app, cookie)).body.login).toBe('TEST\\Dave');
  });

  test('when a session expires while remembered, then the next request is a guest without any write in between', async () => {
    const cookie = sessionCookie(await client(t.app, 'TEST\\dave').get('/me'));
    const soon = new Date(Date.now() + 300).toISOString();
    const other = openDatabase(t.config.database);
    await other.db.updateTable('sessions').set({ expires_at: soon }).execute();
    await other.close();
    expect((await withCookie(second.app, cookie)).body.login).toBe('TEST\\dave');
    await new Promise((r) => setTimeout(r, 350));
    expect((await withCookie(second.app, cookie)).body.anonymous).toBe(true);
  });

  test('when a remembered cookie is altered, then it is checked again and refused', async () => {
    const cookie = sessionCookie(await client(t.app, 'TEST\\dave').get('/me'));
    expect((await withCookie(second.app, cookie)).body.login).toBe('TEST\\dave');
    const [name, value] = cookie.split('=');
    const [token, sig] = value.split('.');
    const flipped = `${name}=${token}.${sig.slice(0, -1)}${sig.endsWith('A') ? 'B' : 'A'}`;
    expect((await withCookie(second.app, flipped)).body.anonymous).toBe(true);
  });
});

describe('what the per-process memory saves', () => {
  test('when nothing is written, then a remembered session is not read from the database again, and after any write it is', async () => {
    let sessionReads = 0;
    const counted = {
      ...second.database,
      db: second.database.db.withPlugin({
        transformQuery: (args) => {
          if (args.node.kind === 'SelectQueryNode' && JSON.stringify(args.node.from).includes('"sessions"')) sessionReads++;
          return args.node;
        },
        transformResult: async (args) => args.result,
      }),
    };
    const logger = createLogger('silent');
    const app = createApp(appDepsFor(t.config, { database: counted, logger, secret: TEST_SECRET, directory: createStaticDirectory({ domain: DOMAIN, users, groupParents: {} }) }));
    const cookie = sessionCookie(await client(t.app, 'TEST\\dave').get('/me'));
    for (let i = 0; i < 3; i++) expect((await withCookie(app, cookie)).body.login).toBe('TEST\\dave');
    expect(sessionReads).toBe(1);
    const other = openDatabase(t.config.database);
    await other.db.updateTable('people').set({ updated_at: new Date().toISOString() }).where('login_key', '=', 'test\\dave').execute();
    await other.close();
    expect((await withCookie(app, cookie)).body.login).toBe('TEST\\dave');
    expect(sessionReads).toBe(2);
  });
});

describe('lists remembered per process for the ticket page', () => {
  test('when another process renames a team, then the ticket page on this one shows the new name at once', async () => {
    const dave = client(t.app, 'TEST\\dave');
    const raised = await dave.post('/tickets', { title: 'Printer offline', description: 'Since this morning.', category: '1', priority: 'normal' }, { tokenFrom: '/tickets/new' });
    expect(raised.status).toBe(303);
    const id = Number(/\/tickets\/(\d+)/.exec(raised.headers.location)![1]);
    const now = new Date().toISOString();
    const team = await second.database.db
      .insertInto('teams')
      .values({ name: 'Desktop support', description: null, directory_group: null, active: 1, version: 1, created_at: now, updated_at: now })
      .returning('id')
      .executeTakeFirstOrThrow();
    await second.database.db.updateTable('tickets').set({ team_id: team.id }).where('id', '=', id).execute();
    const carol = client(t.app, 'TEST\\carol');
    // Twice, so the second page is drawn from what the first remembered.
    for (let i = 0; i < 2; i++) expect((await carol.get(`/tickets/${id}`)).text).toContain('Desktop support');
    await second.database.db.updateTable('teams').set({ name: 'Field services' }).where('id', '=', team.id).execute();
    const page = await carol.get(`/tickets/${id}`);
    expect(page.text).toContain('Field services');
    expect(page.text).not.toContain('Desktop support');
  });

  test('when another process adds a reply and an internal note, then the ticket page on this one shows them at once', async () => {
    const dave = client(t.app, 'TEST\\dave');
    const raised = await dave.post('/tickets', { title: 'VPN drops', description: 'Every hour.', category: '1', priority: 'normal' }, { tokenFrom: '/tickets/new' });
    const id = Number(/\/tickets\/(\d+)/.exec(raised.headers.location)![1]);
    const carolHere = client(t.app, 'TEST\\carol');
    for (let i = 0; i < 2; i++) expect((await carolHere.get(`/tickets/${id}`)).text).not.toContain('Try the new client');
    const carolThere = client(second.app, 'TEST\\carol');
    expect((await carolThere.post(`/tickets/${id}/comments`, { body: 'Try the new client, please.' }, { tokenFrom: `/tickets/${id}` })).status).toBe(303);
    expect((await carolThere.post(`/tickets/${id}/comments`, { body: 'Known flaky gateway.', internal: 'on' }, { tokenFrom: `/tickets/${id}` })).status).toBe(303);
    const agentPage = await carolHere.get(`/tickets/${id}`);
    expect(agentPage.text).toContain('Try the new client');
    expect(agentPage.text).toContain('Known flaky gateway');
    // The requester's own view of the same ticket is read for them, without the note.
    const requesterPage = await dave.get(`/tickets/${id}`);
    expect(requesterPage.text).toContain('Try the new client');
    expect(requesterPage.text).not.toContain('Known flaky gateway');
  });
});
