import type { Readable } from 'node:stream';

/**
 * Attachment bytes, addressed by their SHA-256. A store keeps whole files only: every
 * way in writes somewhere private first and makes the bytes visible under their hash in
 * one step, so a crash at any point leaves either no blob or a whole one.
 *
 * The ordering rule the attachments feature relies on: `put` (or `StagedBlob.commit`)
 * resolves only once the bytes are durable; only then may a row that points at them be
 * committed. Committing the row is the caller's business, never the store's.
 */
export interface BlobStore {
  /**
   * Stream `source` into the store's private staging area while hashing it. The bytes are
   * not visible under their hash until `commit()`; `discard()` removes them. Never buffers
   * the whole source. On failure (limit, hash mismatch, I/O) nothing is left behind.
   */
  stage(source: Readable, opts?: StageOptions): Promise<StagedBlob>;
  /** stage + commit in one call. */
  put(source: Readable, opts?: StageOptions): Promise<BlobRef>;
  /** Size and last put time of a stored blob, or null when there is none. */
  stat(sha256: string): Promise<BlobInfo | null>;
  has(sha256: string): Promise<boolean>;
  /**
   * The stored bytes, or only `range` of them (inclusive, as in HTTP). Rejects with
   * BlobNotFoundError before any byte is produced when the blob does not exist; the
   * caller checks the range against `stat().size`.
   */
  open(sha256: string, range?: ByteRange): Promise<Readable>;
  /** Remove a blob unconditionally; no error when it is already gone. */
  delete(sha256: string): Promise<void>;
  /**
   * Remove a blob only if nobody has put it again since `seen` was listed. Every put of
   * existing content refreshes its time, so a sweep that decided "unreferenced" before a
   * new row was committed never removes the bytes that row points at. True if removed.
   */
  deleteIfUnchanged(seen: BlobInfo): Promise<boolean>;
  /** Every stored blob, in no particular order, without holding them all in memory. */
  list(): AsyncIterable<BlobInfo>;
  /** Remove staged bytes left behind by crashed writers (older than `olderThanMs`); returns how many. */
  sweepStaging(olderThanMs: number, now?: number): Promise<number>;
}

export interface StageOptions {
  /** Refuse (BlobTooLargeError) as soon as more than this many bytes arrive. */
  maxBytes?: number;
  /** Refuse (BlobHashMismatchError) unless the bytes hash to this. */
  expectedSha256?: string;
}

export interface BlobRef {
  sha256: string;
  size: number;
}

export interface BlobInfo extends BlobRef {
  /** When the bytes were last put (first write or a later put of the same content). */
  storedAt: Date;
}

/** A byte range, both ends inclusive, already checked against the blob's size. */
export interface ByteRange {
  start: number;
  end: number;
}

/** Bytes in the staging area, hashed and complete, not yet visible under their hash. */
export interface StagedBlob extends BlobRef {
  /** The first bytes of the file (up to 64; all of it if shorter): enough to tell its type. */
  head: Buffer;
  /**
   * Make the bytes durable and visible under their hash; resolves once a crash can no
   * longer lose them. Committing content that is already stored succeeds too.
   */
  commit(): Promise<BlobRef>;
  /** Forget the staged bytes; safe to call more than once and after commit. */
  discard(): Promise<void>;
}

export class BlobNotFoundError extends Error {
  constructor(readonly sha256: string) {
    super(`no stored blob ${sha256}`);
  }
}

export class BlobTooLargeError extends Error {
  constructor(readonly maxBytes: number) {
    super(`more than ${maxBytes} bytes`);
  }
}

export class BlobHashMismatchError extends Error {
  constructor(
    readonly expected: string,
    readonly actual: string,
  ) {
    super(`expected SHA-256 ${expected}, got ${actual}`);
  }
}

const SHA256_HEX = /^[0-9a-f]{64}$/;

/** Hashes reach file paths and SQL; anything but 64 lowercase hex digits is refused outright. */
export function assertSha256(sha256: string): void {
  if (!SHA256_HEX.test(sha256)) throw new TypeError(`not a SHA-256 in lowercase hex: ${JSON.stringify(sha256).slice(0, 80)}`);
}
