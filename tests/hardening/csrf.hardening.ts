import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import request from 'supertest';
import { client, csrfFrom, makeApp, type TestApp } from '../support/app';
import { listRoutes } from '../support/routes';
import { fingerprint } from '../support/snapshot';
import { recordFigure } from './figures';

/**
 * Every state-changing route, attacked three ways: no token, another person's token,
 * and a valid token sent from another site's page. Nothing may change.
 */
describe('cross-site request forgery', () => {
  let prod: TestApp;
  let dev: TestApp;
  let withPassword: TestApp;
  const caDir = mkdtempSync(path.join(os.tmpdir(), 'deskside-csrf-ca-'));
  beforeAll(async () => {
    // Mail on (nothing is ever sent here: no sender runs), so its forms are in the matrix too.
    prod = await makeApp({ env: { NODE_ENV: 'production', DESKSIDE_SMTP_URL: 'smtp://127.0.0.1:1', DESKSIDE_MAIL_FROM: 'helpdesk@corp.example', DESKSIDE_PUBLIC_URL: 'https://helpdesk.corp.example' } });
    // The password form exists only with a TLS directory; nothing here ever connects to it.
    const caFile = path.join(caDir, 'ca.pem');
    writeFileSync(caFile, '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n');
    withPassword = await makeApp({
      env: {
        NODE_ENV: 'production',
        DESKSIDE_PASSWORD_SIGNIN: 'true',
        DESKSIDE_LDAP_URL: 'ldaps://127.0.0.1:1',
        DESKSIDE_LDAP_CA_FILE: caFile,
        DESKSIDE_LDAP_BIND_DN: 'CN=svc,CN=Users,DC=corp,DC=example',
        DESKSIDE_LDAP_BIND_PASSWORD: 'x',
        DESKSIDE_LDAP_BASE_DN: 'DC=corp,DC=example',
        DESKSIDE_LDAP_DOMAIN: 'CORP',
      },
    });
    dev = await makeApp({ env: { DESKSIDE_IDENTITY: 'dev', DESKSIDE_TRUSTED_PROXIES: undefined, DESKSIDE_AGENTS: undefined, DESKSIDE_ADMINS: undefined } });
    // Data for the ticket routes: ticket 1 belongs to alice, and carries file 1.
    const alice = client(prod.app, 'TEST\\alice');
    expect((await alice.postFiles('/tickets', { title: 'Target', description: 'x', category: '1', priority: 'low' }, [{ name: 'target.log', content: Buffer.from('x') }])).status).toBe(303);
    const admin = client(prod.app, 'TEST\\admin1');
    await admin.get('/');
    // Saved view 1 and canned reply 1, so deleting and changing them would change something.
    expect((await admin.post('/views', { name: 'Target view', query: 'priority=urgent' })).status).toBe(303);
    expect((await admin.post('/admin/responses', { title: 'Target reply', body: 'x', active: 'on' })).status).toBe(303);
    // …team 1…
    expect((await admin.post('/admin/teams', { name: 'Target team', active: 'on' }, { tokenFrom: '/admin/teams' })).status).toBe(303);
    // …and known issue 1, published by an agent.
    expect((await client(prod.app, 'TEST\\agent1').post('/known-issues', { title: 'Target outage', summary: 'x', status: 'investigating' }, { tokenFrom: '/known-issues/new' })).status).toBe(303);
    // …and API token 1 of alice's, webhook 1 with a failed delivery 1.
    expect((await alice.post('/me/tokens', { name: 'Target token', scope: 'read', days: '30' }, { tokenFrom: '/me/tokens' })).status).toBe(201);
    expect((await admin.post('/admin/webhooks', { name: 'Target hook', url: 'http://127.0.0.1:9/none', events: 'ticket.raised', format: 'json', active: 'on', linkBase: 'https://desk.test' }, { tokenFrom: '/admin/webhooks' })).status).toBe(201);
    await prod.database.db
      .insertInto('webhook_deliveries')
      .values({ webhook_id: 1, delivery_key: 'w1:target', event: 'ping', ticket_id: null, body: '{}', status: 'failed', attempts: 1, next_attempt_at: new Date().toISOString(), lease_owner: null, lease_expires_at: null, last_status: 500, last_answer: 'x', created_at: new Date().toISOString(), updated_at: new Date().toISOString(), delivered_at: null })
      .execute();
  });
  afterAll(async () => {
    await prod.close();
    await dev.close();
    await withPassword.close();
    rmSync(caDir, { recursive: true, force: true });
  });

  // What each route would accept from the rightful person, so only the token is wrong.
  const forms: Record<string, { who: string; body: Record<string, string> }> = {
    'POST /tickets': { who: 'TEST\\alice', body: { title: 'Forged', description: 'x', category: '1', priority: 'urgent' } },
    'POST /tickets/:id': { who: 'TEST\\admin1', body: { version: '1', status: 'closed' } },
    'POST /tickets/:id/comments': { who: 'TEST\\alice', body: { body: 'forged reply' } },
    'POST /tickets/:id/edit': { who: 'TEST\\alice', body: { version: '1', title: 'Forged title', description: 'x' } },
    'POST /tickets/bulk': { who: 'TEST\\admin1', body: { ticket: '1:1', priority: 'urgent' } },
    'POST /views': { who: 'TEST\\admin1', body: { name: 'Forged view', query: '', shared: 'on' } },
    'POST /views/:id/delete': { who: 'TEST\\admin1', body: {} },
    'POST /admin/responses': { who: 'TEST\\admin1', body: { title: 'Forged', body: 'x', active: 'on' } },
    'POST /admin/responses/:id': { who: 'TEST\\admin1', body: { title: 'Forged', body: 'x', active: 'on' } },
    'POST /tickets/:id/attachments/:attachmentId/remove': { who: 'TEST\\admin1', body: {} },
    'POST /sign-out': { who: 'TEST\\alice', body: {} },
    'POST /admin/categories': { who: 'TEST\\admin1', body: { name: 'Forged category' } },
    'POST /admin/categories/:id': { who: 'TEST\\admin1', body: { name: 'Renamed', sortOrder: '1' } },
    'POST /admin/teams': { who: 'TEST\\admin1', body: { name: 'Forged team', members: 'TEST\\mallory', active: 'on' } },
    'POST /admin/teams/:id': { who: 'TEST\\admin1', body: { name: 'Renamed team', version: '1', active: 'on' } },
    'POST /admin/service-levels': { who: 'TEST\\admin1', body: { version: '1', timeZone: 'UTC', 'hours.mon.0.start': '00:00', 'hours.mon.0.end': '24:00', 'targets.urgent.response': '1m', atRiskPercent: '50' } },
    'POST /known-issues': { who: 'TEST\\agent1', body: { title: 'Forged outage', summary: 'x', status: 'investigating' } },
    'POST /known-issues/:id': { who: 'TEST\\agent1', body: { version: '1', title: 'Forged', summary: 'x', status: 'resolved', resolveTickets: 'on' } },
    'POST /known-issues/:id/updates': { who: 'TEST\\agent1', body: { body: 'Forged update' } },
    'POST /known-issues/:id/tickets': { who: 'TEST\\agent1', body: { ticket: '1' } },
    'POST /known-issues/:id/me-too': { who: 'TEST\\alice', body: {} },
    'POST /me/notifications': { who: 'TEST\\alice', body: { my_tickets: 'on' } },
    'POST /admin/mail/test': { who: 'TEST\\admin1', body: { to: 'mallory@evil.example' } },
    'POST /me/tokens': { who: 'TEST\\alice', body: { name: 'Forged token', scope: 'read-write', days: '365' } },
    'POST /me/tokens/:id/revoke': { who: 'TEST\\alice', body: {} },
    'POST /admin/tokens/:id/revoke': { who: 'TEST\\admin1', body: {} },
    'POST /admin/webhooks': { who: 'TEST\\admin1', body: { name: 'Forged hook', url: 'https://evil.example/in', events: 'ticket.raised', format: 'json', active: 'on', internal: 'on', linkBase: 'https://desk.test' } },
    'POST /admin/webhooks/:id': { who: 'TEST\\admin1', body: { version: '1', name: 'Forged', url: 'https://evil.example/in', events: 'ticket.commented', format: 'json', active: 'on', internal: 'on', linkBase: 'https://desk.test' } },
    'POST /admin/webhooks/:id/test': { who: 'TEST\\admin1', body: {} },
    'POST /admin/webhooks/:id/secret': { who: 'TEST\\admin1', body: {} },
    'POST /admin/webhooks/:id/delete': { who: 'TEST\\admin1', body: {} },
    'POST /admin/webhooks/:id/deliveries/:delivery/retry': { who: 'TEST\\admin1', body: {} },
  };
  /**
   * The JSON API's changes (mounted at /api/v1; the route table does not show the mount),
   * made with the victim's browser session: without X-CSRF-Token, with another person's,
   * from another site. Its Windows-identity and token callers are not ambient in the same
   * way: a cross-site page can send neither a JSON body nor PATCH without a CORS preflight.
   */
  const apiCalls: Record<string, { who: string; method: 'post' | 'patch'; body: Record<string, unknown>; headers?: Record<string, string> }> = {
    'POST /tickets': { who: 'TEST\\alice', method: 'post', body: { title: 'Forged', description: 'x', category: 1 } },
    'PATCH /tickets/:id': { who: 'TEST\\admin1', method: 'patch', body: { status: 'closed' }, headers: { 'If-Match': '*' } },
    'POST /tickets/:id/comments': { who: 'TEST\\alice', method: 'post', body: { body: 'forged reply' } },
  };
  const devForms: Record<string, { body: Record<string, string> }> = {
    'POST /dev/act-as': { body: { login: 'DEMO\\erin' } },
  };
  const guestForms: Record<string, { body: Record<string, string> }> = {
    'POST /sign-in/password': { body: { username: 'CORP\\erin', password: 'Secret-123' } },
  };

  test('when the route table is read, then every state-changing route is in the attack matrix', () => {
    const unsafe = [...listRoutes(prod.app), ...listRoutes(dev.app), ...listRoutes(withPassword.app)].filter((r) => !/^(GET|HEAD|OPTIONS) /.test(r));
    expect(unsafe).toEqual(expect.arrayContaining(['POST /tickets', 'POST /dev/act-as', 'POST /sign-in/password']));
    const covered = new Set([...Object.keys(forms), ...Object.keys(devForms), ...Object.keys(guestForms), ...Object.keys(apiCalls)]);
    expect([...new Set(unsafe)].filter((r) => !covered.has(r))).toEqual([]);
  });

  test('when each route is posted without a token, with another person\'s token, or from another site, then nothing changes', async () => {
    let attempts = 0;
    let changes = 0;
    const failures: string[] = [];
    const url = (route: string) => route.split(' ')[1].replace(':id', '1').replace(':attachmentId', '1').replace(':delivery', '1');
    for (const [route, { who, body }] of Object.entries(forms)) {
      const victim = client(prod.app, who);
      const victimToken = csrfFrom((await victim.get('/tickets/1')).text);
      const mallory = client(prod.app, 'TEST\\mallory');
      const malloryToken = await mallory.token('/tickets/new');
      const attacks: [string, (r: request.Test) => request.Test, string | undefined][] = [
        ['no token', (r) => r, undefined],
        ["another person's token", (r) => r, malloryToken],
        ['cross-site origin', (r) => r.set('Origin', 'https://evil.example'), victimToken],
        ['cross-site referer', (r) => r.set('Referer', 'https://evil.example/page'), victimToken],
        ['null origin', (r) => r.set('Origin', 'null'), victimToken],
      ];
      for (const [kind, decorate, token] of attacks) {
        const before = await fingerprint(prod.database);
        const payload: Record<string, string> = { ...body };
        if (token) payload._csrf = token;
        const res = await decorate(victim.agent.post(url(route)).set('X-Remote-User', who).type('form').send(payload));
        attempts++;
        const after = await fingerprint(prod.database);
        if (before !== after) changes++;
        if (res.status !== 403 || before !== after) failures.push(`${route} (${kind}): ${res.status}${before !== after ? ', data changed' : ''}`);
      }
    }
    for (const [route, { body }] of Object.entries(devForms)) {
      const guest = client(dev.app);
      const other = client(dev.app);
      const otherToken = await other.token('/');
      const ownToken = await guest.token('/');
      for (const [kind, token, origin] of [
        ['no token', undefined, undefined],
        ["another browser's token", otherToken, undefined],
        ['cross-site origin', ownToken, 'https://evil.example'],
      ] as [string, string | undefined, string | undefined][]) {
        let r = guest.agent.post(url(route)).type('form');
        if (origin) r = r.set('Origin', origin);
        const res = await r.send(token ? { ...body, _csrf: token } : body);
        attempts++;
        const me = await guest.agent.get('/me').set('Accept', 'application/json');
        if (res.status !== 403 || me.body.anonymous !== true) {
          changes++;
          failures.push(`${route} (${kind}): ${res.status}`);
        }
      }
    }
    for (const [route, { body }] of Object.entries(guestForms)) {
      const guest = client(withPassword.app);
      const otherToken = await client(withPassword.app).token('/sign-in');
      const ownToken = await guest.token('/sign-in');
      for (const [kind, token, origin] of [
        ['no token', undefined, undefined],
        ["another browser's token", otherToken, undefined],
        ['cross-site origin', ownToken, 'https://evil.example'],
      ] as [string, string | undefined, string | undefined][]) {
        const before = await fingerprint(withPassword.database);
        let r = guest.agent.post(url(route)).type('form');
        if (origin) r = r.set('Origin', origin);
        const res = await r.send(token ? { ...body, _csrf: token } : body);
        attempts++;
        const tries = await withPassword.database.db.selectFrom('sign_in_attempts' as never).select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirst();
        if (res.status !== 403 || Number(tries?.n ?? 0) !== 0 || (await fingerprint(withPassword.database)) !== before) {
          changes++;
          failures.push(`${route} (${kind}): ${res.status}`);
        }
      }
    }
    // The two routes that take files, attacked as multipart posts: the token is read from
    // the body by the route itself, before any file byte is written.
    const staging = path.join(prod.dir, 'attachments', '.staging');
    const stagedNow = () => (existsSync(staging) ? readdirSync(staging).length : 0);
    for (const route of ['POST /tickets', 'POST /tickets/:id/comments']) {
      const { who, body } = forms[route];
      const victim = client(prod.app, who);
      const victimToken = csrfFrom((await victim.get('/tickets/1')).text);
      const malloryToken = await client(prod.app, 'TEST\\mallory').token('/tickets/new');
      const attacks: [string, string | null, Record<string, string>, boolean][] = [
        ['multipart, no token', null, {}, false],
        ["multipart, another person's token", malloryToken, {}, false],
        ['multipart, cross-site origin', victimToken, { Origin: 'https://evil.example' }, false],
        ['multipart, the files before the token', victimToken, {}, true],
      ];
      for (const [kind, token, headers, filesFirst] of attacks) {
        const before = await fingerprint(prod.database);
        let r = victim.agent.post(url(route)).set('X-Remote-User', who).set(headers);
        if (filesFirst) r = r.attach('files', Buffer.alloc(64 * 1024, 'f'), 'forged.log');
        if (token) r = r.field('_csrf', token);
        for (const [k, v] of Object.entries(body)) r = r.field(k, v);
        if (!filesFirst) r = r.attach('files', Buffer.alloc(64 * 1024, 'f'), 'forged.log');
        const res = await r;
        attempts++;
        const after = await fingerprint(prod.database);
        if (before !== after) changes++;
        if (res.status !== 403 || before !== after || stagedNow() !== 0) failures.push(`${route} (${kind}): ${res.status}${before !== after ? ', data changed' : ''}${stagedNow() ? ', a file was staged' : ''}`);
      }
    }
    for (const [route, call] of Object.entries(apiCalls)) {
      const victim = client(prod.app, call.who);
      await victim.get('/me'); // signed in: the session cookie is what a forged call would ride on
      const me = await victim.agent.get('/api/v1/me');
      const victimToken = me.body.csrfToken as string;
      const mallory = client(prod.app, 'TEST\\mallory');
      await mallory.get('/me');
      const malloryToken = (await mallory.agent.get('/api/v1/me')).body.csrfToken as string;
      const attacks: [string, Record<string, string>][] = [
        ['API, session without X-CSRF-Token', {}],
        ["API, session with another person's token", { 'X-CSRF-Token': malloryToken }],
        ['API, session, cross-site origin', { 'X-CSRF-Token': victimToken, Origin: 'https://evil.example' }],
      ];
      for (const [kind, headers] of attacks) {
        const before = await fingerprint(prod.database);
        const res = await victim.agent[call.method](`/api/v1${url(route)}`).set({ ...call.headers, ...headers }).type('application/json').send(JSON.stringify(call.body));
        attempts++;
        const after = await fingerprint(prod.database);
        if (before !== after) changes++;
        if (res.status !== 403 || before !== after) failures.push(`${route} (${kind}): ${res.status}${before !== after ? ', data changed' : ''}`);
      }
      // A cross-site page's plain form post, with the Windows identity the browser adds by itself.
      const before = await fingerprint(prod.database);
      const res = await victim.agent.post(`/api/v1${url(route)}`).set('X-Remote-User', call.who).set('Origin', 'https://evil.example').type('form').send({ title: 'Forged', description: 'x', category: '1', body: 'x' });
      attempts++;
      if ((await fingerprint(prod.database)) !== before) changes++;
      if (![405, 415].includes(res.status) || (await fingerprint(prod.database)) !== before) failures.push(`${route} (API, cross-site form post): ${res.status}`);
    }
    recordFigure('CSRF attacks tried', attempts, '>= 3 per route', attempts >= 3 * (Object.keys(forms).length + Object.keys(devForms).length + Object.keys(guestForms).length));
    recordFigure('CSRF attacks that changed data', changes, '0', changes === 0);
    expect(failures).toEqual([]);
  });

  test('when the same posts carry the right token from our own pages, then they work (the matrix is not vacuous)', async () => {
    // Every route of the matrix but sign-out (which changes only a session), in an order
    // where each still applies: the known issue is resolved last.
    const order = [
      'POST /tickets',
      'POST /tickets/:id/comments',
      // Alice may edit her ticket's text while nobody else has replied.
      'POST /tickets/:id/edit',
      'POST /known-issues/:id/me-too',
      'POST /known-issues/:id/updates',
      'POST /known-issues/:id/tickets',
      'POST /known-issues',
      'POST /admin/categories',
      'POST /admin/categories/:id',
      'POST /me/notifications',
      'POST /admin/mail/test',
      'POST /admin/teams',
      'POST /admin/teams/:id',
      'POST /admin/service-levels',
      'POST /admin/responses',
      'POST /admin/responses/:id',
      'POST /views',
      'POST /views/:id/delete',
      'POST /tickets/:id/attachments/:attachmentId/remove',
      'POST /tickets/bulk',
      'POST /tickets/:id',
      'POST /known-issues/:id',
      'POST /me/tokens',
      'POST /me/tokens/:id/revoke',
      'POST /admin/webhooks',
      'POST /admin/webhooks/:id/test',
      'POST /admin/webhooks/:id/secret',
      'POST /admin/webhooks/:id/deliveries/:delivery/retry',
      'POST /admin/webhooks/:id',
      'POST /admin/webhooks/:id/delete',
    ];
    // Revoked by alice above; an admin's revoke of an already revoked token changes nothing, so it is not in the order.
    expect(new Set([...order, 'POST /admin/tokens/:id/revoke'])).toEqual(new Set(Object.keys(forms).filter((r) => r !== 'POST /sign-out')));
    const failures: string[] = [];
    for (const route of order) {
      const { who, body } = forms[route];
      const path = route.split(' ')[1].replace(':id', '1').replace(':attachmentId', '1').replace(':delivery', '1');
      const page = path.startsWith('/known-issues') ? '/known-issues/1' : path.startsWith('/admin/mail') ? '/admin/mail' : path.startsWith('/admin') ? '/admin/categories' : path.startsWith('/me/tokens') ? '/me/tokens' : path.startsWith('/me') ? path : '/tickets/1';
      const before = await fingerprint(prod.database);
      // Forms that carry ticket 1's version carry the one it has now.
      const version = String(await versionOfTicket1());
      const current = route === 'POST /tickets/:id' || route === 'POST /tickets/:id/edit' ? { ...body, version } : route === 'POST /tickets/bulk' ? { ...body, ticket: `1:${version}` } : body;
      const res = await client(prod.app, who).post(path, current, { tokenFrom: page });
      // The bulk change answers with its result page; making a token or a webhook answers 201
      // with the page that shows its secret once, and a new secret 200; every other post redirects.
      const done = route === 'POST /tickets/bulk' || route === 'POST /admin/webhooks/:id/secret' ? 200 : route === 'POST /me/tokens' || route === 'POST /admin/webhooks' ? 201 : 303;
      if (res.status !== done || (await fingerprint(prod.database)) === before) failures.push(`${route}: ${res.status}`);
    }
    expect(failures).toEqual([]);
  });

  async function versionOfTicket1(): Promise<number> {
    return (await prod.database.db.selectFrom('tickets').select('version').where('id', '=', 1).executeTakeFirstOrThrow()).version;
  }
});
