import { createStaticDirectory } from '../../app/directory/static';
import { client, makeApp, type TestApp } from '../support/app';

describe('/admin/directory with the demo directory', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await makeApp({ env: { DESKSIDE_AGENTS: 'DEMO\\Helpdesk Agents', DESKSIDE_ADMINS: 'DEMO\\Deskside Admins, TEST\\admin1' }, directory: createStaticDirectory() });
  });
  afterAll(() => t.close());

  test('when an admin opens the page without a login, then the connection facts and the lookup form are shown', async () => {
    const res = await client(t.app, 'DEMO\\erin').get('/admin/directory');
    expect(res.status).toBe(200);
    expect(res.headers['cache-control']).toBe('no-store');
    expect(res.text).toContain('<form method="get" action="/admin/directory"');
    expect(res.text).toContain('static demo directory');
    expect(res.text).toMatch(/<code>DESKSIDE_ADMINS<\/code>: DEMO\\Deskside Admins · TEST\\admin1/);
  });

  test('when an admin looks up a nested agent, then roles, groups and the cache state before and after are shown', async () => {
    const erin = client(t.app, 'DEMO\\erin');
    const first = await erin.get('/admin/directory?login=demo%5Ccarol');
    expect(first.text).toContain('<code>DEMO\\carol</code>');
    expect(first.text).toMatch(/<td>DEMO\\Service Desk L1<\/td>\s*<td>Direct<\/td>/);
    expect(first.text).toMatch(/<td>DEMO\\Helpdesk Agents<\/td>\s*<td>Through another group<\/td>/);
    expect(first.text).toMatch(/role-agent">agent<\/span>/);
    expect(first.text).not.toMatch(/role-admin">admin<\/span>/);
    expect(first.text).toContain('Nothing cached for this login in this process.');
    const again = await erin.get('/admin/directory?login=DEMO%5Ccarol');
    expect(again.text).toMatch(/Cached \d+ s ago \(found\): fresh, used as is\./);
  });

  test('when a login only listed in the settings is looked up, then the role is traced to the login entry', async () => {
    const res = await client(t.app, 'DEMO\\erin').get('/admin/directory?login=TEST%5Cadmin1');
    expect(res.text).toContain('there is no user account for this login');
    expect(res.text).toMatch(/<code>DESKSIDE_ADMINS<\/code> lists the login <code>TEST\\admin1<\/code>/);
  });

  test('when the login field is empty or repeated, then a field error is shown with a 400', async () => {
    const erin = client(t.app, 'DEMO\\erin');
    const empty = await erin.get('/admin/directory?login=');
    expect(empty.status).toBe(400);
    expect(empty.text).toContain('<a href="#login">Enter a login, like CORP\\alice or alice@corp.example</a>');
    expect((await erin.get('/admin/directory?login=a&login=b')).status).toBe(400);
  });

  test('when a requester or agent asks, then 403; a guest gets the sign-in dance', async () => {
    expect((await client(t.app, 'DEMO\\alice').get('/admin/directory')).status).toBe(403);
    expect((await client(t.app, 'DEMO\\carol').get('/admin/directory?login=DEMO%5Cerin')).status).toBe(403);
    expect((await client(t.app).get('/admin/directory')).status).toBe(401);
  });
});

describe('/admin/directory with no directory', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await makeApp({ directory: null });
  });
  afterAll(() => t.close());

  test('when the directory is off, then the page says roles come from config logins and lookups still explain them', async () => {
    const res = await client(t.app, 'TEST\\admin1').get('/admin/directory?login=TEST%5Cagent1');
    expect(res.status).toBe(200);
    expect(res.text).toContain('No directory is configured');
    expect(res.text).toMatch(/<code>DESKSIDE_AGENTS<\/code> lists the login <code>TEST\\agent1<\/code>/);
  });
});
