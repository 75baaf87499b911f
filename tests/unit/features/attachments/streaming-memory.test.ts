import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { FolderBlobStore } from '../../../../app/storage/folder-blob-store';
import { startBlobServer } from './support/blob-server';

const SIZE = 100 * 1024 * 1024;
const MB = 1024 * 1024;
/** Generous: buffering the file whole would add at least 100 MB; streaming settles at some 35 MB of buffers and young garbage (client and server share this process). */
const BOUND = 64 * MB;

/** 100 MB from one reused 1 MB buffer with a changing first word, so the content is not trivially repetitive. */
function hundredMegabytes(): Readable {
  const chunk = Buffer.alloc(MB, 'deskside attachment bytes ');
  return Readable.from((function* () {
    for (let i = 0; i < SIZE / MB; i++) {
      chunk.writeUInt32BE(i, 0);
      yield chunk;
    }
  })());
}

describe('memory while a 100 MB attachment moves', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'deskside-rss-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  test('when 100 MB is stored and then downloaded over HTTP, then RSS grows by far less than the file', async () => {
    const store = new FolderBlobStore(dir);
    const sampled: number[] = [];
    const sampler = setInterval(() => sampled.push(process.memoryUsage().rss), 5);
    try {
      const before = process.memoryUsage().rss;
      const ref = await store.put(hundredMegabytes());
      expect(ref.size).toBe(SIZE);
      const afterPut = Math.max(...sampled, process.memoryUsage().rss);

      const server = await startBlobServer(store);
      sampled.length = 0;
      const beforeGet = process.memoryUsage().rss;
      const got = await new Promise<{ size: number; sha256: string }>((resolve, reject) => {
        http.get(`${server.url}/${ref.sha256}`, (res) => {
          const hash = createHash('sha256');
          let size = 0;
          res.on('data', (c: Buffer) => {
            size += c.length;
            hash.update(c);
          });
          res.on('end', () => resolve({ size, sha256: hash.digest('hex') }));
          res.on('error', reject);
        }).on('error', reject);
      });
      const peakGet = Math.max(...sampled, process.memoryUsage().rss);
      await server.close();

      expect(got).toEqual({ size: SIZE, sha256: ref.sha256 });
      expect(afterPut - before).toBeLessThan(BOUND);
      expect(peakGet - beforeGet).toBeLessThan(BOUND);
    } finally {
      clearInterval(sampler);
    }
  }, 60_000);
});
