import request from 'supertest';
import { seedTickets } from '../../app/features/demo/generator';
import { client, makeApp, type TestApp } from '../support/app';
import { keptTotals, recountTotals } from '../support/totals';

const idOf = (location: string) => /\/tickets\/(\d+)/.exec(location)![1];

/** The rows of one figure's table, as text cells. */
function tableOf(html: string, id: string): string[][] {
  const fig = new RegExp(`<figure[^>]*id="${id}"[\\s\\S]*?</figure>`).exec(html)![0];
  const body = /<tbody>([\s\S]*?)<\/tbody>/.exec(fig)![1];
  return [...body.matchAll(/<tr>([\s\S]*?)<\/tr>/g)].map((r) => [...r[1].matchAll(/<t[hd][^>]*>([\s\S]*?)<\/t[hd]>/g)].map((c) => c[1].replace(/<[^>]+>/g, '').trim()));
}

describe('the dashboard', () => {
  let t: TestApp;
  beforeEach(async () => {
    t = await makeApp();
  });
  afterEach(() => t.close());

  test('when a guest or a requester asks, then they are refused; agents and admins see it, linked from the header', async () => {
    expect((await request(t.app).get('/dashboard')).status).toBe(401);
    expect((await client(t.app, 'TEST\\alice').get('/dashboard')).status).toBe(403);
    expect((await client(t.app, 'TEST\\alice').get('/dashboard/backlog.csv')).status).toBe(403);
    expect((await client(t.app, 'TEST\\alice').get('/')).text).not.toContain('href="/dashboard"');
    const page = await client(t.app, 'TEST\\agent1').get('/dashboard');
    expect(page.status).toBe(200);
    expect(page.text).toContain('<a href="/dashboard" aria-current="page">Dashboard</a>');
    expect(page.text).toContain('No tickets are open.');
    expect((await client(t.app, 'TEST\\admin1').get('/dashboard')).status).toBe(200);
  });

  test('when tickets are raised, assigned, moved and resolved, then each figure counts them, says so in a sentence and links into the queue', async () => {
    const admin = client(t.app, 'TEST\\admin1');
    await admin.post('/admin/teams', { name: 'Network', active: 'on' });
    const network = (await t.database.db.selectFrom('teams').select('id').executeTakeFirstOrThrow()).id;
    await admin.post('/admin/categories/5', { name: 'Network & VPN', sortOrder: '50', active: 'on', defaultTeam: String(network) });
    const alice = client(t.app, 'TEST\\alice');
    const vpn = idOf((await alice.post('/tickets', { title: 'VPN drops', description: 'x', category: '5', priority: 'urgent' })).headers.location);
    const wifi = idOf((await alice.post('/tickets', { title: 'Wi-Fi slow', description: 'x', category: '5', priority: 'normal' })).headers.location);
    const toner = idOf((await alice.post('/tickets', { title: 'Toner', description: 'x', category: '6', priority: 'low' })).headers.location);
    const agent = client(t.app, 'TEST\\agent1');
    await agent.get('/');
    const agentId = (await t.database.db.selectFrom('people').select('id').where('login_key', '=', 'test\\agent1').executeTakeFirstOrThrow()).id;
    expect((await agent.post(`/tickets/${vpn}`, { version: '1', assignee: String(agentId) })).status).toBe(303);
    expect((await agent.post(`/tickets/${toner}`, { version: '1', status: 'resolved' })).status).toBe(303);
    expect((await agent.post(`/tickets/${wifi}`, { version: '1', team: 'none' })).status).toBe(303);

    const page = (await agent.get('/dashboard')).text;
    const today = new Date().toISOString().slice(0, 10);
    expect(tableOf(page, 'days-30').at(-1)).toEqual([today, '3', '1']);
    expect(tableOf(page, 'backlog')).toEqual([
      ['Network', '1', '0', '0', '0', '1'],
      ['No team', '0', '0', '1', '0', '1'],
    ]);
    expect(page).toContain('2 tickets are open, 1 of them urgent.');
    expect(page).toContain(`<a href="/tickets?team=${network}&amp;priority=urgent">1</a>`);
    expect(tableOf(page, 'load')).toEqual([
      ['TEST\\agent1', '1', '0', '0', '0', '1'],
      ['Nobody (unassigned)', '', '', '', '', '1'],
    ]);
    expect(page).toContain('<a href="/tickets?assignee=TEST%5Cagent1&amp;priority=urgent">1</a>');
    expect(tableOf(page, 'age')[0]).toEqual(['Under a day', '2']);
    // Every chart is a picture for the mouse: hidden from assistive technology, its links out of the tab order.
    expect(page).toMatch(/<svg class="chart chart-bars"[^>]*aria-hidden="true" focusable="false"/);
    for (const a of page.matchAll(/<svg[\s\S]*?<\/svg>/g)) expect(a[0]).not.toMatch(/<a href="[^"]*">/);
    expect(await keptTotals(t.database)).toEqual(await recountTotals(t.database));
  });

  test('when a figure is downloaded, then it is CSV with a byte-order mark, CRLF lines and its table’s numbers', async () => {
    const alice = client(t.app, 'TEST\\alice');
    await alice.post('/tickets', { title: 'VPN drops', description: 'x', category: '5', priority: 'urgent' });
    const res = await client(t.app, 'TEST\\agent1').get('/dashboard/backlog.csv').buffer(true).parse((r, cb) => {
      const parts: Buffer[] = [];
      r.on('data', (d: Buffer) => parts.push(d));
      r.on('end', () => cb(null, Buffer.concat(parts)));
    });
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe('text/csv; charset=utf-8');
    expect(res.headers['content-disposition']).toMatch(/^attachment; filename="deskside-backlog-\d{4}-\d\d-\d\d\.csv"$/);
    const body = res.body as Buffer;
    expect([...body.subarray(0, 3)]).toEqual([0xef, 0xbb, 0xbf]);
    expect(body.subarray(3).toString('utf8')).toBe('Team,Urgent,High,Normal,Low,Total\r\nNo team,1,0,0,0,1\r\n');
    expect((await client(t.app, 'TEST\\agent1').get('/dashboard/nothing.csv')).status).toBe(404);
    expect((await client(t.app, 'TEST\\agent1').get('/dashboard/backlog.xls')).status).toBe(404);
  });

  test('when the seeder fills a database, then its running totals equal a count from scratch', async () => {
    await seedTickets(t.database, { tickets: 400, seed: 7, generatedPeople: 30, days: 60 });
    const kept = await keptTotals(t.database);
    expect(kept).toEqual(await recountTotals(t.database));
    expect(Object.keys(kept.months).length).toBeGreaterThan(0);
    const page = (await client(t.app, 'TEST\\agent1').get('/dashboard')).text;
    expect(tableOf(page, 'backlog').map((r) => r[0])).toEqual(['Desktop support', 'Network', 'Service desk']);
  });
});
