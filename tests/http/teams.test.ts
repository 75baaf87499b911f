import request from 'supertest';
import { createStaticDirectory } from '../../app/directory/static';
import { client, makeApp, type TestApp } from '../support/app';

const categoryId = async (t: TestApp, name: string) => (await t.database.db.selectFrom('categories').select('id').where('name', '=', name).executeTakeFirstOrThrow()).id;
const teamId = async (t: TestApp, name: string) => (await t.database.db.selectFrom('teams').select('id').where('name', '=', name).executeTakeFirstOrThrow()).id;
const ticketRow = (t: TestApp, id: number) => t.database.db.selectFrom('tickets').select(['team_id', 'assignee_id', 'version']).where('id', '=', id).executeTakeFirstOrThrow();
const idOf = (location: string) => Number(/\/tickets\/(\d+)/.exec(location)![1]);

describe('teams without a directory (members by login)', () => {
  let t: TestApp;
  beforeEach(async () => {
    t = await makeApp({ directory: null });
  });
  afterEach(() => t.close());

  test('when a guest, a requester or an agent asks for the teams page, then only admins get in', async () => {
    expect((await request(t.app).get('/admin/teams')).status).toBe(401);
    expect((await client(t.app, 'TEST\\alice').get('/admin/teams')).status).toBe(403);
    expect((await client(t.app, 'TEST\\agent1').get('/admin/teams')).status).toBe(403);
    expect((await client(t.app, 'TEST\\agent1').post('/admin/teams', { name: 'Sneaky' })).status).toBe(403);
    const page = await client(t.app, 'TEST\\admin1').get('/admin/teams');
    expect(page.status).toBe(200);
    expect(page.text).toContain('No teams yet');
    expect(page.text).toContain('Deskside has no directory configured, so list the members by login below.');
  });

  test('when an admin adds a team with logins, then it is listed, and its members show whether they have signed in', async () => {
    await client(t.app, 'TEST\\agent1').get('/');
    const admin = client(t.app, 'TEST\\admin1');
    const res = await admin.post('/admin/teams', { name: '  Network   team ', description: 'Wi-Fi and VPN', members: 'TEST\\agent1\r\n  test\\Agent2 \nTEST\\agent1\n\nnewbie@test.example', active: 'on' });
    expect(res.status).toBe(303);
    const id = await teamId(t, 'Network team');
    expect(res.headers.location).toBe(`/admin/teams/${id}?saved=1`);
    const members = await t.database.db.selectFrom('team_members').select(['login', 'login_key']).where('team_id', '=', id).orderBy('login_key').execute();
    expect(members).toEqual([
      { login: 'newbie@test.example', login_key: 'newbie@test.example' },
      { login: 'TEST\\agent1', login_key: 'test\\agent1' },
      { login: 'TEST\\Agent2', login_key: 'test\\agent2' },
    ]);
    const page = await admin.get(res.headers.location);
    expect(page.text).toContain('Team saved.');
    expect(page.text).toMatch(/TEST\\agent1[\s\S]*listed login[\s\S]*Agent/);
    expect(page.text).toContain('Not signed in yet');
    expect((await admin.get('/admin/teams')).text).toContain('Network team');
  });

  test('when the form is wrong, then each field says why, the summary links to it, and nothing is saved', async () => {
    const admin = client(t.app, 'TEST\\admin1');
    await admin.post('/admin/teams', { name: 'Network' });
    const res = await admin.post('/admin/teams', { name: 'network', description: 'x'.repeat(401), directoryGroup: 'CORP\\Network Team', members: 'TEST\\ok\nnot a login\nalso bad' });
    expect(res.status).toBe(400);
    expect(res.text).toContain('<a href="#name">There is already a team called “Network”</a>');
    expect(res.text).toContain('<a href="#description">Keep the description to 400 characters or fewer</a>');
    expect(res.text).toContain('<a href="#directoryGroup">Deskside has no directory to read groups from; list the members by login instead</a>');
    expect(res.text).toContain('“not a login”, “also bad” are not logins');
    expect(res.text).toContain('id="members"');
    // What they typed comes back.
    expect(res.text).toContain('TEST\\ok\nnot a login\nalso bad</textarea>');
    expect(await t.database.db.selectFrom('teams').select('name').execute()).toEqual([{ name: 'Network' }]);
    const empty = await admin.post('/admin/teams', { name: '' });
    expect(empty.text).toContain('<a href="#name">Enter a name for the team</a>');
  });

  test('when two admins save the same team, then the second is told and nothing of theirs is written', async () => {
    const admin = client(t.app, 'TEST\\admin1');
    await admin.post('/admin/teams', { name: 'Network', active: 'on' });
    const id = await teamId(t, 'Network');
    expect((await admin.post(`/admin/teams/${id}`, { name: 'Networks', version: '1', active: 'on' })).status).toBe(303);
    const stale = await admin.post(`/admin/teams/${id}`, { name: 'Net', version: '1', active: 'on' });
    expect(stale.status).toBe(409);
    expect(stale.text).toContain('Someone else changed this team after you opened it');
    expect(stale.text).toContain('value="Networks"');
    expect((await t.database.db.selectFrom('teams').select('name').executeTakeFirstOrThrow()).name).toBe('Networks');
    expect((await admin.post('/admin/teams/999', { name: 'X', version: '1' })).status).toBe(404);
    expect((await admin.get('/admin/teams/abc')).status).toBe(404);
  });

  test('when a category routes to a team, then new tickets in it get the team, a retired team gets none, and the ticket page shows it', async () => {
    const admin = client(t.app, 'TEST\\admin1');
    await admin.post('/admin/teams', { name: 'Desktop support', active: 'on' });
    const team = await teamId(t, 'Desktop support');
    const printing = await categoryId(t, 'Printing');
    const bad = await admin.post(`/admin/categories/${printing}`, { name: 'Printing', sortOrder: '60', active: 'on', defaultTeam: '999' });
    expect(bad.status).toBe(400);
    expect(bad.text).toContain(`<a href="#cat-${printing}-team">Choose one of the listed teams</a>`);
    expect((await admin.post(`/admin/categories/${printing}`, { name: 'Printing', sortOrder: '60', active: 'on', defaultTeam: String(team) })).status).toBe(303);
    const alice = client(t.app, 'TEST\\alice');
    const raised = await alice.post('/tickets', { title: 'Paper jam', description: 'Tray 2', category: String(printing), priority: 'low' });
    const id = idOf(raised.headers.location);
    expect((await ticketRow(t, id)).team_id).toBe(team);
    const page = await client(t.app, 'TEST\\agent1').get(`/tickets/${id}`);
    expect(page.text).toMatch(/<dt>Team<\/dt><dd>Desktop support<\/dd>/);
    // The requester is not told which team works on it.
    expect((await alice.get(`/tickets/${id}`)).text).not.toContain('<dt>Team</dt>');
    await admin.post(`/admin/teams/${team}`, { name: 'Desktop support', version: '1' });
    const later = await alice.post('/tickets', { title: 'Another jam', description: 'Tray 1', category: String(printing), priority: 'low' });
    expect((await ticketRow(t, idOf(later.headers.location))).team_id).toBeNull();
  });

  test('when an agent moves a ticket to another team, then it is an event, an unknown team is a field error, and a stale form is a 409 naming the team', async () => {
    const admin = client(t.app, 'TEST\\admin1');
    await admin.post('/admin/teams', { name: 'Service desk', active: 'on' });
    await admin.post('/admin/teams', { name: 'Network', active: 'on' });
    const network = await teamId(t, 'Network');
    const desk = await teamId(t, 'Service desk');
    const raised = await client(t.app, 'TEST\\alice').post('/tickets', { title: 'VPN drops', description: 'Every ten minutes', category: '5', priority: 'normal' });
    const id = idOf(raised.headers.location);
    const agent = client(t.app, 'TEST\\agent1');
    const bad = await agent.post(`/tickets/${id}`, { version: '1', team: '999' });
    expect(bad.status).toBe(400);
    expect(bad.text).toContain('Choose one of the listed teams');
    expect((await agent.post(`/tickets/${id}`, { version: '1', team: String(network) })).status).toBe(303);
    expect((await ticketRow(t, id)).team_id).toBe(network);
    const page = await agent.get(`/tickets/${id}`);
    expect(page.text).toMatch(/gave it to the <strong>Network<\/strong> team/);
    const events = await t.database.db.selectFrom('ticket_events').select(['kind', 'from_value', 'to_value']).where('ticket_id', '=', id).where('kind', '=', 'team').execute();
    expect(events).toEqual([{ kind: 'team', from_value: null, to_value: String(network) }]);
    // agent2 still has version 1 on their screen.
    const stale = await client(t.app, 'TEST\\agent2').post(`/tickets/${id}`, { version: '1', team: String(desk), status: 'new', priority: 'normal', category: '5', assignee: 'none' });
    expect(stale.status).toBe(409);
    expect(stale.text).toMatch(/<th scope="row">Team<\/th>\s*<td>Network<\/td>\s*<td>Service desk/);
    expect((await ticketRow(t, id)).team_id).toBe(network);
  });
});

