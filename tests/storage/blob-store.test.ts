import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, renameSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { buffer, text } from 'node:stream/consumers';
import type { Kysely } from 'kysely';
import { compileOnly } from '../../app/db/compile-only';
import { openDatabase, type Database } from '../../app/db/database';
import { BlobHashMismatchError, BlobNotFoundError, BlobTooLargeError, type BlobStore } from '../../app/storage/blob-store';
import { CHUNK_BYTES, DatabaseBlobStore, type BlobTables } from '../../app/storage/database-blob-store';
import { FolderBlobStore } from '../../app/storage/folder-blob-store';
import { sweepBlobs } from '../../app/storage/sweep';

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
/** A source that arrives in small pieces, as an upload does. */
const streamOf = (b: Buffer, piece = 7919) => Readable.from((function* () {
  for (let i = 0; i < b.length; i += piece) yield b.subarray(i, i + piece);
})());
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The table shape documented in database-blob-store.ts, as the attachments migration will create it. */
async function createBlobTables(db: Kysely<BlobTables>): Promise<void> {
  await db.schema
    .createTable('attachment_blobs')
    .addColumn('sha256', 'char(64)', (c) => c.notNull())
    .addColumn('seq', 'integer', (c) => c.notNull())
    .addColumn('data', 'blob', (c) => c.notNull())
    .addPrimaryKeyConstraint('attachment_blobs_pk', ['sha256', 'seq'])
    .execute();
  await db.schema
    .createTable('attachment_blob_heads')
    .addColumn('sha256', 'char(64)', (c) => c.primaryKey())
    .addColumn('size', 'bigint', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .execute();
}

interface Subject {
  store: BlobStore;
  /** Every file under the store's folders (staging included), to prove nothing is left behind. */
  stagingFiles(): string[];
  close(): Promise<void>;
}

const stores: [string, () => Promise<Subject>][] = [
  [
    'FolderBlobStore',
    async () => {
      const dir = mkdtempSync(path.join(os.tmpdir(), 'deskside-blobs-'));
      return {
        store: new FolderBlobStore(dir),
        stagingFiles: () => (existsSync(path.join(dir, '.staging')) ? readdirSync(path.join(dir, '.staging')) : []),
        close: async () => rmSync(dir, { recursive: true, force: true }),
      };
    },
  ],
  [
    'DatabaseBlobStore on SQLite',
    async () => {
      const dir = mkdtempSync(path.join(os.tmpdir(), 'deskside-dbblobs-'));
      const database: Database = openDatabase(`sqlite:${path.join(dir, 'blobs.db')}`);
      const db = database.db.withTables<BlobTables>();
      await createBlobTables(db);
      const stagingDir = path.join(dir, 'staging');
      return {
        store: new DatabaseBlobStore(db, { stagingDir }),
        stagingFiles: () => (existsSync(stagingDir) ? readdirSync(stagingDir) : []),
        close: async () => {
          await database.close();
          rmSync(dir, { recursive: true, force: true });
        },
      };
    },
  ],
];

describe.each(stores)('%s', (_name, make) => {
  let s: Subject;
  beforeEach(async () => {
    s = await make();
  });
  afterEach(async () => {
    await s.close();
  });

  test('when bytes are put, then they are stored under their SHA-256 and read back whole and by range', async () => {
    const bytes = randomBytes(CHUNK_BYTES * 2 + 12345);
    const ref = await s.store.put(streamOf(bytes, 65536));
    expect(ref).toEqual({ sha256: sha(bytes), size: bytes.length });
    expect(await s.store.has(ref.sha256)).toBe(true);
    expect((await s.store.stat(ref.sha256))?.size).toBe(bytes.length);
    expect((await buffer(await s.store.open(ref.sha256))).equals(bytes)).toBe(true);
    // Ranges inside one chunk, across chunk boundaries, and the last byte.
    for (const [start, end] of [[0, 0], [10, 99], [CHUNK_BYTES - 5, CHUNK_BYTES + 5], [5, CHUNK_BYTES * 2 + 7], [bytes.length - 1, bytes.length - 1]]) {
      const got = await buffer(await s.store.open(ref.sha256, { start, end }));
      expect(got.equals(bytes.subarray(start, end + 1))).toBe(true);
    }
    expect(s.stagingFiles()).toEqual([]);
  });

  test('when an empty stream is put, then an empty blob is stored', async () => {
    const ref = await s.store.put(Readable.from([]));
    expect(ref).toEqual({ sha256: sha(Buffer.alloc(0)), size: 0 });
    expect(await text(await s.store.open(ref.sha256))).toBe('');
  });

  test('when the same content is put many times at once, then every put succeeds and one copy is kept', async () => {
    const bytes = randomBytes(300_000);
    const refs = await Promise.all(Array.from({ length: 12 }, () => s.store.put(streamOf(bytes))));
    expect(new Set(refs.map((r) => r.sha256))).toEqual(new Set([sha(bytes)]));
    const listed = [];
    for await (const info of s.store.list()) listed.push(info.sha256);
    expect(listed).toEqual([sha(bytes)]);
    expect((await buffer(await s.store.open(sha(bytes)))).equals(bytes)).toBe(true);
    expect(s.stagingFiles()).toEqual([]);
  });

  test('when the bytes do not hash to the expected value, then the put fails and nothing is stored', async () => {
    const bytes = Buffer.from('hello');
    await expect(s.store.put(streamOf(bytes), { expectedSha256: sha(Buffer.from('other')) })).rejects.toBeInstanceOf(BlobHashMismatchError);
    expect(await s.store.has(sha(bytes))).toBe(false);
    expect(s.stagingFiles()).toEqual([]);
  });

  test('when more than maxBytes arrive, then the put fails, nothing is kept and the source is drained to its end', async () => {
    const bytes = randomBytes(100_000);
    const source = streamOf(bytes, 1000);
    const ended = new Promise((r) => source.once('end', r));
    await expect(s.store.put(source, { maxBytes: 50_000 })).rejects.toBeInstanceOf(BlobTooLargeError);
    await ended;
    expect(await s.store.has(sha(bytes))).toBe(false);
    expect(s.stagingFiles()).toEqual([]);
  });

  test('when the source is destroyed midway or before it is read, then the put fails and nothing is kept', async () => {
    const source = new Readable({ read() {} });
    source.push(randomBytes(10_000));
    const putting = s.store.put(source);
    setTimeout(() => source.destroy(new Error('client went away')), 20);
    await expect(putting).rejects.toThrow('client went away');
    const gone = new Readable({ read() {} });
    gone.on('error', () => undefined);
    gone.destroy(new Error('already gone'));
    await expect(s.store.put(gone)).rejects.toThrow('already gone');
    expect(s.stagingFiles()).toEqual([]);
  });

  test('when the source fails before the staging file is even open, then the put fails with that error and nothing goes unheard', async () => {
    const source = new Readable({ read() {} });
    const putting = s.store.put(source);
    source.destroy(new Error('gone at once'));
    await expect(putting).rejects.toThrow('gone at once');
    expect(s.stagingFiles()).toEqual([]);
  });

  test('when exactly maxBytes arrive, then the put succeeds', async () => {
    const bytes = randomBytes(4096);
    expect((await s.store.put(streamOf(bytes), { maxBytes: 4096 })).size).toBe(4096);
  });

  test('when staged bytes are discarded, then they never become visible', async () => {
    const bytes = Buffer.from('staged only');
    const staged = await s.store.stage(streamOf(bytes));
    expect(staged.sha256).toBe(sha(bytes));
    expect(s.stagingFiles()).toHaveLength(1);
    expect(await s.store.has(staged.sha256)).toBe(false);
    await staged.discard();
    expect(s.stagingFiles()).toEqual([]);
    expect(await s.store.has(staged.sha256)).toBe(false);
  });

  test('when a blob is missing or the hash is malformed, then open refuses before reading', async () => {
    await expect(s.store.open('a'.repeat(64))).rejects.toBeInstanceOf(BlobNotFoundError);
    await expect(s.store.open('../../etc/passwd')).rejects.toBeInstanceOf(TypeError);
    await expect(s.store.open('A'.repeat(64))).rejects.toBeInstanceOf(TypeError);
  });

  test('when a blob is deleted, then it is gone and deleting again is harmless', async () => {
    const ref = await s.store.put(streamOf(Buffer.from('bye')));
    await s.store.delete(ref.sha256);
    await s.store.delete(ref.sha256);
    expect(await s.store.has(ref.sha256)).toBe(false);
  });

  test('when a listed blob is put again before deletion, then deleteIfUnchanged keeps it', async () => {
    const ref = await s.store.put(streamOf(Buffer.from('wanted again')));
    const seen = (await s.store.stat(ref.sha256))!;
    await sleep(5);
    await s.store.put(streamOf(Buffer.from('wanted again')));
    expect(await s.store.deleteIfUnchanged(seen)).toBe(false);
    expect(await text(await s.store.open(ref.sha256))).toBe('wanted again');
    expect(await s.store.deleteIfUnchanged((await s.store.stat(ref.sha256))!)).toBe(true);
    expect(await s.store.has(ref.sha256)).toBe(false);
  });

  test('when swept, then only old unreferenced blobs go; referenced and recent ones stay', async () => {
    const day = 24 * 3600 * 1000;
    const kept = await s.store.put(streamOf(Buffer.from('referenced')));
    const orphan = await s.store.put(streamOf(Buffer.from('orphan')));
    const asked: string[][] = [];
    const isReferenced = async (hashes: string[]) => {
      asked.push(hashes);
      return new Set(hashes.filter((h) => h === kept.sha256));
    };
    // Within the retention period nothing is even considered.
    expect(await sweepBlobs(s.store, { isReferenced, retentionMs: day })).toMatchObject({ considered: 0, deleted: 0 });
    expect(asked).toEqual([]);
    const later = Date.now() + 2 * day;
    expect(await sweepBlobs(s.store, { isReferenced, retentionMs: day, now: later, batchSize: 1 })).toMatchObject({ considered: 2, deleted: 1 });
    expect(asked.every((a) => a.length === 1)).toBe(true);
    expect(await s.store.has(kept.sha256)).toBe(true);
    expect(await s.store.has(orphan.sha256)).toBe(false);
  });

  test('when staged files are older than the staging age, then the sweep removes them and leaves younger ones', async () => {
    const old = await s.store.stage(streamOf(Buffer.from('crashed writer')));
    expect(s.stagingFiles()).toHaveLength(1);
    expect(await s.store.sweepStaging(3600_000)).toBe(0);
    expect(await s.store.sweepStaging(3600_000, Date.now() + 2 * 3600_000)).toBe(1);
    expect(s.stagingFiles()).toEqual([]);
    await old.discard();
  });
});

describe('FolderBlobStore specifics', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'deskside-folder-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  test('when a blob is stored, then it lives at <root>/ab/cd/<sha256> and nothing else is listed', async () => {
    const store = new FolderBlobStore(dir);
    const ref = await store.put(Readable.from([Buffer.from('layout')]));
    const file = path.join(dir, ref.sha256.slice(0, 2), ref.sha256.slice(2, 4), ref.sha256);
    expect(existsSync(file)).toBe(true);
    // Strangers in the folder are neither listed nor swept.
    writeFileSync(path.join(dir, 'README.txt'), 'x');
    const listed = [];
    for await (const info of store.list()) listed.push(info.sha256);
    expect(listed).toEqual([ref.sha256]);
  });

  test('when a sweep crashed after moving a blob aside, then the next staging sweep puts it back', async () => {
    const store = new FolderBlobStore(dir);
    const ref = await store.put(Readable.from([Buffer.from('moved aside')]));
    const file = store.pathOf(ref.sha256);
    const trash = path.join(dir, '.trash');
    rmSync(trash, { recursive: true, force: true });
    // What deleteIfUnchanged leaves if the process dies between its rename and its decision.
    mkdirSync(trash, { recursive: true });
    const aside = path.join(trash, `${ref.sha256}.${Date.now() - 2 * 3600_000}.crashed`);
    renameSync(file, aside);
    expect(await store.has(ref.sha256)).toBe(false);
    expect(await store.sweepStaging(3600_000)).toBe(1);
    expect(await text(await store.open(ref.sha256))).toBe('moved aside');
    expect(readdirSync(trash)).toEqual([]);
  });

  test('when a stored file was damaged, then putting the content again replaces it', async () => {
    const store = new FolderBlobStore(dir);
    const bytes = Buffer.from('will be repaired');
    const ref = await store.put(Readable.from([bytes]));
    writeFileSync(store.pathOf(ref.sha256), 'short');
    await store.put(Readable.from([bytes]));
    expect(await text(await store.open(ref.sha256))).toBe('will be repaired');
  });

  test('when the stored file has an old time and is put again, then its time moves to now', async () => {
    const store = new FolderBlobStore(dir);
    const ref = await store.put(Readable.from([Buffer.from('refreshed')]));
    utimesSync(store.pathOf(ref.sha256), new Date(2000, 0, 1), new Date(2000, 0, 1));
    const before = (await store.stat(ref.sha256))!.storedAt.getTime();
    await store.put(Readable.from([Buffer.from('refreshed')]));
    expect((await store.stat(ref.sha256))!.storedAt.getTime()).toBeGreaterThan(before + 1000);
  });

  test('when running as on Windows, then directories are not fsynced and puts still work', async () => {
    const store = new FolderBlobStore(path.join(dir, 'win'), { platform: 'win32' });
    const ref = await store.put(Readable.from([Buffer.from('no directory fsync')]));
    expect(await text(await store.open(ref.sha256))).toBe('no directory fsync');
  });
});

