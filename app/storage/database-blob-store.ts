import { open, rm } from 'node:fs/promises';
import { Readable } from 'node:stream';
import type { Kysely } from 'kysely';
import { nowIso, toDate } from '../db/values';
import { assertSha256, BlobNotFoundError, type BlobInfo, type BlobRef, type BlobStore, type ByteRange, type StagedBlob, type StageOptions } from './blob-store';
import { stagedBlob, stageToFile, sweepStagingDir, type StagedFile } from './staging';

/**
 * The tables this store reads and writes (created by a migration of the attachments
 * feature; SQL Server types in brackets):
 *
 *   attachment_blobs(sha256 char(64), seq int, data blob [varbinary(max)], primary key (sha256, seq))
 *   attachment_blob_heads(sha256 char(64) primary key, size bigint, created_at [datetime2(3)])
 *
 * A blob is its head plus chunks 0…n-1 of exactly CHUNK_BYTES each (the last one
 * shorter); a blob without a head does not exist. Head and chunks are written and
 * deleted in one transaction, so readers never see part of a blob. `created_at` is
 * when the bytes were last put: a put of stored content moves it forward, which is how
 * a sweep knows not to delete bytes a newer row points at.
 */
export type BlobTables = {
  attachment_blobs: { sha256: string; seq: number; data: Buffer };
  attachment_blob_heads: { sha256: string; size: number; created_at: string | Date };
};

/** Part of the stored format: changing it needs a data migration. 1 MiB keeps each parameter and row modest on both engines. */
export const CHUNK_BYTES = 1024 * 1024;

export interface DatabaseBlobStoreOptions {
  /** A local folder for uploads until they are committed into the database. */
  stagingDir: string;
  /**
   * How to run a write transaction; the app passes its Database.write so SQLite waits for
   * other processes' writers and SQL Server retries deadlock victims. Defaults to a plain
   * Kysely transaction.
   */
  transaction?: <T>(fn: (trx: Kysely<BlobTables>) => Promise<T>) => Promise<T>;
}

/**
 * Blobs inside the database, for sites that want one backup. Bytes travel in chunks, so
 * neither an upload nor a download holds a whole file in memory or in one parameter.
 * Committing a large file holds one write transaction for as long as its chunks take to
 * insert (on SQLite, other writers wait).
 */
export class DatabaseBlobStore implements BlobStore {
  private readonly transaction: <T>(fn: (trx: Kysely<BlobTables>) => Promise<T>) => Promise<T>;

  constructor(
    private readonly db: Kysely<BlobTables>,
    private readonly opts: DatabaseBlobStoreOptions,
  ) {
    this.transaction = opts.transaction ?? ((fn) => db.transaction().execute(fn));
  }

  async stage(source: Readable, opts: StageOptions = {}): Promise<StagedBlob> {
    // The staged file is only the way in: once its chunks are in the database it goes.
    return stagedBlob(await stageToFile(this.opts.stagingDir, source, opts), (staged) => this.place(staged).finally(() => rm(staged.path, { force: true })));
  }

  async put(source: Readable, opts: StageOptions = {}): Promise<BlobRef> {
    return (await this.stage(source, opts)).commit();
  }

