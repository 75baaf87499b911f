import type { BlobInfo, BlobStore } from './blob-store';

export interface SweepOptions {
  /**
   * Which of these hashes some database row still points at (the attachments feature
   * answers; removed attachments stop counting once their own retention allows).
   */
  isReferenced(sha256s: string[]): Promise<Set<string>>;
  /** Unreferenced bytes are kept at least this long after they were last put. */
  retentionMs: number;
  /** Staged files of crashed writers older than this go; an upload in progress is far younger. */
  stagingMaxAgeMs?: number;
  /** Hashes per isReferenced call (SQL Server takes at most 2,100 parameters). */
  batchSize?: number;
  now?: number;
}

export interface SweepResult {
  /** Blobs old enough to be considered. */
  considered: number;
  deleted: number;
  stagingRemoved: number;
}

export const STAGING_MAX_AGE_MS = 60 * 60 * 1000;

/**
 * Delete bytes that no row refers to and that have not been put for `retentionMs`.
 * Safe while uploads and other sweeps run: a blob is removed only through
 * deleteIfUnchanged, so bytes put again after the reference check stay.
 */
export async function sweepBlobs(store: BlobStore, opts: SweepOptions): Promise<SweepResult> {
  const now = opts.now ?? Date.now();
  const cutoff = now - opts.retentionMs;
  const batchSize = Math.max(1, opts.batchSize ?? 500);
  const result: SweepResult = { considered: 0, deleted: 0, stagingRemoved: 0 };
  let batch: BlobInfo[] = [];
  const flush = async () => {
    const referenced = await opts.isReferenced(batch.map((b) => b.sha256));
    for (const info of batch) {
      if (!referenced.has(info.sha256) && (await store.deleteIfUnchanged(info))) result.deleted++;
    }
    batch = [];
  };
  for await (const info of store.list()) {
    if (info.storedAt.getTime() > cutoff) continue;
    result.considered++;
    batch.push(info);
    if (batch.length >= batchSize) await flush();
  }
  if (batch.length > 0) await flush();
  result.stagingRemoved = await store.sweepStaging(opts.stagingMaxAgeMs ?? STAGING_MAX_AGE_MS, now);
  return result;
}