describe('teams from directory groups (the demo directory)', () => {
  let t: TestApp;
  beforeEach(async () => {
    t = await makeApp({ env: { DESKSIDE_AGENTS: 'DEMO\\Helpdesk Agents', DESKSIDE_ADMINS: 'DEMO\\Deskside Admins' }, directory: createStaticDirectory() });
  });
  afterEach(() => t.close());

  test('when a team names a group, then its members include people in nested groups, and a group the directory lacks is a field error', async () => {
    const admin = client(t.app, 'DEMO\\erin');
    const missing = await admin.post('/admin/teams', { name: 'Ghosts', directoryGroup: 'DEMO\\No Such Group' });
    expect(missing.status).toBe(400);
    expect(missing.text).toContain('The directory has no group “DEMO\\No Such Group”');
    const other = await admin.post('/admin/teams', { name: 'Ghosts', directoryGroup: 'LAB\\Helpdesk Agents' });
    expect(other.text).toContain('The directory has no group “LAB\\Helpdesk Agents”');
    const res = await admin.post('/admin/teams', { name: 'Helpdesk', directoryGroup: 'DEMO\\Helpdesk Agents', members: 'DEMO\\alice', active: 'on' });
    expect(res.status).toBe(303);
    await client(t.app, 'DEMO\\carol').get('/');
    const page = await admin.get(res.headers.location);
    // carol through Service Desk L1, erin through IT Operations, dan directly; alice listed.
    for (const name of ['Carol Chen', 'Dan Dubois', 'Erin Ellis', 'DEMO\\alice']) expect(page.text).toContain(name);
    expect(page.text).not.toContain('Bob Brennan');
    expect(page.text).toMatch(/Carol Chen[\s\S]*?the group[\s\S]*?Agent/);
    // By distinguished name, too.
    const byDn = await admin.post('/admin/teams', { name: 'First line', directoryGroup: 'CN=Service Desk L1,OU=Groups,DC=demo,DC=example', active: 'on' });
    expect(byDn.status).toBe(303);
    const first = await admin.get(byDn.headers.location);
    expect(first.text).toContain('Carol Chen');
    expect(first.text).not.toContain('Dan Dubois');
  });

  test('when a ticket belongs to a team, then the assignee list offers the team’s agents first, then everyone else', async () => {
    for (const who of ['DEMO\\carol', 'DEMO\\dan', 'DEMO\\erin']) await client(t.app, who).get('/');
    const admin = client(t.app, 'DEMO\\erin');
    await admin.post('/admin/teams', { name: 'First line', directoryGroup: 'DEMO\\Service Desk L1', active: 'on' });
    const team = await teamId(t, 'First line');
    const raised = await client(t.app, 'DEMO\\alice').post('/tickets', { title: 'Password expired', description: 'On holiday', category: '3', priority: 'high' });
    const id = idOf(raised.headers.location);
    const dan = client(t.app, 'DEMO\\dan');
    const before = await dan.get(`/tickets/${id}`);
    expect(before.text).not.toContain('<optgroup');
    expect((await dan.post(`/tickets/${id}`, { version: '1', team: String(team) })).status).toBe(303);
    const after = await dan.get(`/tickets/${id}`);
    const select = /<select id="assignee"[\s\S]*?<\/select>/.exec(after.text)![0];
    expect(select).toMatch(/<optgroup label="First line team"><option value="\d+" >Carol Chen<\/option><\/optgroup>\s*<optgroup label="Other agents">.*Dan Dubois \(me\).*Erin Ellis.*<\/optgroup>/s);
  });
});
