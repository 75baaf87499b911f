import { NO_LISTENER } from '../../app/features/tickets/ticket-events';
import { insertNewTicket } from '../../app/features/tickets/tickets.service';
import { api } from '../support/api';
import { client, type TestApp } from '../support/app';
import { deskWithTeams } from '../support/teams-desk';

/**
 * The API and the workbench and teams: the queue's team, service-level and due-time
 * filters and sorts (paged by cursor), raising a ticket for a caller by phone, text and
 * team changes in one PATCH, a reply that resolves, people from the directory, and a
 * webhook limited to one team. People from the demo directory: DEMO\alice and DEMO\bob
 * (requesters), DEMO\carol (agent, in Service Desk L1), DEMO\dan (agent), DEMO\erin (admin).
 */
const HOUR = 3600_000;
const MIN = 60_000;
const CAROL = 'DEMO\\carol';
const ALICE = 'DEMO\\alice';

describe('the API with teams, service levels and the workbench', () => {
  let t: TestApp;
  let ids: Record<string, number>;
  let teams: Record<string, number>;
  let categories: Record<string, number>;
  const carol = () => api(t.app, { login: CAROL });
  const alice = () => api(t.app, { login: ALICE });
  const local = (url: string) => url.replace(/^https?:\/\/[^/]+\/api\/v1/, '');

  beforeEach(async () => {
    let aliceId: number;
    ({ t, teams, alice: aliceId } = await deskWithTeams());
    categories = Object.fromEntries((await t.database.db.selectFrom('categories').select(['id', 'name']).execute()).map((r) => [r.name, r.id]));
    const raise = (title: string, category: string, priority: 'urgent' | 'low', agoMs: number) =>
      t.database.write((trx) => insertNewTicket(trx, 'sqlite', aliceId, { title, description: 'x', categoryId: categories[category], priority }, new Date(Date.now() - agoMs).toISOString(), NO_LISTENER));
    ids = {
      late: await raise('Locked out', 'Accounts & access', 'urgent', 2 * HOUR),
      risky: await raise('VPN drops, every 10 minutes', 'Network & VPN', 'urgent', 50 * MIN),
      fresh: await raise('Password expired', 'Accounts & access', 'urgent', 0),
      calm: await raise('Printer "Floor 3" jams', 'Printing', 'low', HOUR),
    };
  });
  afterEach(() => t.close());

  const idsOf = (body: { items: { id: number }[] }) => body.items.map((i) => i.id);

  /** Every ticket of a list, one page of `limit` at a time through `next`. */
  async function walk(url: string): Promise<number[]> {
    const out: number[] = [];
    let next: string | null = url;
    while (next) {
      const res = await carol().get(next);
      expect(res.status).toBe(200);
      out.push(...idsOf(res.body));
      next = res.body.next ? local(res.body.next as string) : null;
    }
    return out;
  }

  test('when the list is sorted by due time and read a ticket at a time, then the cursor keeps the queue’s order: soonest first, none last, and back again', async () => {
    expect(await walk('/tickets?sort=due&limit=1')).toEqual([ids.late, ids.risky, ids.fresh, ids.calm]);
    expect(await walk('/tickets?sort=-due&limit=1')).toEqual([ids.calm, ids.fresh, ids.risky, ids.late]);
    expect(await walk('/tickets?sort=-priority&limit=3')).toEqual(idsOf((await carol().get('/tickets?sort=-priority&limit=100')).body));
  });

  test('when the list is filtered by team or service level, then it is the queue’s filter, and agents see each ticket’s team', async () => {
    expect(idsOf((await carol().get(`/tickets?team=${teams.Network}`)).body)).toEqual([ids.risky]);
    expect(idsOf((await carol().get('/tickets?team=none')).body)).toEqual([ids.calm]);
    // carol is in Service Desk L1, First line's group.
    expect(idsOf((await carol().get('/tickets?team=mine&sort=id')).body)).toEqual([ids.late, ids.fresh]);
    expect(idsOf((await carol().get('/tickets?sla=breached')).body)).toEqual([ids.late]);
    expect(idsOf((await carol().get('/tickets?sla=at-risk')).body)).toEqual([ids.risky]);
    const one = (await carol().get(`/tickets?team=${teams.Network}`)).body.items[0];
    expect(one.team).toEqual({ id: teams.Network, name: 'Network' });
    const bad = await carol().get('/tickets?team=everyone');
    expect(bad.status).toBe(400);
    expect(bad.body.detail).toContain('team must be a team number from the list');
    // Requesters see their own tickets without the team, as on the ticket page.
    const own = await alice().get('/tickets');
    expect(own.body.items).toHaveLength(4);
    expect(own.body.items[0]).not.toHaveProperty('team');
    expect((await alice().get(`/tickets/${ids.risky}`)).body).not.toHaveProperty('team');
  });

  test('when an agent raises a ticket for a caller by phone, then it is the caller’s, says how it came, and e-mail is left to the mailbox', async () => {
    const res = await carol().post('/tickets', { title: 'Monitor flickers', description: 'Since the move', category: categories.Hardware, requester: 'DEMO\\bob', channel: 'phone' });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ requester: { login: 'DEMO\\bob' }, channel: 'phone' });
    expect(res.body.timeline[0]).toMatchObject({ kind: 'created', actor: { login: CAROL }, to: 'phone' });
    const byName = await carol().post('/tickets', { title: 'Walked up about a badge', description: 'Lost it', category: categories.Hardware, requester: 'Bob Brennan', channel: 'walk-in' });
    expect(byName.body).toMatchObject({ requester: { login: 'DEMO\\bob' }, channel: 'walk-in' });
    const email = await carol().post('/tickets', { title: 'x', description: 'y', category: categories.Hardware, channel: 'email' });
    expect(email.status).toBe(422);
    expect(email.body.errors).toEqual([expect.objectContaining({ pointer: '/channel' })]);
    const nobody = await carol().post('/tickets', { title: 'x', description: 'y', category: categories.Hardware, requester: 'DEMO\\nobody' });
    expect(nobody.status).toBe(422);
    expect(nobody.body.errors).toEqual([expect.objectContaining({ pointer: '/requester' })]);
    // A name that fits several people: the answer names their logins, to send one of them.
    const several = await carol().post('/tickets', { title: 'x', description: 'y', category: categories.Hardware, requester: 'an' });
    expect(several.status).toBe(422);
    expect(several.body.errors).toEqual([expect.objectContaining({ pointer: '/requester', detail: expect.stringMatching(/choose one: DEMO\\\w+, DEMO\\\w+/) })]);
    // A requester raises only their own, from the web.
    const forged = await alice().post('/tickets', { title: 'x', description: 'y', category: categories.Hardware, requester: 'DEMO\\bob' });
    expect(forged.status).toBe(403);
    expect((await alice().post('/tickets', { title: 'x', description: 'y', category: categories.Hardware, channel: 'phone' })).status).toBe(403);
    const mine = await alice().post('/tickets', { title: 'Mine', description: 'y', category: categories.Hardware });
    expect(mine.body).toMatchObject({ requester: { login: ALICE }, channel: 'web' });
  });

  test('when an agent changes the team and the title in one PATCH, then both are one change at one version, with an event each', async () => {
    const before = await carol().get(`/tickets/${ids.calm}`);
    const res = await carol().patch(`/tickets/${ids.calm}`, { team: teams.Network, title: 'Printer on floor 3 jams' }, { headers: { 'If-Match': before.headers.etag } });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ title: 'Printer on floor 3 jams', team: { id: teams.Network, name: 'Network' }, version: before.body.version + 1 });
    const kinds = res.body.timeline.slice(-2);
    expect(kinds).toEqual([
      expect.objectContaining({ kind: 'team', from: null, to: { id: teams.Network, name: 'Network' } }),
      expect.objectContaining({ kind: 'title', from: 'Printer "Floor 3" jams', to: 'Printer on floor 3 jams' }),
    ]);
    const unknown = await carol().patch(`/tickets/${ids.calm}`, { team: 999 }, { headers: { 'If-Match': res.headers.etag } });
    expect(unknown.status).toBe(422);
    expect(unknown.body.errors).toEqual([expect.objectContaining({ pointer: '/team' })]);
    const none = await carol().patch(`/tickets/${ids.calm}`, { team: null, description: '' }, { headers: { 'If-Match': res.headers.etag } });
    expect(none.status).toBe(422);
    expect(none.body.errors).toEqual([expect.objectContaining({ pointer: '/description' })]);
    expect((await carol().get(`/tickets/${ids.calm}`)).body.team).toEqual({ id: teams.Network, name: 'Network' });
  });

  test('when a requester edits their ticket’s text, then it works until the helpdesk replies, and never with a status change', async () => {
    const first = await alice().get(`/tickets/${ids.calm}`);
    const edited = await alice().patch(`/tickets/${ids.calm}`, { description: 'All of floor 3’s printers jam.' }, { headers: { 'If-Match': first.headers.etag } });
    expect(edited.status).toBe(200);
    expect(edited.body.timeline.at(-1)).toMatchObject({ kind: 'description', from: 'x', actor: { login: ALICE } });
    const mixed = await alice().patch(`/tickets/${ids.calm}`, { title: 'Closing', status: 'closed' }, { headers: { 'If-Match': edited.headers.etag } });
    expect(mixed.status).toBe(422);
    expect((await alice().patch(`/tickets/${ids.calm}`, { team: null }, { headers: { 'If-Match': edited.headers.etag } })).status).toBe(403);
    await carol().post(`/tickets/${ids.calm}/comments`, { body: 'Looking now' });
    const late = await alice().patch(`/tickets/${ids.calm}`, { title: 'Too late' }, { headers: { 'If-Match': '*' } });
    expect(late.status).toBe(403);
    expect(late.body.detail).toContain('until the helpdesk has replied');
  });

  test('when an agent replies with a status, then the reply and the status are one post; a requester may not set one', async () => {
    const res = await carol().post(`/tickets/${ids.fresh}/comments`, { body: 'Reset it for you.', status: 'resolved', assignee: 'me' });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ status: 'resolved', assignee: { login: CAROL } });
    expect(res.body.timeline.slice(-3).map((e: { kind: string }) => e.kind)).toEqual(['comment', 'status', 'assignee']);
    const refused = await alice().post(`/tickets/${ids.late}/comments`, { body: 'Fixed itself', status: 'closed' });
    expect(refused.status).toBe(403);
    const wrong = await carol().post(`/tickets/${ids.late}/comments`, { body: 'x', status: 'sideways' });
    expect(wrong.status).toBe(422);
    expect(wrong.body.errors).toEqual([expect.objectContaining({ pointer: '/status' })]);
  });

  test('when agents search people, then the directory’s people come after those Deskside knows', async () => {
    const res = await carol().get('/people?q=bob');
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ directory: 'ok', truncated: false });
    expect(res.body.items).toEqual([expect.objectContaining({ login: 'DEMO\\bob', name: 'Bob Brennan', source: 'directory' })]);
    expect(((await carol().get('/people?q=alice')).body.items as { source: string }[])[0].source).toBe('known');
    expect((await alice().get('/people?q=bob')).status).toBe(403);
  });

  test('when a webhook is limited to a team, then only that team’s tickets are sent to it, a ticket moved to the team included', async () => {
    const admin = client(t.app, 'DEMO\\erin');
    const made = await admin.post('/admin/webhooks', { name: 'Network channel', url: 'http://127.0.0.1:9/none', events: 'ticket.raised', teams: String(teams.Network), format: 'json', active: 'on', linkBase: 'https://desk.test' }, { tokenFrom: '/admin/webhooks' });
    expect(made.status).toBe(201);
    // The test client posts one value a field: the second event is ticked here.
    await t.database.db.updateTable('webhooks').set({ events: 'ticket.raised,ticket.changed' }).execute();
    expect((await admin.post('/admin/webhooks', { name: 'x', url: 'http://127.0.0.1:9/none', events: 'ticket.raised', teams: '999', format: 'json', active: 'on', linkBase: 'https://desk.test' }, { tokenFrom: '/admin/webhooks' })).text).toContain('Choose from the listed teams');
    const sent = async () => (await t.database.db.selectFrom('webhook_deliveries').select(['ticket_id', 'event', 'body']).orderBy('id').execute()).map((d) => ({ ...d, body: JSON.parse(d.body) as { ticket: { team: unknown } } }));
    const vpn = await carol().post('/tickets', { title: 'VPN down', description: 'x', category: categories['Network & VPN'] });
    await carol().post('/tickets', { title: 'Locked out again', description: 'x', category: categories['Accounts & access'] });
    expect((await sent()).map((d) => [d.ticket_id, d.event])).toEqual([[vpn.body.id, 'ticket.raised']]);
    expect((await sent())[0].body.ticket.team).toEqual({ id: teams.Network, name: 'Network' });
    const calm = await carol().get(`/tickets/${ids.calm}`);
    await carol().patch(`/tickets/${ids.calm}`, { team: teams.Network }, { headers: { 'If-Match': calm.headers.etag } });
    expect((await sent()).map((d) => [d.ticket_id, d.event])).toEqual([
      [vpn.body.id, 'ticket.raised'],
      [ids.calm, 'ticket.changed'],
    ]);
    expect((await admin.get('/admin/webhooks')).text).toContain('Network team only');
  });
});
