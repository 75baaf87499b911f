import Sqlite from 'better-sqlite3';
import { Kysely, type LogEvent } from 'kysely';
import { DesksideSqliteDialect } from '../../../app/db/dialect';
import { migrateToLatest } from '../../../app/db/migrate';
import type { DB } from '../../../app/db/schema';
import { countTickets, listTickets, type TicketQuery } from '../../../app/features/tickets/tickets.queries';

/**
 * The queue must not read every ticket to show 25 of them. SQLite says how it will run
 * each list query (EXPLAIN QUERY PLAN); a full table scan or a sort of every matching
 * row (a temporary B-tree for ORDER BY) would make page 1 slow at a million tickets.
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

  const cases: [string, TicketQuery][] = [
    ['the default agent queue', { status: 'active', sort: 'updated' }],
    ['one status', { status: 'open', sort: 'updated' }],
    ['assigned to me', { status: 'active', assigneeId: 7, sort: 'updated' }],
    ['unassigned', { status: 'active', assigneeId: null, sort: 'updated' }],
    ["a requester's own tickets", { status: 'all', requesterId: 3, sort: 'updated' }],
    ['one category', { status: 'active', categoryId: 2, sort: 'updated' }],
    ['most urgent first', { status: 'active', sort: 'priority' }],
    ['newest first, any status', { status: 'all', sort: 'created' }],
    ['oldest first, any status', { status: 'all', sort: 'oldest' }],
  ];

  test.each(cases)('when listing %s, then an index gives the order and no table is scanned', async (_name, q) => {
    const plans = await plansOf(() => listTickets(db, 'sqlite', q, 25, 24_975));
    expect(plans.length).toBeGreaterThan(0);
    for (const plan of plans) {
      // Newest/oldest over every status walks the table in id order and stops at the
      // page: that is the one plain "SCAN tickets" allowed, and only without a filter.
      const rowidWalk = q.status === 'all' && (q.sort === 'created' || q.sort === 'oldest') && q.requesterId === undefined;
      if (!rowidWalk) expect(plan).not.toMatch(/SCAN tickets(?! USING)/);
      expect(plan).not.toMatch(/TEMP B-TREE FOR ORDER BY/);
    }
  });

  test('when counting the default queue, then the count reads an index, not the table', async () => {
    captured.length = 0;
    await countTickets(db, 'sqlite', { status: 'active', sort: 'updated' });
    const plan = (native.prepare(`explain query plan ${captured[0].sql}`).all(...(captured[0].params as unknown[])) as { detail: string }[]).map((r) => r.detail).join(' | ');
    expect(plan).toMatch(/USING COVERING INDEX/);
  });
});
