import { randomUUID } from 'node:crypto';
import { mkdir, open, readdir, rename, rm, stat, utimes } from 'node:fs/promises';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { assertSha256, BlobNotFoundError, type BlobInfo, type BlobRef, type BlobStore, type ByteRange, type StagedBlob, type StageOptions } from './blob-store';
import { stagedBlob, stageToFile, sweepStagingDir, type StagedFile } from './staging';

/** Where a store keeps staged uploads and bytes on their way out; on the same volume as the blobs, so rename is atomic. */
const STAGING = '.staging';
const TRASH = '.trash';
const SHARD = /^[0-9a-f]{2}$/;

export interface FolderBlobStoreOptions {
  /** For tests of the Windows path; defaults to process.platform. */
  platform?: NodeJS.Platform;
}

/**
 * Blobs as files under `root`, at `<root>/ab/cd/<sha256>`. `root` may be a UNC share
 * that several servers write at once: staged files have unique names, the final name
 * depends only on the content, and a file appears there only by rename of a complete,
 * fsynced file. Two writers of the same content both succeed (rename over an identical
 * file, or find it already there).
 */
export class FolderBlobStore implements BlobStore {
  readonly root: string;
  private readonly stagingDir: string;
  private readonly trashDir: string;
  private readonly platform: NodeJS.Platform;

  constructor(root: string, opts: FolderBlobStoreOptions = {}) {
    this.root = path.resolve(root);
    this.stagingDir = path.join(this.root, STAGING);
    this.trashDir = path.join(this.root, TRASH);
    this.platform = opts.platform ?? process.platform;
  }

  pathOf(sha256: string): string {
    assertSha256(sha256);
    return path.join(this.root, sha256.slice(0, 2), sha256.slice(2, 4), sha256);
  }

  async stage(source: Readable, opts: StageOptions = {}): Promise<StagedBlob> {
    return stagedBlob(await stageToFile(this.stagingDir, source, opts), (staged) => this.place(staged));
  }

  async put(source: Readable, opts: StageOptions = {}): Promise<BlobRef> {
    return (await this.stage(source, opts)).commit();
  }

  private async place(staged: StagedFile): Promise<BlobRef> {
    const ref = { sha256: staged.sha256, size: staged.size };
    const target = this.pathOf(staged.sha256);
    if (await this.refresh(target, staged.size)) {
      await rm(staged.path, { force: true });
      return ref;
    }
    const dir = path.dirname(target);
    const created = await mkdir(dir, { recursive: true });
    try {
      await rename(staged.path, target);
    } catch (err) {
      // Windows will not replace a file that another process is reading; a concurrent
      // writer of the same content put it there, which is just as good.
      if (await this.refresh(target, staged.size)) {
        await rm(staged.path, { force: true });
        return ref;
      }
      throw err;
    }
    // The rename is durable only once the directory entry is: fsync the shard folder,
    // and the folders above it that mkdir has just made.
    await this.syncDir(dir);
    if (created !== undefined) {
      const top = path.dirname(created);
      for (let d = path.dirname(dir); ; d = path.dirname(d)) {
        await this.syncDir(d);
        if (d === top || d === path.dirname(d)) break;
      }
    }
    return ref;
  }

  /**
   * If the blob is already stored whole, move its time to now and say so. A sweep compares
   * that time before deleting, so bytes put again are never swept from under a new row.
   */
  private async refresh(target: string, size: number): Promise<boolean> {
    const st = await stat(target).catch(() => null);
    if (!st || !st.isFile() || st.size !== size) return false;
    const now = new Date();
    try {
      await utimes(target, now, now);
      return true;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
      throw err;
    }
  }

