import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { start } from '../../../../app/compose';
import { openDatabase, type Database } from '../../../../app/db/database';
import { migrateToLatest } from '../../../../app/db/migrate';
import { insertAttachment } from '../../../../app/features/attachments/attachments.queries';
import { startSweeper, sweepOnce, SWEEP_LEASE } from '../../../../app/features/attachments/sweeper';
import { insertTicket } from '../../../../app/features/tickets/tickets.queries';
import { createLogger } from '../../../../app/logging';
import { ensurePerson } from '../../../../app/people/people.queries';
import type { BlobInfo, BlobStore } from '../../../../app/storage/blob-store';
import { FolderBlobStore } from '../../../../app/storage/folder-blob-store';

const DAY = 86_400_000;
const HOUR = 3_600_000;
const sha = (s: string) => createHash('sha256').update(s).digest('hex');
const silent = createLogger('silent');

describe('the attachment sweeper', () => {
  let dir: string;
  let database: Database;
  let store: FolderBlobStore;
  let ticketId: number;
  let personId: number;
  const now = Date.now();

  beforeEach(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'deskside-sweeper-'));
    database = openDatabase(`sqlite:${path.join(dir, 'd.db')}`);
    await migrateToLatest(database.db, database.dialect);
    store = new FolderBlobStore(path.join(dir, 'files'));
    personId = (await ensurePerson(database.db, 'TEST\\alice', 'test\\alice')).id;
    ticketId = await database.write((trx) =>
      insertTicket(trx, database.dialect, { title: 't', description: 'd', status: 'new', active: 1, priority: 2, categoryId: 1, requesterId: personId, assigneeId: null, at: new Date(now).toISOString() }),
    );
  });
  afterEach(async () => {
    await database.close();
    rmSync(dir, { recursive: true, force: true });
  });

  /** Put bytes, dated `ageMs` ago; with `row`, an attachment points at them (removed `removedAgoMs` ago, if given). */
  async function blob(text: string, ageMs: number, row?: { removedAgoMs?: number }): Promise<string> {
    const ref = await store.put(Readable.from([Buffer.from(text)]));
    const then = new Date(now - ageMs);
    utimesSync(store.pathOf(ref.sha256), then, then);
    if (row) {
      const id = await insertAttachment(database.db, database.dialect, { ticketId, sha256: ref.sha256, size: ref.size, name: `${text}.txt`, originalName: `${text}.txt`, contentType: 'text/plain', internal: false, uploadedBy: personId, at: then.toISOString() });
      if (row.removedAgoMs !== undefined) {
        await database.db.updateTable('attachments').set({ removed_at: new Date(now - row.removedAgoMs).toISOString(), removed_by: personId }).where('id', '=', id).execute();
      }
    }
    return ref.sha256;
  }

  const sweep = (holder: string, at = now, o: { store?: BlobStore; intervalMs?: number } = {}) =>
    sweepOnce({ database, store: o.store ?? store, logger: silent, retentionMs: 30 * DAY, intervalMs: o.intervalMs ?? HOUR, holder, now: () => at });

  test('when bytes are old and unneeded, then they go; bytes a row needs, bytes removed within the retention and recent orphans stay', async () => {
    const live = await blob('live', 90 * DAY, {});
    const removedLongAgo = await blob('removed-long-ago', 90 * DAY, { removedAgoMs: 40 * DAY });
    const removedRecently = await blob('removed-recently', 90 * DAY, { removedAgoMs: 2 * DAY });
    const oldOrphan = await blob('old-orphan', 31 * DAY);
    const newOrphan = await blob('new-orphan', 1 * DAY);
    const outcome = await sweep('A');
    expect(outcome).toEqual({ kind: 'swept', result: { considered: 4, deleted: 2, stagingRemoved: 0 } });
    const kept = await Promise.all([live, removedLongAgo, removedRecently, oldOrphan, newOrphan].map((h) => store.has(h)));
    expect(kept).toEqual([true, false, true, false, true]);
  });

  test('when several processes sweep, then only the lease holder deletes, until the lease expires; the others clear only their staging', async () => {
    const orphan = await blob('orphan', 40 * DAY);
    expect((await sweep('A')).kind).toBe('swept');
    await blob('orphan', 40 * DAY); // put back: now only a sweeper holding the lease may take it
    mkdirSync(path.join(dir, 'files', '.staging'), { recursive: true });
    const stale = path.join(dir, 'files', '.staging', 'crashed-writer.part');
    writeFileSync(stale, 'half an upload');
    utimesSync(stale, new Date(now - 2 * HOUR), new Date(now - 2 * HOUR));
    expect(await sweep('B', now + 1000)).toEqual({ kind: 'held-elsewhere', stagingRemoved: 1 });
    expect(await store.has(orphan)).toBe(true);
    // The holder sweeps again on its next turn; the lease lasts one interval.
    expect((await sweep('A', now + HOUR - 1000)).kind).toBe('swept');
    expect(await store.has(orphan)).toBe(false);
    await blob('orphan', 40 * DAY);
    // A holder that died lets its lease run out; then another takes over.
    expect((await sweep('C', now + 2 * HOUR)).kind).toBe('swept');
    expect(await store.has(orphan)).toBe(false);
    const leases = await database.db.selectFrom('worker_leases').selectAll().execute();
    expect(leases.map((l) => [l.name, l.holder])).toEqual([[SWEEP_LEASE, 'C']]);
  });

  test('when another process takes the lease in the middle of a sweep, then this sweep stops before deleting anything', async () => {
    const orphan = await blob('orphan', 40 * DAY);
    const stealing: BlobStore = Object.assign(Object.create(store) as FolderBlobStore, {
      list: async function* (): AsyncIterable<BlobInfo> {
        await database.db.updateTable('worker_leases').set({ holder: 'thief' }).where('name', '=', SWEEP_LEASE).execute();
        yield* store.list();
      },
    });
    await expect(sweep('A', now, { store: stealing })).rejects.toThrow(/lease was taken/);
    expect(await store.has(orphan)).toBe(true);
  });

  test('when the sweeper runs on a timer, then it sweeps each interval and stops cleanly', async () => {
    const orphan = await blob('orphan', 40 * DAY);
    const sweeper = startSweeper({ database, store, logger: silent, retentionMs: 30 * DAY, intervalMs: 50, firstDelayMs: 5 });
    const deadline = Date.now() + 5000;
    while ((await store.has(orphan)) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    await sweeper.stop();
    expect(await store.has(orphan)).toBe(false);
  });

  test('when Deskside starts, then start() runs the sweeper against the configured store', async () => {
    const filesDir = path.join(dir, 'started-files');
    const started = new FolderBlobStore(filesDir);
    const orphan = (await started.put(Readable.from([Buffer.from('left by a crash')]))).sha256;
    const old = new Date(now - 2 * DAY);
    utimesSync(started.pathOf(orphan), old, old);
    const running = await start({
      NODE_ENV: 'test',
      DESKSIDE_IDENTITY: 'dev',
      PORT: '0',
      DESKSIDE_HOST: '127.0.0.1',
      DESKSIDE_DATA_DIR: dir,
      DESKSIDE_DATABASE: `sqlite:${path.join(dir, 'started.db')}`,
      DESKSIDE_SECRET: 'sweeper-test-secret-0123456789abcdefghijkl',
      DESKSIDE_DEMO_DATA: 'false',
      DESKSIDE_LOG_LEVEL: 'silent',
      DESKSIDE_ATTACHMENT_STORE: filesDir,
      DESKSIDE_ATTACHMENT_RETENTION_DAYS: '1',
      DESKSIDE_ATTACHMENT_SWEEP_MINUTES: '0.05',
    });
    try {
      const deadline = Date.now() + 15_000;
      while ((await started.has(orphan)) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
      expect(await started.has(orphan)).toBe(false);
      expect(sha('left by a crash')).toBe(orphan);
    } finally {
      await running.close();
    }
  }, 30_000);
});
