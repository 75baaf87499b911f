import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { openDatabase, type Database } from '../../../app/db/database';
import { migrateToLatest } from '../../../app/db/migrate';
import { seedTickets } from '../../../app/features/demo/generator';
import { countTickets, listTickets } from '../../../app/features/tickets/tickets.queries';
import { searchWords } from '../../../app/db/portable';

/**
 * Big seeds set the indexes and the text-search triggers aside and rebuild them at the
 * end. Afterwards the schema must be exactly what the migrations made, and search and
 * the triggers must work as if every row had gone in one by one.
 */
describe('seeding with indexes built at the end', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'deskside-bulk-'));
  const open = async (name: string) => {
    const d = openDatabase(`sqlite:${path.join(dir, name)}`);
    await migrateToLatest(d.db, d.dialect);
    return d;
  };
  const schema = (d: Database) =>
    d.db.selectFrom('sqlite_master' as never).select(['type' as never, 'name' as never, 'sql' as never]).where('type' as never, 'in', ['index', 'trigger'] as never).orderBy('name' as never).execute();
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  test('when a fresh database is seeded in bulk, then indexes, triggers and search match a row-by-row seed', async () => {
    const bulk = await open('bulk.db');
    const plain = await open('plain.db');
    const phases: string[] = [];
    await seedTickets(bulk, { tickets: 400, seed: 3, bulkLoadFrom: 1, onIndexing: () => phases.push('indexing') });
    await seedTickets(plain, { tickets: 400, seed: 3, bulkLoadFrom: Infinity });
    expect(phases).toEqual(['indexing']);
    expect(await schema(bulk)).toEqual(await schema(plain));

    const words = searchWords('printer');
    const q = { status: 'all' as const, words, sort: { key: 'updated' as const, desc: true } };
    expect(await countTickets(bulk.db, 'sqlite', q)).toBeGreaterThan(0);
    expect(await countTickets(bulk.db, 'sqlite', q)).toBe(await countTickets(plain.db, 'sqlite', q));
    expect((await listTickets(bulk.db, 'sqlite', q, 25, 0)).map((r) => r.id)).toEqual((await listTickets(plain.db, 'sqlite', q, 25, 0)).map((r) => r.id));

    // The trigger is back: a ticket added now is found by search at once.
    const requester = await bulk.db.selectFrom('people').select('id').executeTakeFirstOrThrow();
    const now = new Date().toISOString();
    await bulk.db
      .insertInto('tickets')
      .values({ title: 'Zeppelin hangar door stuck', description: 'x', status: 'new', active: 1, priority: 2, category_id: 1, requester_id: requester.id, assignee_id: null, created_at: now, updated_at: now, resolved_at: null, version: 1 })
      .execute();
    expect(await countTickets(bulk.db, 'sqlite', { status: 'all', words: ['zeppelin'], sort: { key: 'updated', desc: true } })).toBe(1);
    await bulk.close();
    await plain.close();
  });

  test('when the load fails midway, then the indexes and triggers are still rebuilt', async () => {
    const d = await open('fail.db');
    const before = await schema(d);
    await expect(d.bulkLoad!(['tickets', 'ticket_events'], async () => {
      throw new Error('disk full');
    })).rejects.toThrow('disk full');
    expect(await schema(d)).toEqual(before);
    await d.close();
  });
});
