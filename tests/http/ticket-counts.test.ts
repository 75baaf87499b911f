import { openDatabase } from '../../app/db/database';
import { seedTickets } from '../../app/features/demo/generator';
import { TicketReadCache } from '../../app/features/tickets/tickets.cache';
import { client, listCountText, listedTicketIds, makeApp, type TestApp } from '../support/app';

/**
 * Counts and lists that the queue reuses between requests (see tickets.cache.ts): a page
 * says "about" whenever the figure might be out of date, pages never skip or repeat a
 * ticket, and an admin's change shows on the next page.
 */
describe('counts, caches and paging on the ticket list', () => {
  let t: TestApp;
  let clock = 1_000_000;
  afterEach(() => t.close());

  const ids = listedTicketIds;
  const countText = listCountText;

  async function seeded(n: number, cache?: (db: TestApp['database']) => TicketReadCache) {
    t = await makeApp({ ticketCache: cache });
    await seedTickets(t.database, { tickets: n, seed: 7, agents: [{ login: 'TEST\\agent1', displayName: 'Agent One' }] });
    // Everything open, so the default queue lists every ticket.
    await t.database.db.updateTable('tickets').set({ status: 'open', active: 1 }).execute();
  }

  test('when the data changes after an expensive count, then the old figure is shown as "about" until it is recounted', async () => {
    await seeded(40, (db) => new TicketReadCache(db, { cheapMs: 0, approximateForMs: 60_000, now: () => clock }));
    const agent = client(t.app, 'TEST\\agent1');
    expect(countText((await agent.get('/tickets')).text)).toBe('1–25 of 40 tickets');

    // Another process (a second connection to the same file) adds a ticket.
    const other = openDatabase(`sqlite:${t.database.describe.replace(/^sqlite:/, '')}`);
    const requester = await other.db.selectFrom('people').select('id').where('is_agent', '=', 0).executeTakeFirstOrThrow();
    await other.db
      .insertInto('tickets')
      .values({ title: 'From elsewhere', description: 'x', status: 'new', active: 1, priority: 2, category_id: 1, requester_id: requester.id, assignee_id: null, created_at: new Date().toISOString(), updated_at: new Date().toISOString(), resolved_at: null, version: 1 })
      .execute();
    await other.close();

    const stale = await agent.get('/tickets');
    expect(countText(stale.text)).toBe('1–25 of about 40 tickets');
    expect(stale.text).toContain('Page 1 of about 2');
    expect(stale.text).toContain('From elsewhere'); // the rows themselves are always fresh

    clock += 61_000;
    expect(countText((await agent.get('/tickets')).text)).toBe('1–25 of 41 tickets');
  });

  test('when an approximate figure meets the end of the list, then the page states the exact number it can see', async () => {
    await seeded(40, (db) => new TicketReadCache(db, { cheapMs: 0, approximateForMs: 60_000, now: () => clock }));
    const agent = client(t.app, 'TEST\\agent1');
    await agent.get('/tickets?page=2');
    await t.database.db.updateTable('tickets').set({ status: 'closed', active: 0 }).where('id', '<=', 5).execute();
    const last = await agent.get('/tickets?page=2');
    expect(countText(last.text)).toBe('26–35 of 35 tickets');
  });

  test('when counts are cheap, then they stay exact after every change', async () => {
    await seeded(30);
    const alice = client(t.app, 'TEST\\alice');
    const agent = client(t.app, 'TEST\\agent1');
    expect(countText((await agent.get('/tickets')).text)).toBe('1–25 of 30 tickets');
    await alice.post('/tickets', { title: 'Screen flickers', description: 'Since Monday', category: '1', priority: 'normal' }, { tokenFrom: '/tickets/new' });
    expect(countText((await agent.get('/tickets')).text)).toBe('1–25 of 31 tickets');
  });

  test('when every page is walked, then each ticket appears exactly once, even where update times tie', async () => {
    await seeded(130);
    // Only three distinct update times: the id tie-break alone keeps the order total.
    const times = ['2026-01-01T10:00:00.000Z', '2026-01-02T10:00:00.000Z', '2026-01-03T10:00:00.000Z'];
    for (let i = 0; i < 3; i++) await t.database.db.updateTable('tickets').set({ updated_at: times[i] }).where((eb) => eb(eb('id', '%', 3), '=', i)).execute();
    const agent = client(t.app, 'TEST\\agent1');
    for (const sort of ['updated', 'priority', 'created', 'oldest']) {
      const seen: number[] = [];
      for (let page = 1; page <= 6; page++) seen.push(...ids((await agent.get(`/tickets?status=all&sort=${sort}&page=${page}`)).text));
      expect(seen).toHaveLength(130);
      expect(new Set(seen).size).toBe(130);
    }
  });

  test('when an admin renames a category, then the next list and ticket pages use the new name', async () => {
    await seeded(30);
    const agent = client(t.app, 'TEST\\agent1');
    expect((await agent.get('/tickets')).text).toContain('>Printing</option>');
    const admin = client(t.app, 'TEST\\admin1');
    const res = await admin.post('/admin/categories/6', { name: 'Printers and scanners', description: 'Printers', sortOrder: '60', active: 'on' }, { tokenFrom: '/admin/categories' });
    expect(res.status).toBe(303);
    const list = await agent.get('/tickets');
    expect(list.text).toContain('>Printers and scanners</option>');
    expect(list.text).not.toContain('>Printing</option>');
  });

  test('when another process adds an agent, then the assignee list shows them on the next page', async () => {
    await seeded(30);
    const agent = client(t.app, 'TEST\\agent1');
    expect((await agent.get('/tickets')).text).not.toContain('Agent Two');
    const other = openDatabase(`sqlite:${t.database.describe.replace(/^sqlite:/, '')}`);
    const now = new Date().toISOString();
    await other.db.insertInto('people').values({ login: 'TEST\\agent2', login_key: 'test\\agent2', display_name: 'Agent Two', email: null, department: null, title: null, is_agent: 1, created_at: now, updated_at: now }).execute();
    await other.close();
    expect((await agent.get('/tickets')).text).toContain('Agent Two');
  });

  test('when another process saves or deletes a saved view, then the queue shows its tab on the next page, and then no longer', async () => {
    await seeded(30);
    const agent = client(t.app, 'TEST\\agent1');
    expect((await agent.get('/tickets')).text).not.toContain('Printers elsewhere');
    const owner = await t.database.db.selectFrom('people').select('id').where('login_key', '=', 'test\\agent1').executeTakeFirstOrThrow();
    const other = openDatabase(`sqlite:${t.database.describe.replace(/^sqlite:/, '')}`);
    try {
      await other.db.insertInto('saved_views').values({ owner_id: owner.id, name: 'Printers elsewhere', query: 'status=open', shared: 0, created_at: new Date().toISOString() }).execute();
      expect((await agent.get('/tickets')).text).toContain('Printers elsewhere');
      await other.db.deleteFrom('saved_views').where('name', '=', 'Printers elsewhere').execute();
      expect((await agent.get('/tickets')).text).not.toContain('Printers elsewhere');
    } finally {
      await other.close();
    }
  });

  test('when a quiet queue is shown again, then its page comes from memory; after another process changes a ticket on it, the page shows the change', async () => {
    let selects = 0;
    await seeded(30, (database) => {
      const counted = database.db.withPlugin({
        transformQuery: (args) => {
          if (args.node.kind === 'SelectQueryNode') selects++;
          return args.node;
        },
        transformResult: async (args) => args.result,
      });
      return new TicketReadCache({ ...database, db: counted }, { cheapMs: Number.POSITIVE_INFINITY });
    });
    const agent = client(t.app, 'TEST\\agent1');
    const first = await agent.get('/tickets');
    const top = ids(first.text)[0];
    expect(selects).toBeGreaterThan(0);
    const before = selects;
    const again = await agent.get('/tickets');
    expect(selects).toBe(before);
    expect(ids(again.text)).toEqual(ids(first.text));
    const other = openDatabase(`sqlite:${t.database.describe.replace(/^sqlite:/, '')}`);
    await other.db.updateTable('tickets').set({ title: 'Renamed by another process' }).where('id', '=', top).execute();
    await other.close();
    const after = await agent.get('/tickets');
    expect(selects).toBeGreaterThan(before);
    expect(after.text).toContain('Renamed by another process');
  });

  test('when "unassigned" and "anyone" are counted from the cache, then each keeps its own figure', async () => {
    // JSON writes null and undefined alike; the cache key once did, and "Open and unassigned" showed every open ticket.
    await seeded(30);
    await t.database.db.updateTable('tickets').set({ assignee_id: null }).where('id', '<=', 4).execute();
    const unassigned = Number((await t.database.db.selectFrom('tickets').select((eb) => eb.fn.countAll<number>().as('n')).where('assignee_id', 'is', null).executeTakeFirstOrThrow()).n);
    expect(unassigned).toBeLessThan(30);
    const agent = client(t.app, 'TEST\\agent1');
    await agent.get('/tickets');
    const home = await agent.get('/');
    expect(home.text).toMatch(new RegExp(`<span class="stat">${unassigned}</span><span class="stat-label">Open and unassigned`));
    expect(home.text).toMatch(/<span class="stat">30<\/span><span class="stat-label">Open in the queue/);
  });
});
