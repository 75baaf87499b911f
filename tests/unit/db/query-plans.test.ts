import Sqlite from 'better-sqlite3';
import { Kysely, type LogEvent } from 'kysely';
import { DesksideSqliteDialect } from '../../../app/db/dialect';
import { migrateToLatest } from '../../../app/db/migrate';
import type { DB } from '../../../app/db/schema';
import { SORT_KEYS } from '../../../app/features/tickets/tickets.filters';
import { BY_UPDATED, countTickets, listTickets, neighbourTickets, openTicketsOf, type TicketOrder, type TicketQuery } from '../../../app/features/tickets/tickets.queries';

/**
 * The queue must not read every ticket to show 25 of them. SQLite says how it will run
 * each list query (EXPLAIN QUERY PLAN); a full table scan or a sort of every matching
 * row (a temporary B-tree for ORDER BY) would make page 1 slow at a million tickets.
 * Every sort the queue's headers offer is checked on every default view, both ways
 * (decision 0016), and so is the seek that finds the previous and next ticket.
 */
describe('ticket list query plans', () => {
  const native = new Sqlite(':memory:');
  const captured: { sql: string; params: readonly unknown[] }[] = [];
  const db = new Kysely<DB>({
    dialect: new DesksideSqliteDialect({ database: native }),
    log: (e: LogEvent) => {
      if (e.level === 'query') captured.push({ sql: e.query.sql, params: e.query.parameters });
    },
  });
  beforeAll(async () => {
    await migrateToLatest(db, 'sqlite');
    native.exec('analyze');
  });
  afterAll(() => db.destroy());

  async function plansOf(run: () => Promise<unknown>): Promise<string[]> {
    captured.length = 0;
    await run();
    return captured
      .filter((q) => /from "tickets"/.test(q.sql) && /order by/.test(q.sql))
      .map((q) => (native.prepare(`explain query plan ${q.sql}`).all(...(q.params as unknown[])) as { detail: string }[]).map((r) => r.detail).join(' | '));
  }

  function expectIndexOrder(plan: string, q: TicketQuery) {
    // Newest/oldest over every status walks the table in id order and stops at the
    // page: that is the one plain "SCAN tickets" allowed, and only without a filter.
    const rowidWalk = q.status === 'all' && (q.sort.key === 'created' || q.sort.key === 'id') && q.requesterId === undefined;
    if (!rowidWalk) expect(plan).not.toMatch(/SCAN tickets(?! USING)/);
    expect(plan).not.toMatch(/TEMP B-TREE FOR ORDER BY/);
  }

  const views: [string, Omit<TicketQuery, 'sort'>][] = [
    ['all open', { status: 'active' }],
    ['assigned to me', { status: 'active', assigneeId: 7 }],
    ['unassigned', { status: 'active', assigneeId: null }],
    ['resolved and closed', { status: 'done' }],
  ];
  const orders: TicketOrder[] = SORT_KEYS.flatMap((key) => [true, false].map((desc) => ({ key, desc })));
  const cases: [string, string, TicketQuery][] = views.flatMap(([view, q]) => orders.map((sort): [string, string, TicketQuery] => [view, `${sort.desc ? '-' : ''}${sort.key}`, { ...q, sort }]));

  test.each(cases)('when the queue shows %s sorted by %s, then an index gives the order and no table is scanned', async (_view, _sort, q) => {
    const plans = await plansOf(() => listTickets(db, 'sqlite', q, 25, 24_975));
    expect(plans.length).toBeGreaterThan(0);
    for (const plan of plans) expectIndexOrder(plan, q);
  });

  test.each<[string, TicketQuery]>([
    ['one status', { status: 'open', sort: BY_UPDATED }],
    ["a requester's own tickets", { status: 'all', requesterId: 3, sort: BY_UPDATED }],
    ['one category', { status: 'active', categoryId: 2, sort: BY_UPDATED }],
    ['newest first, any status', { status: 'all', sort: { key: 'created', desc: true } }],
    ['oldest first, any status', { status: 'all', sort: { key: 'created', desc: false } }],
    ['one team', { status: 'active', teamIds: [1], sort: BY_UPDATED }],
    ['no team', { status: 'active', teamIds: null, sort: BY_UPDATED }],
    ['past due, soonest first', { status: 'active', sla: { state: 'breached', now: '2026-06-01T10:00:00.000Z' }, sort: { key: 'due', desc: false } }],
    ['at risk, soonest first', { status: 'active', sla: { state: 'at-risk', now: '2026-06-01T10:00:00.000Z' }, sort: { key: 'due', desc: false } }],
  ])('when listing %s, then an index gives the order and no table is scanned', async (_name, q) => {
    const plans = await plansOf(() => listTickets(db, 'sqlite', q, 25, 24_975));
    expect(plans.length).toBeGreaterThan(0);
    for (const plan of plans) expectIndexOrder(plan, q);
  });

  test.each(cases)('when an agent steps to the previous or next ticket of %s sorted by %s, then each is one seek into that index', async (_view, _sort, q) => {
    const plans = await plansOf(() => neighbourTickets(db, 'sqlite', q, { id: 5000, updatedAt: '2026-06-01T10:00:00.000Z', priority: 3 }));
    expect(plans).toHaveLength(2);
    for (const plan of plans) {
      expectIndexOrder(plan, q);
      // A seek starts at the anchor: "SEARCH … (active=? AND (priority,updated_at,id)<(?,?,?))" or the like.
      expect(plan).toMatch(/SEARCH tickets USING (COVERING )?INDEX \w+ \(.*[<>]/);
    }
  });

  test("when the side panel lists the requester's open tickets, then it reads the requester index in order", async () => {
    const plans = await plansOf(() => openTicketsOf(db, 'sqlite', 3, 6));
    expect(plans).toHaveLength(1);
    expect(plans[0]).toMatch(/SEARCH tickets USING (COVERING )?INDEX tickets_requester_idx \(requester_id=\? AND active=\?\)/);
    expect(plans[0]).not.toMatch(/TEMP B-TREE/);
  });

  test('when a list row counts its replies, then the count reads the events index alone, however long the conversation', async () => {
    const at = new Date().toISOString();
    native.prepare("insert into people (login, login_key, is_agent, created_at, updated_at) values ('T\\plan', 't\\plan', 0, ?, ?)").run(at, at);
    native
      .prepare("insert into tickets (title, description, status, active, priority, category_id, requester_id, created_at, updated_at) values ('t', 'd', 'open', 1, 2, 1, last_insert_rowid(), ?, ?)")
      .run(at, at);
    captured.length = 0;
    await listTickets(db, 'sqlite', { status: 'active', sort: BY_UPDATED }, 25, 0);
    const details = captured.find((q) => /ticket_events/.test(q.sql))!;
    const plan = (native.prepare(`explain query plan ${details.sql}`).all(...(details.params as unknown[])) as { detail: string }[]).map((r) => r.detail).join(' | ');
    expect(plan).toMatch(/SEARCH e USING COVERING INDEX ticket_events_ticket_idx/);
  });

  test('when counting the default queue, then the count reads an index, not the table', async () => {
    captured.length = 0;
    await countTickets(db, 'sqlite', { status: 'active', sort: BY_UPDATED });
    const plan = (native.prepare(`explain query plan ${captured[0].sql}`).all(...(captured[0].params as unknown[])) as { detail: string }[]).map((r) => r.detail).join(' | ');
    expect(plan).toMatch(/USING COVERING INDEX/);
  });
});
