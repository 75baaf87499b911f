import Sqlite from 'better-sqlite3';
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createReadStream, existsSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { FolderBlobStore } from '../../app/storage/folder-blob-store';

/**
 * The ordering rule "write and fsync the bytes, rename them into place, then commit the
 * row" must survive a process dying at any instruction. Two child processes upload
 * through the built FolderBlobStore into one folder and record each committed upload in
 * SQLite; each round both are killed with SIGKILL mid-stream. Afterwards every committed
 * row's bytes must exist and hash to the row, and no file under its hash may be partial.
 * (SIGKILL keeps the OS page cache, so this proves the ordering and the atomic rename,
 * not durability across power loss, which the fsyncs are for.)
 */
const ROOT = path.resolve(__dirname, '..', '..');
const MODULE = path.join(ROOT, 'dist', 'storage', 'folder-blob-store.js');
const WRITER = path.join(__dirname, 'support', 'crash-writer.js');
const ROUNDS = 6;

const hashFile = (file: string) =>
  new Promise<string>((resolve, reject) => {
    const h = createHash('sha256');
    createReadStream(file)
      .on('data', (c) => h.update(c))
      .on('end', () => resolve(h.digest('hex')))
      .on('error', reject);
  });

function startWriter(root: string, dbFile: string, seed: number) {
  const child: ChildProcess = spawn(process.execPath, [WRITER, MODULE, root, dbFile, String(seed)], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<NodeJS.Signals | number | null>((resolve) => child.once('exit', (code, signal) => resolve(signal ?? code)));
  const busy = new Promise<void>((resolve, reject) => {
    const check = () => (/committed \d+/.test(out) ? resolve() : undefined);
    child.stdout!.on('data', check);
    void exited.then((how) => reject(new Error(`writer exited (${how}) before committing:\n${out}`)));
  });
  return { child, busy, exited };
}

describe('crash during uploads', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'deskside-crash-'));
  const root = path.join(dir, 'attachments');
  const dbFile = path.join(dir, 'rows.db');
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  beforeAll(() => {
    if (!existsSync(MODULE)) throw new Error(`${MODULE} is missing: run "npm run build" first (npm test does)`);
  });

  test('when writers are killed with SIGKILL mid-upload, again and again, then every committed row has whole bytes that hash to it', async () => {
    for (let round = 0; round < ROUNDS; round++) {
      const writers = [startWriter(root, dbFile, round * 2 + 1), startWriter(root, dbFile, round * 2 + 2)];
      try {
        await Promise.all(writers.map((w) => w.busy));
        // Land the kill at a different point of the write each round.
        await new Promise((r) => setTimeout(r, 20 + ((round * 37) % 150)));
      } finally {
        for (const w of writers) if (w.child.pid && w.child.exitCode === null) process.kill(w.child.pid, 'SIGKILL');
      }
      expect(await Promise.all(writers.map((w) => w.exited))).toEqual(['SIGKILL', 'SIGKILL']);
    }

    const db = new Sqlite(dbFile, { readonly: true });
    const rows = db.prepare('select sha256, size, count(*) as n from committed group by sha256, size').all() as { sha256: string; size: number; n: number }[];
    const total = (db.prepare('select count(*) as n from committed').get() as { n: number }).n;
    db.close();
    expect(total).toBeGreaterThanOrEqual(ROUNDS * 2 * 10);
    // Some content was committed by both writers: the same-content race was exercised.
    expect(rows.some((r) => r.n > 1)).toBe(true);

    const store = new FolderBlobStore(root);
    const missing: string[] = [];
    for (const row of rows) {
      const file = store.pathOf(row.sha256);
      if (!existsSync(file) || statSync(file).size !== row.size || (await hashFile(file)) !== row.sha256) missing.push(row.sha256);
    }
    expect(missing).toEqual([]);

    // Nothing partial is ever visible under a hash, committed or not.
    let files = 0;
    for await (const info of store.list()) {
      files++;
      expect(await hashFile(store.pathOf(info.sha256))).toBe(info.sha256);
    }
    expect(files).toBeGreaterThanOrEqual(rows.length);

    // What the killed writers left half-written stays in staging until swept.
    const staging = path.join(root, '.staging');
    const leftovers = existsSync(staging) ? readdirSync(staging).length : 0;
    expect(await store.sweepStaging(0, Date.now() + 1000)).toBe(leftovers);
  }, 120_000);
});
