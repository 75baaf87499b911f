import request from 'supertest';
import { NO_LISTENER } from '../../app/features/tickets/ticket-events';
import { insertNewTicket } from '../../app/features/tickets/tickets.service';
import { client, type TestApp } from '../support/app';
import { deskWithTeams } from '../support/teams-desk';

/**
 * The queue's team and service-level parts: the team filter (and "my teams"), the due
 * column with its words, sorting by due, the at-risk and past-due filters, saved views
 * using them, and the same list as CSV.
 */
const HOUR = 3600_000;
const MIN = 60_000;

describe('the queue by team and due time', () => {
  let t: TestApp;
  let ids: Record<string, number>;
  let teams: Record<string, number>;
  let alice: number;
  const agent = () => client(t.app, 'DEMO\\carol');

  beforeEach(async () => {
    ({ t, teams, alice } = await deskWithTeams());
    const cat = async (name: string) => (await t.database.db.selectFrom('categories').select('id').where('name', '=', name).executeTakeFirstOrThrow()).id;
    const raise = (title: string, category: number, priority: 'urgent' | 'low', agoMs: number) =>
      t.database.write((trx) => insertNewTicket(trx, 'sqlite', alice, { title, description: 'x', categoryId: category, priority }, new Date(Date.now() - agoMs).toISOString(), NO_LISTENER));
    const access = await cat('Accounts & access');
    const network = await cat('Network & VPN');
    ids = {
      late: await raise('=HYPERLINK("http://evil.example","Locked out")', access, 'urgent', 2 * HOUR),
      risky: await raise('VPN drops, every 10 minutes', network, 'urgent', 50 * MIN),
      fresh: await raise('Password expired', access, 'urgent', 0),
      calm: await raise('Printer "Floor 3" jams', await cat('Printing'), 'low', HOUR),
    };
  });
  afterEach(() => t.close());

  const listed = (html: string) => [...html.matchAll(/<td class="col-id">(\d+)<\/td>/g)].map((m) => Number(m[1]));

  test('when the queue is filtered by team, "my teams" or no team, then it lists those tickets; an unknown value is a 400', async () => {
    expect(listed((await agent().get(`/tickets?team=${teams.Network}`)).text)).toEqual([ids.risky]);
    expect(listed((await agent().get('/tickets?team=none&sort=id')).text)).toEqual([ids.calm]);
    // carol is in Service Desk L1 (First line's group); dan is listed on Network.
    expect(listed((await agent().get('/tickets?team=mine&sort=id')).text)).toEqual([ids.late, ids.fresh]);
    expect(listed((await client(t.app, 'DEMO\\dan').get('/tickets?team=mine')).text)).toEqual([ids.risky]);
    const bad = await agent().get('/tickets?team=everyone');
    expect(bad.status).toBe(400);
    expect(bad.text).toContain('team must be a team number from the list, &#34;mine&#34; or &#34;none&#34;');
    expect((await request(t.app).get('/tickets?team=mine')).status).toBe(401);
  });

  test('when the queue shows due times, then late and at-risk tickets say so in words, and sort=due puts the soonest first and tickets without one last', async () => {
    const page = await agent().get('/tickets?sort=due');
    expect(listed(page.text)).toEqual([ids.late, ids.risky, ids.fresh, ids.calm]);
    const row = (id: number) => new RegExp(`<tr class="due-([\\w-]+)">\\s*<td class="col-check"><input type="checkbox" name="ticket" value="${id}:`).exec(page.text)?.[1];
    expect([row(ids.late), row(ids.risky), row(ids.fresh), row(ids.calm)]).toEqual(['breached', 'at-risk', 'on-time', 'none']);
    expect(page.text).toContain('<span class="badge sla-breached">Past due</span>');
    expect(page.text).toContain('<span class="badge sla-at-risk">At risk</span>');
    expect(page.text).toMatch(/<th scope="col" class="col-due" aria-sort="ascending"><a href="\/tickets\?sort=-due">Due/);
    expect(listed((await agent().get('/tickets?sort=-due')).text)).toEqual([ids.calm, ids.fresh, ids.risky, ids.late]);
  });

  test('when the queue is filtered by service level, then past due and at risk each list theirs, with their counts', async () => {
    const late = await agent().get('/tickets?sla=breached');
    expect(listed(late.text)).toEqual([ids.late]);
    expect(late.text).toMatch(/of 1 ticket/);
    expect(listed((await agent().get('/tickets?sla=at-risk')).text)).toEqual([ids.risky]);
    expect(listed((await agent().get('/tickets?sla=breached&status=done')).text)).toEqual([]);
    expect((await agent().get('/tickets?sla=soon')).status).toBe(400);
    // Once the risky ticket is answered, it is no longer at risk of missing its first response.
    const carol = agent();
    expect((await carol.post(`/tickets/${ids.risky}/comments`, { body: 'Looking now' }, { tokenFrom: `/tickets/${ids.risky}` })).status).toBe(303);
    expect(listed((await agent().get('/tickets?sla=at-risk')).text)).toEqual([]);
  });

  test('when an agent saves a view of their teams past due, then it is a tab with its count', async () => {
    const carol = agent();
    expect((await carol.post('/views', { name: 'Mine, late', query: 'team=mine&sla=breached' }, { tokenFrom: '/tickets' })).status).toBe(303);
    const page = await carol.get('/tickets?team=mine&sla=breached');
    expect(page.text).toMatch(/<a href="\/tickets\?team=mine&amp;sla=breached" aria-current="page">Mine, late <span class="tab-count">1<\/span><\/a>/);
    expect(listed(page.text)).toEqual([ids.late]);
  });

  test('when the queue offers its list as CSV, then the download has every ticket of it in the same order, safely quoted, with a byte-order mark', async () => {
    const page = await agent().get('/tickets?sort=due&per=50');
    const link = /<a href="([^"]+)" download>Download these 4 tickets as CSV<\/a>/.exec(page.text);
    expect(link?.[1]).toBe('/tickets.csv?sort=due');
    const res = await agent()
      .get(link![1].replace(/&amp;/g, '&'))
      .buffer(true)
      .parse((r, cb) => {
        const parts: Buffer[] = [];
        r.on('data', (d: Buffer) => parts.push(d));
        r.on('end', () => cb(null, Buffer.concat(parts)));
      });
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe('text/csv; charset=utf-8');
    expect(res.headers['content-disposition']).toMatch(/^attachment; filename="tickets-\d{4}-\d\d-\d\d\.csv"$/);
    const text = (res.body as Buffer).toString('utf8');
    expect(text.charCodeAt(0)).toBe(0xfeff);
    const lines = text.slice(1).split('\r\n');
    expect(lines[0]).toBe('Number,Title,Status,Priority,Category,Team,Requester,Requester login,Assignee,Assignee login,Created (UTC),Updated (UTC),Due (UTC),Due for,Service level');
    expect(lines.slice(1, -1).map((l) => Number(l.split(',')[0]))).toEqual([ids.late, ids.risky, ids.fresh, ids.calm]);
    // A title that would run as a formula stays text; quotes are doubled inside quotes.
    expect(lines[1]).toMatch(new RegExp(`^${ids.late},"'=HYPERLINK\\(""http://evil.example"",""Locked out""\\)",New,urgent,Accounts & access,First line,Alice Anders,DEMO\\\\alice,,,[\\dT:.Z-]+,[\\dT:.Z-]+,[\\dT:.Z-]+,first response,Past due$`));
    expect(lines[4]).toMatch(/,"Printer ""Floor 3"" jams",New,low,Printing,,Alice Anders,.*,,,$/);
    expect(lines.at(-1)).toBe('');
  });

  test('when a requester or a guest asks for the CSV, then they get their own tickets only, or the sign-in dance', async () => {
    expect((await request(t.app).get('/tickets.csv')).status).toBe(401);
    const mine = await client(t.app, 'DEMO\\alice').get('/tickets.csv');
    expect(mine.status).toBe(200);
    const lines = mine.text.replace(/^\uFEFF/, '').trim().split('\r\n');
    expect(lines[0]).toBe('Number,Title,Status,Priority,Category,Requester,Requester login,Assignee,Assignee login,Created (UTC),Updated (UTC)');
    expect(lines).toHaveLength(5);
    expect((await client(t.app, 'DEMO\\bob').get('/tickets.csv')).text.replace(/^\uFEFF/, '').trim().split('\r\n')).toHaveLength(1);
    expect((await agent().get('/tickets.csv?sort=sideways')).status).toBe(400);
  });

  test('when the dashboard links into the queue, then each link lists the tickets its number counts', async () => {
    const dash = (await agent().get('/dashboard')).text;
    const href = new RegExp(`<a href="(/tickets\\?team=${teams['First line']}&amp;priority=urgent)">2</a>`).exec(dash)?.[1];
    expect(href).toBeDefined();
    expect(listed((await agent().get(href!.replace(/&amp;/g, '&'))).text).sort()).toEqual([ids.late, ids.fresh].sort());
  });

  test('when an agent opens a ticket from the queue sorted by due, then previous and next follow that order', async () => {
    const page = await agent().get(`/tickets/${ids.risky}?from=${encodeURIComponent('sort=due')}`);
    expect(page.text).toMatch(new RegExp(`href="/tickets/${ids.late}\\?from=sort%3Ddue&amp;pos=\\d+\\.4\\.\\d+"[^>]*rel="prev"|rel="prev"[^>]*href="/tickets/${ids.late}\\?`));
    expect(page.text).toMatch(new RegExp(`/tickets/${ids.fresh}\\?from=sort%3Ddue&amp;pos=\\d+\\.4\\.\\d+`));
  });
});
