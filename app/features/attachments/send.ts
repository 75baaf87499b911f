import type { ServerResponse } from 'node:http';
import { buffer } from 'node:stream/consumers';
import { pipeline } from 'node:stream/promises';
import type { BlobStore } from '../../storage/blob-store';
import { SNIFF_BYTES } from './content-types';
import type { ServeDecision } from './serve';

/**
 * Carry out a ServeDecision: stream the chosen bytes from the store with backpressure, so
 * memory stays flat whatever the file's size. The blob is opened before any header is
 * set, so a missing blob (BlobNotFoundError) can still become an error page. A client
 * that goes away mid-download is not an error.
 */
export async function sendBlob(res: ServerResponse, store: BlobStore, sha256: string, decision: ServeDecision): Promise<void> {
  const source = decision.body === null ? null : await store.open(sha256, decision.body === 'whole' ? undefined : decision.body);
  res.statusCode = decision.status;
  for (const [name, value] of Object.entries(decision.headers)) res.setHeader(name, value);
  if (!source) {
    res.end();
    return;
  }
  try {
    await pipeline(source, res);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ERR_STREAM_PREMATURE_CLOSE') throw err;
  }
}

/** The first bytes of a stored blob, for servedType(). */
export async function readHead(store: BlobStore, sha256: string, size: number): Promise<Buffer> {
  if (size === 0) return Buffer.alloc(0);
  return buffer(await store.open(sha256, { start: 0, end: Math.min(SNIFF_BYTES, size) - 1 }));
}
