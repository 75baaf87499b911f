import { api } from '../support/api';
import { client, makeApp, type TestApp } from '../support/app';

const tokenOn = (html: string): string => {
  const m = /id="new-token" class="token-value" value="(dsk_[A-Za-z0-9_-]{43})"/.exec(html);
  if (!m) throw new Error('no token on the page');
  return m[1];
};

describe('API tokens at /me/tokens and /admin/tokens', () => {
  let t: TestApp;
  beforeEach(async () => {
    t = await makeApp();
  });
  afterEach(() => t.close());

  test('when someone makes a token, then it is shown once, works at once, and only its hash is stored', async () => {
    const alice = client(t.app, 'TEST\\alice');
    const made = await alice.post('/me/tokens', { name: 'Nightly check', scope: 'read', days: '30' }, { tokenFrom: '/me/tokens' });
    expect(made.status).toBe(201);
    expect(made.headers['cache-control']).toBe('no-store');
    const token = tokenOn(made.text);
    expect(made.text).toContain('muted">never');
    expect((await api(t.app, { token }).get('/me')).body).toMatchObject({ login: 'TEST\\alice', via: 'token', token: { name: 'Nightly check', scope: 'read', role: 'requester' } });
    const again = await alice.get('/me/tokens');
    expect(again.text).not.toContain(token);
    expect(again.text).toContain('Nightly check');
    expect(again.text).toContain(token.slice(0, 8));
    const rows = await t.database.db.selectFrom('api_tokens').selectAll().execute();
    expect(rows).toHaveLength(1);
    expect(JSON.stringify(rows)).not.toContain(token);
    // Used once: the page says when.
    expect(again.text).not.toContain('muted">never');
  });

  test.each([
    ['no name', { name: '', scope: 'read', days: '30' }, 'name', 'Name the token'],
    ['no scope', { name: 'x', days: '30' }, 'scope', 'Choose what the token may do'],
    ['more than a year', { name: 'x', scope: 'read', days: '400' }, 'days', 'a year at most'],
    ['an agent role for a requester', { name: 'x', scope: 'read', days: '30', role: 'agent' }, 'role', 'Only agents can make a token that works with the queue'],
  ])('when the form has %s, then it comes back with the message beside the field and no token is made', async (_what, form, field, message) => {
    const alice = client(t.app, 'TEST\\alice');
    const res = await alice.post('/me/tokens', form, { tokenFrom: '/me/tokens' });
    expect(res.status).toBe(400);
    expect(res.text).toContain(`href="#${field}"`);
    expect(res.text).toContain(message);
    expect(await t.database.db.selectFrom('api_tokens').select('id').execute()).toEqual([]);
  });

  test('when an agent makes an agent token, then it works with the queue; a requester token of theirs does not', async () => {
    const agent = client(t.app, 'TEST\\agent1');
    const page = await agent.get('/me/tokens');
    expect(page.text).toContain('As an agent: the whole queue');
    const token = tokenOn((await agent.post('/me/tokens', { name: 'Queue report', scope: 'read', role: 'agent', days: '7' }, { tokenFrom: '/me/tokens' })).text);
    expect((await api(t.app, { token }).get('/people?q=a')).status).toBe(200);
  });

  test('when someone revokes their token, then it stops working; nobody else can revoke it from their page', async () => {
    const alice = client(t.app, 'TEST\\alice');
    const token = tokenOn((await alice.post('/me/tokens', { name: 'Old laptop', scope: 'read-write', days: '90' }, { tokenFrom: '/me/tokens' })).text);
    const id = (await t.database.db.selectFrom('api_tokens').select('id').executeTakeFirstOrThrow()).id;
    const bob = client(t.app, 'TEST\\bob');
    await bob.post(`/me/tokens/${id}/revoke`, {}, { tokenFrom: '/me/tokens' });
    expect((await api(t.app, { token }).get('/me')).status).toBe(200);
    const res = await alice.post(`/me/tokens/${id}/revoke`, {}, { tokenFrom: '/me/tokens' });
    expect(res.status).toBe(303);
    expect((await alice.get('/me/tokens?revoked=1')).text).toContain('The token was revoked');
    const refused = await api(t.app, { token }).get('/me');
    expect(refused.status).toBe(401);
    expect(refused.body.detail).toContain('revoked');
  });

  test('when an admin lists tokens, then everyone’s are there and any can be revoked; others may not look', async () => {
    const alice = client(t.app, 'TEST\\alice');
    const token = tokenOn((await alice.post('/me/tokens', { name: 'Backup job', scope: 'read', days: '30' }, { tokenFrom: '/me/tokens' })).text);
    expect((await client(t.app, 'TEST\\agent1').get('/admin/tokens')).status).toBe(403);
    expect((await client(t.app).get('/admin/tokens')).status).toBe(401);
    const admin = client(t.app, 'TEST\\admin1');
    const list = await admin.get('/admin/tokens');
    expect(list.status).toBe(200);
    expect(list.text).toContain('Backup job');
    expect(list.text).toContain('TEST\\alice');
    expect(list.text).not.toContain(token);
    const id = (await t.database.db.selectFrom('api_tokens').select('id').executeTakeFirstOrThrow()).id;
    expect((await admin.post(`/admin/tokens/${id}/revoke`, {}, { tokenFrom: '/admin/tokens' })).status).toBe(303);
    expect((await admin.get('/admin/tokens')).text).toMatch(/token-revoked[\s\S]*by TEST\\admin1/);
    expect((await api(t.app, { token }).get('/me')).status).toBe(401);
  });

  test('when a guest asks for /me/tokens, then they are asked to sign in', async () => {
    expect((await client(t.app).get('/me/tokens')).status).toBe(401);
  });
});