describe('DatabaseBlobStore SQL', () => {
  test('when it runs against SQL Server, then every statement compiles with parameters only and no LIMIT', async () => {
    const rec = compileOnly('mssql', (q) => (/^select/i.test(q.sql) ? (/"?data"?/.test(q.sql) && !/size/.test(q.sql) ? [{ data: Buffer.from('abc') }] : [{ sha256: 'a'.repeat(64), size: 3, created_at: new Date() }]) : undefined));
    const store = new DatabaseBlobStore(rec.db.withTables<BlobTables>(), { stagingDir: mkdtempSync(path.join(os.tmpdir(), 'deskside-mssql-')) });
    const hash = 'a'.repeat(64);
    await store.stat(hash);
    await store.put(Readable.from([Buffer.from('abc')]));
    await buffer(await store.open(hash, { start: 1, end: 2 }));
    await store.deleteIfUnchanged({ sha256: hash, size: 3, storedAt: new Date() });
    for await (const info of store.list()) void info;
    const all = rec.queries.map((q) => q.sql).join('\n');
    expect(all).not.toMatch(/\blimit\b/i);
    expect(all).toMatch(/select "data" from "attachment_blobs" where "sha256" = @1 and "seq" = @2/);
    expect(all).toMatch(/delete from "attachment_blob_heads" where "sha256" = @1 and "created_at" <= @2/);
    expect(rec.queries.every((q) => !q.sql.includes(hash))).toBe(true);
  });
});