  private async syncDir(dir: string): Promise<void> {
    // Windows cannot open a directory for FlushFileBuffers; NTFS and SMB servers journal
    // the rename's metadata themselves.
    if (this.platform === 'win32') return;
    let fh;
    try {
      fh = await open(dir, 'r');
      await fh.sync();
    } catch (err) {
      // Some network file systems (CIFS mounts) refuse fsync on a directory.
      if (['EINVAL', 'EISDIR', 'ENOTSUP', 'EPERM', 'EBADF'].includes((err as NodeJS.ErrnoException).code ?? '')) return;
      throw err;
    } finally {
      await fh?.close();
    }
  }

  async stat(sha256: string): Promise<BlobInfo | null> {
    const st = await stat(this.pathOf(sha256)).catch((err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT' || err.code === 'ENOTDIR') return null;
      throw err;
    });
    return st && st.isFile() ? { sha256, size: st.size, storedAt: st.mtime } : null;
  }

  async has(sha256: string): Promise<boolean> {
    return (await this.stat(sha256)) !== null;
  }

  async open(sha256: string, range?: ByteRange): Promise<Readable> {
    let fh;
    try {
      fh = await open(this.pathOf(sha256), 'r');
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' || code === 'ENOTDIR') throw new BlobNotFoundError(sha256);
      throw err;
    }
    return fh.createReadStream(range ? { start: range.start, end: range.end } : {});
  }

  async delete(sha256: string): Promise<void> {
    await rm(this.pathOf(sha256), { force: true });
  }

  async deleteIfUnchanged(seen: BlobInfo): Promise<boolean> {
    const target = this.pathOf(seen.sha256);
    // Move it aside first, then look at its time: a put that refreshed it before the move
    // shows in the moved file's time (and it goes back); a put after the move finds no
    // file and renames its own copy in.
    await mkdir(this.trashDir, { recursive: true });
    const aside = path.join(this.trashDir, `${seen.sha256}.${Date.now()}.${randomUUID()}`);
    try {
      await rename(target, aside);
    } catch (err) {
      // Gone already, or (Windows) open by a reader: try again next sweep.
      if (['ENOENT', 'EBUSY', 'EPERM', 'EACCES'].includes((err as NodeJS.ErrnoException).code ?? '')) return false;
      throw err;
    }
    const st = await stat(aside);
    if (st.mtime.getTime() !== seen.storedAt.getTime()) {
      await this.putBack(aside, target);
      return false;
    }
    await rm(aside, { force: true });
    return true;
  }

  private async putBack(aside: string, target: string): Promise<void> {
    try {
      await rename(aside, target);
    } catch (err) {
      if ((await stat(target).catch(() => null)) === null) throw err;
      await rm(aside, { force: true });
    }
  }

  async *list(): AsyncIterable<BlobInfo> {
    for (const a of await dirNames(this.root)) {
      if (!SHARD.test(a)) continue;
      for (const b of await dirNames(path.join(this.root, a))) {
        if (!SHARD.test(b)) continue;
        for (const name of await dirNames(path.join(this.root, a, b))) {
          if (!/^[0-9a-f]{64}$/.test(name) || name.slice(0, 4) !== a + b) continue;
          const info = await this.stat(name);
          if (info) yield info;
        }
      }
    }
  }

  /**
   * Staged files of crashed writers are removed. Blobs a crashed sweep had moved aside are
   * put back (never deleted): whether a row has come to point at them is not known here,
   * and the next sweep decides again.
   */
  async sweepStaging(olderThanMs: number, now = Date.now()): Promise<number> {
    let n = await sweepStagingDir(this.stagingDir, olderThanMs, now);
    for (const name of await dirNames(this.trashDir)) {
      // The time it was moved aside is in its name: file times survive a rename.
      const match = /^([0-9a-f]{64})\.(\d+)\./.exec(name);
      if (!match || Number(match[2]) > now - olderThanMs) continue;
      const aside = path.join(this.trashDir, name);
      const target = this.pathOf(match[1]);
      await mkdir(path.dirname(target), { recursive: true });
      await this.putBack(aside, target);
      n++;
    }
    return n;
  }
}

async function dirNames(dir: string): Promise<string[]> {
  try {
    return await readdir(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
}
