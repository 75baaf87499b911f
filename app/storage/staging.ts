import { createHash, randomUUID } from 'node:crypto';
import { mkdir, open, readdir, rm, stat, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { BlobHashMismatchError, BlobTooLargeError, type BlobRef, type StagedBlob, type StageOptions } from './blob-store';

/** Staged files end so; a sweep removes only names of this shape, never anything else in the folder. */
export const STAGING_SUFFIX = '.part';

/** How many of a file's first bytes staging keeps, so its type can be told without reading it again. */
export const HEAD_BYTES = 64;

export interface StagedFile {
  path: string;
  sha256: string;
  size: number;
  /** The first HEAD_BYTES bytes (fewer if the file is shorter). */
  head: Buffer;
}

/**
 * Write `source` to a new, uniquely named file in `dir` while hashing and counting it,
 * then fsync and close it. Memory stays at one chunk: the source is paused while each
 * chunk is written. On any failure the file is removed and the error thrown; the source
 * is then left flowing (drained, never destroyed), so a multipart parser that owns it
 * carries on with the rest of the request.
 */
export async function stageToFile(dir: string, source: Readable, opts: StageOptions = {}): Promise<StagedFile> {
  // The source may fail while the staging file is still being opened (a client that goes
  // away early, on a busy server): hold its error until copyInto listens, which reads it
  // back from `source.errored`, rather than let an unheard 'error' event crash the process.
  const holdError = () => undefined;
  source.on('error', holdError);
  try {
    return await stageInto(dir, source, opts);
  } finally {
    source.off('error', holdError);
  }
}

async function stageInto(dir: string, source: Readable, opts: StageOptions): Promise<StagedFile> {
  await mkdir(dir, { recursive: true });
  const file = path.join(dir, `${randomUUID()}${STAGING_SUFFIX}`);
  const fh = await open(file, 'wx');
  const hash = createHash('sha256');
  let size = 0;
  let head = Buffer.alloc(0);
  const max = opts.maxBytes ?? Infinity;
  try {
    await copyInto(source, fh, (chunk) => {
      if (head.length < HEAD_BYTES) head = Buffer.concat([head, chunk.subarray(0, HEAD_BYTES - head.length)]);
      size += chunk.length;
      if (size > max) throw new BlobTooLargeError(max);
      hash.update(chunk);
    });
    await fh.sync();
  } catch (err) {
    await fh.close().catch(() => undefined);
    await rm(file, { force: true });
    throw err;
  }
  await fh.close();
  const sha256 = hash.digest('hex');
  if (opts.expectedSha256 !== undefined && opts.expectedSha256 !== sha256) {
    await rm(file, { force: true });
    throw new BlobHashMismatchError(opts.expectedSha256, sha256);
  }
  return { path: file, sha256, size, head };
}

/**
 * A StagedBlob over a staged file: commit runs `place` once (later calls share its
 * result); discard removes the file unless it has been committed. `place` owns the
 * staged file from then on (renames or removes it).
 */
export function stagedBlob(staged: StagedFile, place: (staged: StagedFile) => Promise<BlobRef>): StagedBlob {
  let placed: Promise<BlobRef> | undefined;
  return {
    sha256: staged.sha256,
    size: staged.size,
    head: staged.head,
    commit: () => (placed ??= place(staged)),
    discard: async () => {
      if (!placed) await rm(staged.path, { force: true });
    },
  };
}

function copyInto(source: Readable, fh: FileHandle, check: (chunk: Buffer) => void): Promise<void> {
  return new Promise((resolve, reject) => {
    let settled = false;
    // 'end' may be scheduled while the last chunk is still being written; wait for it.
    let pending: Promise<unknown> = Promise.resolve();
    const settle = (err?: unknown) => {
      if (settled) return;
      settled = true;
      source.off('data', onData);
      source.off('end', onEnd);
      source.off('error', settle);
      source.off('close', onClose);
      if (err === undefined) return resolve();
      // Keep reading (and dropping) whatever else arrives so the producer is not stuck.
      source.on('error', () => undefined);
      source.resume();
      reject(err instanceof Error ? err : new Error('staging failed', { cause: err }));
    };
    const onData = (data: Buffer | string) => {
      const chunk = typeof data === 'string' ? Buffer.from(data) : data;
      try {
        check(chunk);
      } catch (err) {
        return settle(err);
      }
      source.pause();
      pending = fh.write(chunk).then(() => {
        if (!settled) source.resume();
      }, settle);
    };
    const onEnd = () => void pending.then(() => settle(), settle);
    // Destroyed before or while being read (a client that went away): no 'end' will come.
    const onClose = () => {
      if (!source.readableEnded) settle(source.errored ?? new Error('the source closed before its end'));
    };
    if (source.destroyed) return onClose();
    source.on('data', onData);
    source.once('end', onEnd);
    source.once('error', settle);
    source.once('close', onClose);
    source.resume();
  });
}

/** Remove staged files in `dir` last modified before `now - olderThanMs`; returns how many. */
export async function sweepStagingDir(dir: string, olderThanMs: number, now = Date.now()): Promise<number> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return 0;
    throw err;
  }
  let removed = 0;
  for (const name of names) {
    if (!name.endsWith(STAGING_SUFFIX)) continue;
    const file = path.join(dir, name);
    const st = await stat(file).catch(() => null);
    if (!st || !st.isFile() || st.mtimeMs > now - olderThanMs) continue;
    await rm(file, { force: true });
    removed++;
  }
  return removed;
}
