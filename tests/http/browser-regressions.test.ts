import { client, csrfFrom, makeApp, type TestApp } from '../support/app';

/**
 * Bugs the real-browser suite (tests/browser) found; each pinned here at the HTTP level
 * so it stays fixed even where Chromium is not installed.
 */
describe('what real browsers exposed', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await makeApp();
  });
  afterAll(() => t.close());

  test('when a page is served, then its Referrer-Policy still lets the browser name our origin on form posts', async () => {
    // Under "no-referrer" Chromium sends `Origin: null` with every form post, which the
    // CSRF origin check (rightly) refuses: no form in the site worked in a browser.
    const res = await client(t.app, 'TEST\\alice').get('/');
    expect(res.headers['referrer-policy']).toBe('same-origin');
  });

  test('when a form post carries a wrong token, then the 403 is the site page with its header, not plain text', async () => {
    const alice = client(t.app, 'TEST\\alice');
    const res = await alice.post('/tickets', { title: 'x', description: 'y' }, { token: 'not-the-token' });
    expect(res.status).toBe(403);
    expect(res.headers['content-type']).toMatch(/text\/html/);
    expect(res.text).toContain('Signed in as');
    expect(res.text).toContain('did not come from Deskside');
  });

  test('when a request carries the identity header twice, then the 400 is still a page in the site look', async () => {
    const res = await client(t.app).agent.get('/').set('X-Remote-User', ['TEST\\a', 'TEST\\b'] as unknown as string); // an array sends two header lines
    expect(res.status).toBe(400);
    expect(res.headers['content-type']).toMatch(/text\/html/);
    expect(res.text).toContain('Browsing as a guest');
    expect(res.text).toContain('cannot be genuine');
  });

  test('when the second of two agents re-applies after a conflict, then only what they changed is applied and the first agent’s change stays', async () => {
    const bob = client(t.app, 'TEST\\bob');
    const created = await bob.post('/tickets', { title: 'Printer jams', description: 'Tray 2.', category: '1', priority: 'normal' });
    const id = /\/tickets\/(\d+)/.exec(created.headers.location)![1];
    const agent1 = client(t.app, 'TEST\\agent1');
    const agent2 = client(t.app, 'TEST\\agent2');
    const page1 = await agent1.get(`/tickets/${id}`);
    const version = /name="version" value="(\d+)"/.exec(page1.text)![1];
    const full = { version, status: 'new', priority: 'normal', category: '1', assignee: 'none' };

    expect((await agent2.post(`/tickets/${id}`, { ...full, priority: 'high' }, { tokenFrom: `/tickets/${id}` })).status).toBe(303);
    // agent1's form still shows priority "normal": the browser posts every field.
    const conflict = await agent1.post(`/tickets/${id}`, { ...full, status: 'pending' }, { token: csrfFrom(page1.text) });
    expect(conflict.status).toBe(409);
    const hidden = Object.fromEntries([...conflict.text.matchAll(/<input type="hidden" name="(\w+)" value="([^"]*)">/g)].map((m) => [m[1], m[2]]));
    expect(hidden).toEqual({ _csrf: expect.any(String), version: expect.any(String), status: 'pending' });

    const { _csrf, ...again } = hidden;
    expect((await agent1.post(`/tickets/${id}`, again, { token: _csrf })).status).toBe(303);
    const after = await agent1.get(`/tickets/${id}`);
    expect(after.text).toMatch(/class="badge status-pending"/);
    expect(after.text).toMatch(/class="badge priority-high"/);
  });

  test('when an agent saves a stale form without changing anything, then the conflict page offers nothing to re-apply', async () => {
    const bob = client(t.app, 'TEST\\bob');
    const created = await bob.post('/tickets', { title: 'Scanner offline', description: 'Floor 2.', category: '1', priority: 'normal' });
    const id = /\/tickets\/(\d+)/.exec(created.headers.location)![1];
    const agent1 = client(t.app, 'TEST\\agent1');
    const page1 = await agent1.get(`/tickets/${id}`);
    const version = /name="version" value="(\d+)"/.exec(page1.text)![1];
    const full = { version, status: 'new', priority: 'normal', category: '1', assignee: 'none' };
    expect((await client(t.app, 'TEST\\agent2').post(`/tickets/${id}`, { ...full, priority: 'urgent' }, { tokenFrom: `/tickets/${id}` })).status).toBe(303);

    const conflict = await agent1.post(`/tickets/${id}`, full, { token: csrfFrom(page1.text) });
    expect(conflict.status).toBe(409);
    expect(conflict.text).toContain('nothing of yours to apply');
    expect(conflict.text).not.toContain('Apply my changes anyway');
  });
});
