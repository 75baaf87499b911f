import request from 'supertest';
import { createStaticDirectory } from '../../app/directory/static';
import { DirectoryUnavailableError, type Directory } from '../../app/directory/types';
import { client, makeApp, type TestApp } from '../support/app';

/**
 * An agent raising a ticket for a caller (issue 15): choosing the requester by login,
 * e-mail or name (people Deskside knows and the directory), the channel, and the people
 * search behind it. Requesters can never raise a ticket for someone else.
 */

const demoEnv = { DESKSIDE_AGENTS: 'DEMO\\Helpdesk Agents', DESKSIDE_ADMINS: 'DEMO\\Deskside Admins' };
const form = { title: 'Phone: printer offline', description: 'Called at 9:10, the floor 2 printer is offline.', category: '6', priority: 'high' };

async function ticketCount(t: TestApp): Promise<number> {
  return Number((await t.database.db.selectFrom('tickets').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow()).n);
}

/** The one-time message a redirect leaves for the page it goes to (web/flash.ts). */
function flashOf(res: { headers: Record<string, unknown> }): string | undefined {
  const cookies = ([] as string[]).concat((res.headers['set-cookie'] as string[] | undefined) ?? []);
  const flash = cookies.find((c) => c.startsWith('deskside_flash='));
  return flash ? decodeURIComponent(flash.slice('deskside_flash='.length).split(';')[0]).split('|')[0] : undefined;
}

async function created(t: TestApp, res: { headers: Record<string, unknown> }) {
  expect(flashOf(res)).toBe('created-for');
  const id = Number(/^\/tickets\/(\d+)$/.exec(res.headers.location as string)![1]);
  const row = await t.database.db
    .selectFrom('tickets')
    .innerJoin('people', 'people.id', 'tickets.requester_id')
    .select(['tickets.id', 'tickets.channel', 'people.login'])
    .where('tickets.id', '=', id)
    .executeTakeFirstOrThrow();
  const event = await t.database.db.selectFrom('ticket_events').innerJoin('people', 'people.id', 'ticket_events.actor_id').select(['ticket_events.kind', 'ticket_events.to_value', 'people.login']).where('ticket_id', '=', id).executeTakeFirstOrThrow();
  return { ...row, event };
}

describe('raising a ticket for someone else', () => {
  let t: TestApp;
  beforeEach(async () => {
    t = await makeApp({ env: demoEnv, directory: createStaticDirectory() });
  });
  afterEach(() => t.close());

  test('when an agent names the caller by login, then the ticket is theirs, with the channel, and the agent raised it', async () => {
    const dan = client(t.app, 'DEMO\\dan');
    const page = await dan.get('/tickets/new');
    expect(page.text).toContain('Who is it for?');
    expect(page.text).toMatch(/<option value="phone" selected>Phone call<\/option>/);
    const res = await dan.post('/tickets', { ...form, requester: 'DEMO\\bob', channel: 'phone' });
    expect(res.status).toBe(303);
    const c = await created(t, res);
    expect(c).toMatchObject({ login: 'DEMO\\bob', channel: 'phone', event: { kind: 'created', to_value: 'phone', login: 'DEMO\\dan' } });
    const shown = await dan.get(res.headers.location);
    expect(shown.text).toContain('Ticket raised for Bob Brennan');
    expect(shown.text).toContain('Dan Dubois raised this for Bob Brennan');
    expect(shown.text).toContain('raised this ticket from a phone call');
    // Bob, who has never used Deskside, now finds it among his tickets.
    expect((await client(t.app, 'DEMO\\bob').get('/tickets')).text).toContain('Phone: printer offline');
  });

  test('when an agent types an e-mail address or a name that fits one person, then that person is the requester', async () => {
    const dan = client(t.app, 'DEMO\\dan');
    const byMail = await dan.post('/tickets', { ...form, requester: 'alice@demo.example', channel: 'email' });
    expect(byMail.status).toBe(303);
    expect(await created(t, byMail)).toMatchObject({ login: 'DEMO\\alice', channel: 'email' });
    const byName = await dan.post('/tickets', { ...form, requester: 'Erin Ellis', channel: 'walk-in' });
    expect(await created(t, byName)).toMatchObject({ login: 'DEMO\\erin', channel: 'walk-in' });
  });

  test('when a typed name fits several people, then the form comes back asking which one, and the choice raises the ticket', async () => {
    const dan = client(t.app, 'DEMO\\dan');
    const ask = await dan.post('/tickets', { ...form, requester: 'an', channel: 'phone' });
    expect(ask.status).toBe(400);
    expect(ask.text).toContain('More than one person matches “an”: choose one');
    expect(ask.text).toContain('Which of these people?');
    for (const login of ['DEMO\\alice', 'DEMO\\bob', 'DEMO\\dan']) expect(ask.text).toContain(`name="requester_pick" value="${login}"`);
    expect(ask.text).toContain('value="Phone: printer offline"');
    expect(await ticketCount(t)).toBe(0);
    const chosen = await dan.post('/tickets', { ...form, requester: 'an', requester_pick: 'DEMO\\bob', channel: 'phone' });
    expect(chosen.status).toBe(303);
    expect(await created(t, chosen)).toMatchObject({ login: 'DEMO\\bob' });
  });

  test.each([
    ['an unknown login', { requester: 'DEMO\\nobody' }, 'requester', 'Nobody with the login DEMO\\nobody is known to Deskside or the directory'],
    ['a name nobody has', { requester: 'Zebedee' }, 'requester', 'Nobody matches “Zebedee”'],
    ['filter characters', { requester: '*)(|(cn=*' }, 'requester', 'Nobody matches'],
    ['an over-long name', { requester: 'x'.repeat(101) }, 'requester', '100 characters or fewer'],
    ['an unknown channel', { requester: 'DEMO\\bob', channel: 'pigeon' }, 'channel', 'Choose phone call, walk-in, e-mail or web form'],
  ])('when the agent gives %s, then the form comes back with the message beside the field and nothing is raised', async (_what, change, field, message) => {
    const res = await client(t.app, 'DEMO\\dan').post('/tickets', { ...form, channel: 'phone', ...change });
    expect(res.status).toBe(400);
    expect(res.text).toContain(`href="#${field}"`);
    expect(res.text).toContain(message);
    expect(await ticketCount(t)).toBe(0);
  });

  test('when a requester posts a requester or a channel, then it is a 400 and never someone else’s ticket', async () => {
    const alice = client(t.app, 'DEMO\\alice');
    const page = await alice.get('/tickets/new');
    expect(page.text).not.toContain('Who is it for?');
    for (const extra of [{ requester: 'DEMO\\bob' }, { requester: '' }, { requester_pick: 'DEMO\\bob' }, { channel: 'web' }]) {
      const res = await alice.post('/tickets', { ...form, ...extra });
      expect({ extra, status: res.status }).toEqual({ extra, status: 400 });
    }
    expect(await ticketCount(t)).toBe(0);
    // Without them, Alice raises her own as before.
    const own = await alice.post('/tickets', form);
    expect(flashOf(own)).toBe('created');
  });

  test('when an agent leaves the requester empty, then the ticket is their own', async () => {
    const res = await client(t.app, 'DEMO\\dan').post('/tickets', { ...form, requester: '', channel: 'web' });
    expect(flashOf(res)).toBe('created');
    const row = await t.database.db.selectFrom('tickets').innerJoin('people', 'people.id', 'tickets.requester_id').select(['people.login', 'tickets.channel']).executeTakeFirstOrThrow();
    expect(row).toEqual({ login: 'DEMO\\dan', channel: 'web' });
  });
});