  private async place(staged: StagedFile): Promise<BlobRef> {
    const { sha256, size } = staged;
    try {
      await this.transaction(async (trx) => {
        const refreshed = await trx.updateTable('attachment_blob_heads').set({ created_at: nowIso() }).where('sha256', '=', sha256).executeTakeFirst();
        if (Number(refreshed.numUpdatedRows) > 0) return;
        const fh = await open(staged.path, 'r');
        try {
          const buffer = Buffer.alloc(CHUNK_BYTES);
          for (let seq = 0, offset = 0; offset < size; seq++, offset += CHUNK_BYTES) {
            const { bytesRead } = await fh.read(buffer, 0, Math.min(CHUNK_BYTES, size - offset), offset);
            if (bytesRead !== Math.min(CHUNK_BYTES, size - offset)) throw new Error(`staged file ${staged.path} is shorter than ${size} bytes`);
            // A copy: the driver may still hold the parameter when the next chunk is read.
            await trx.insertInto('attachment_blobs').values({ sha256, seq, data: Buffer.from(buffer.subarray(0, bytesRead)) }).execute();
          }
        } finally {
          await fh.close();
        }
        await trx.insertInto('attachment_blob_heads').values({ sha256, size, created_at: nowIso() }).execute();
      });
    } catch (err) {
      // Another process committing the same content at the same moment wins the primary
      // key; its bytes are ours.
      if ((await this.stat(sha256))?.size === size) return { sha256, size };
      throw err;
    }
    return { sha256, size };
  }

  async stat(sha256: string): Promise<BlobInfo | null> {
    assertSha256(sha256);
    const row = await this.db.selectFrom('attachment_blob_heads').select(['size', 'created_at']).where('sha256', '=', sha256).executeTakeFirst();
    return row ? { sha256, size: Number(row.size), storedAt: toDate(row.created_at)! } : null;
  }

  async has(sha256: string): Promise<boolean> {
    return (await this.stat(sha256)) !== null;
  }

  async open(sha256: string, range?: ByteRange): Promise<Readable> {
    const info = await this.stat(sha256);
    if (!info) throw new BlobNotFoundError(sha256);
    const start = range?.start ?? 0;
    const end = range?.end ?? info.size - 1;
    const db = this.db;
    // One chunk per read: Readable.from asks for the next only when the consumer wants more.
    async function* chunks() {
      for (let seq = Math.floor(start / CHUNK_BYTES); seq * CHUNK_BYTES <= end; seq++) {
        const row = await db.selectFrom('attachment_blobs').select('data').where('sha256', '=', sha256).where('seq', '=', seq).executeTakeFirst();
        if (!row) throw new BlobNotFoundError(sha256);
        const base = seq * CHUNK_BYTES;
        yield Buffer.from(row.data).subarray(Math.max(0, start - base), Math.min(row.data.length, end - base + 1));
      }
    }
    return Readable.from(chunks(), { objectMode: false });
  }

  async delete(sha256: string): Promise<void> {
    assertSha256(sha256);
    await this.transaction(async (trx) => {
      await trx.deleteFrom('attachment_blob_heads').where('sha256', '=', sha256).execute();
      await trx.deleteFrom('attachment_blobs').where('sha256', '=', sha256).execute();
    });
  }

  async deleteIfUnchanged(seen: BlobInfo): Promise<boolean> {
    assertSha256(seen.sha256);
    return this.transaction(async (trx) => {
      const gone = await trx.deleteFrom('attachment_blob_heads').where('sha256', '=', seen.sha256).where('created_at', '<=', seen.storedAt.toISOString()).executeTakeFirst();
      if (Number(gone.numDeletedRows) === 0) return false;
      await trx.deleteFrom('attachment_blobs').where('sha256', '=', seen.sha256).execute();
      return true;
    });
  }

  async *list(): AsyncIterable<BlobInfo> {
    // One two-hex-digit prefix at a time: bounded memory, no dialect-specific paging.
    for (let p = 0; p < 256; p++) {
      const prefix = p.toString(16).padStart(2, '0');
      const rows = await this.db
        .selectFrom('attachment_blob_heads')
        .select(['sha256', 'size', 'created_at'])
        .where('sha256', '>=', prefix)
        .where('sha256', '<', `${prefix}g`)
        .execute();
      for (const r of rows) yield { sha256: r.sha256, size: Number(r.size), storedAt: toDate(r.created_at)! };
    }
  }

  async sweepStaging(olderThanMs: number, now = Date.now()): Promise<number> {
    return sweepStagingDir(this.opts.stagingDir, olderThanMs, now);
  }
}