describe('the people search', () => {
  let t: TestApp;
  afterEach(() => t.close());

  test('when an agent searches, then people Deskside knows come first, then the directory, by name, login or e-mail, as HTML or JSON', async () => {
    t = await makeApp({ env: demoEnv, directory: createStaticDirectory() });
    await client(t.app, 'DEMO\\bob').get('/');
    const dan = client(t.app, 'DEMO\\dan');
    const json = await dan.get('/people?q=an').set('Accept', 'application/json');
    expect(json.status).toBe(200);
    expect(json.headers['cache-control']).toBe('no-store');
    expect(json.body.directory).toBe('ok');
    // Bob and Dan have signed in; Alice is only in the directory.
    expect(json.body.people.map((p: { login: string; source: string }) => `${p.login}:${p.source}`)).toEqual(['DEMO\\bob:known', 'DEMO\\dan:known', 'DEMO\\alice:directory']);
    expect((await dan.get('/people?q=brennan').set('Accept', 'application/json')).body.people.map((p: { login: string }) => p.login)).toEqual(['DEMO\\bob']);
    expect((await dan.get('/people?q=carol%40demo').set('Accept', 'application/json')).body.people.map((p: { login: string }) => p.login)).toEqual(['DEMO\\carol']);
    const html = await dan.get('/people?q=Erin');
    expect(html.status).toBe(200);
    expect(html.text).toContain('Erin Ellis');
    expect(html.text).toContain('href="/tickets/new?requester=DEMO%5Cerin"');
    expect((await dan.get('/tickets/new?requester=DEMO%5Cerin')).text).toContain('value="DEMO\\erin"');
  });

  test('when the search holds wildcards or markup, then they match literally and come back escaped', async () => {
    t = await makeApp({ env: demoEnv, directory: createStaticDirectory() });
    const dan = client(t.app, 'DEMO\\dan');
    for (const q of ['%', '_', '*)(', '[a-z]', '\\']) {
      const res = await dan.get(`/people?q=${encodeURIComponent(q)}`).set('Accept', 'application/json');
      expect({ q, status: res.status, people: res.body.people }).toEqual({ q, status: 200, people: [] });
    }
    const html = await dan.get(`/people?q=${encodeURIComponent('<script>x</script>')}`);
    expect(html.text).not.toContain('<script>x</script>');
    expect(html.text).toContain('&lt;script&gt;x&lt;/script&gt;');
  });

  test('when the directory cannot be reached, then people Deskside knows are still found and the page says so', async () => {
    const down: Directory = { ...createStaticDirectory(), search: async () => Promise.reject(new DirectoryUnavailableError('no DC answered')) };
    t = await makeApp({ env: { DESKSIDE_AGENTS: 'TEST\\agent1' }, directory: down });
    await client(t.app, 'TEST\\agent1').get('/');
    const res = await client(t.app, 'TEST\\agent1').get('/people?q=agent').set('Accept', 'application/json');
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ directory: 'unavailable', people: [{ login: 'TEST\\agent1', source: 'known' }] });
    expect((await client(t.app, 'TEST\\agent1').get('/people?q=agent')).text).toContain('The directory cannot be reached');
  });

  test('when a requester or a guest searches, or the query is bad, then it is refused', async () => {
    t = await makeApp({ env: demoEnv, directory: createStaticDirectory() });
    expect((await client(t.app, 'DEMO\\alice').get('/people?q=bob')).status).toBe(403);
    expect((await request(t.app).get('/people?q=bob')).status).toBe(401);
    expect((await client(t.app, 'DEMO\\dan').get(`/people?q=${'x'.repeat(101)}`)).status).toBe(400);
    expect((await client(t.app, 'DEMO\\dan').get('/people?q=a&q=b')).status).toBe(400);
  });
});
