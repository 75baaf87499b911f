import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { decideServe, etagFor, parseRange, type ServeFile } from '../../../../app/features/attachments/serve';
import { FolderBlobStore } from '../../../../app/storage/folder-blob-store';
import { startBlobServer } from './support/blob-server';

const FILE: ServeFile = { sha256: 'a'.repeat(64), size: 1000, name: 'log.txt', type: { contentType: 'text/plain', inline: false } };

describe('parsing Range', () => {
  test.each([
    ['bytes=0-99', { kind: 'partial', range: { start: 0, end: 99 } }],
    ['bytes=990-', { kind: 'partial', range: { start: 990, end: 999 } }],
    ['bytes=-10', { kind: 'partial', range: { start: 990, end: 999 } }],
    ['bytes=-5000', { kind: 'partial', range: { start: 0, end: 999 } }],
    ['bytes=500-99999', { kind: 'partial', range: { start: 500, end: 999 } }],
    ['Bytes = 1 - 2', { kind: 'partial', range: { start: 1, end: 2 } }],
    ['bytes=1000-', { kind: 'unsatisfiable' }],
    ['bytes=5000-6000', { kind: 'unsatisfiable' }],
    ['bytes=-0', { kind: 'unsatisfiable' }],
    // Ignored, so the whole file is sent: malformed, other units, backwards, several ranges.
    ['bytes=abc', { kind: 'whole' }],
    ['items=0-1', { kind: 'whole' }],
    ['bytes=9-3', { kind: 'whole' }],
    ['bytes=-', { kind: 'whole' }],
    ['bytes=0-1,5-9', { kind: 'whole' }],
    [undefined, { kind: 'whole' }],
  ])('when Range is %j on 1000 bytes, then %j', (header, expected) => {
    expect(parseRange(header, 1000)).toEqual(expected);
  });

  test('when the file is empty, then every range is unsatisfiable', () => {
    expect(parseRange('bytes=0-', 0)).toEqual({ kind: 'unsatisfiable' });
    expect(parseRange('bytes=-1', 0)).toEqual({ kind: 'unsatisfiable' });
  });
});

describe('serving decisions', () => {
  test('when a file is fetched, then it comes whole with the private-cache, nosniff, sandbox and validator headers', () => {
    const d = decideServe({ method: 'GET' }, FILE);
    expect(d.status).toBe(200);
    expect(d.body).toBe('whole');
    expect(d.headers).toEqual({
      ETag: `"${'a'.repeat(64)}"`,
      'Cache-Control': 'private, max-age=3600',
      'X-Content-Type-Options': 'nosniff',
      'Content-Security-Policy': 'sandbox',
      'Accept-Ranges': 'bytes',
      'Content-Type': 'text/plain',
      'Content-Disposition': 'attachment; filename="log.txt"',
      'Content-Length': '1000',
    });
  });

  test('when no copy may be kept (maxAgeSeconds 0), then the answer says no-store', () => {
    expect(decideServe({ method: 'GET' }, FILE, { maxAgeSeconds: 0 }).headers['Cache-Control']).toBe('private, no-store');
    expect(decideServe({ method: 'GET' }, FILE, { maxAgeSeconds: 60 }).headers['Cache-Control']).toBe('private, max-age=60');
  });

  test('when inline is asked for, then only an inline-safe image gets it', () => {
    expect(decideServe({ method: 'GET' }, FILE, { inline: true }).headers['Content-Disposition']).toMatch(/^attachment;/);
    const png = { ...FILE, name: 'a.png', type: { contentType: 'image/png', inline: true } };
    expect(decideServe({ method: 'GET' }, png, { inline: true }).headers['Content-Disposition']).toMatch(/^inline;/);
    expect(decideServe({ method: 'GET' }, png).headers['Content-Disposition']).toMatch(/^attachment;/);
  });

  test('when the browser already has these bytes, then 304 with no body', () => {
    for (const inm of [etagFor(FILE.sha256), `W/${etagFor(FILE.sha256)}`, `"x", ${etagFor(FILE.sha256)}`, '*']) {
      const d = decideServe({ method: 'GET', ifNoneMatch: inm, range: 'bytes=0-1' }, FILE);
      expect(d.status).toBe(304);
      expect(d.body).toBeNull();
      expect(d.headers.ETag).toBe(etagFor(FILE.sha256));
      expect(d.headers['Content-Length']).toBeUndefined();
    }
    expect(decideServe({ method: 'GET', ifNoneMatch: '"other"' }, FILE).status).toBe(200);
  });

  test('when a range is asked for, then 206 with Content-Range; HEAD gets the headers only', () => {
    const d = decideServe({ method: 'GET', range: 'bytes=10-19' }, FILE);
    expect(d).toMatchObject({ status: 206, body: { start: 10, end: 19 } });
    expect(d.headers['Content-Range']).toBe('bytes 10-19/1000');
    expect(d.headers['Content-Length']).toBe('10');
    expect(decideServe({ method: 'HEAD', range: 'bytes=10-19' }, FILE)).toMatchObject({ status: 206, body: null });
    expect(decideServe({ method: 'HEAD' }, FILE)).toMatchObject({ status: 200, body: null });
  });

  test('when a range lies beyond the end, then 416 with the size', () => {
    const d = decideServe({ method: 'GET', range: 'bytes=1000-' }, FILE);
    expect(d).toMatchObject({ status: 416, body: null });
    expect(d.headers['Content-Range']).toBe('bytes */1000');
  });

  test('when If-Range names these bytes, then the range stands; otherwise the whole file is sent', () => {
    expect(decideServe({ method: 'GET', range: 'bytes=0-9', ifRange: etagFor(FILE.sha256) }, FILE).status).toBe(206);
    expect(decideServe({ method: 'GET', range: 'bytes=0-9', ifRange: '"older"' }, FILE).status).toBe(200);
    // Weak tags never satisfy If-Range, and we send no Last-Modified for a date to match.
    expect(decideServe({ method: 'GET', range: 'bytes=0-9', ifRange: `W/${etagFor(FILE.sha256)}` }, FILE).status).toBe(200);
    expect(decideServe({ method: 'GET', range: 'bytes=0-9', ifRange: 'Wed, 21 Oct 2015 07:28:00 GMT' }, FILE).status).toBe(200);
  });
});

async function get(url: string, headers: Record<string, string> = {}) {
  const res = await fetch(url, { headers });
  return { status: res.status, headers: res.headers, body: Buffer.from(await res.arrayBuffer()) };
}

describe('serving from the folder store over HTTP', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'deskside-serve-'));
  const store = new FolderBlobStore(dir);
  const bytes = randomBytes(3 * 1024 * 1024 + 17);
  const sha256 = createHash('sha256').update(bytes).digest('hex');
  let server: Awaited<ReturnType<typeof startBlobServer>>;
  beforeAll(async () => {
    await store.put(Readable.from([bytes]));
    server = await startBlobServer(store, 'Ünïcode "dump".bin');
  });
  afterAll(async () => {
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test('when the file is downloaded, then every byte arrives with the attachment headers', async () => {
    const res = await get(`${server.url}/${sha256}`);
    expect(res.status).toBe(200);
    expect(res.body.equals(bytes)).toBe(true);
    expect(res.headers.get('content-length')).toBe(String(bytes.length));
    expect(res.headers.get('content-type')).toBe('application/octet-stream');
    expect(res.headers.get('content-disposition')).toBe(`attachment; filename="Unicode \\"dump\\".bin"; filename*=UTF-8''%C3%9Cn%C3%AFcode%20%22dump%22.bin`);
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    expect(res.headers.get('content-security-policy')).toBe('sandbox');
    expect(res.headers.get('etag')).toBe(`"${sha256}"`);
  });

  test('when a range is requested, then exactly those bytes arrive with 206', async () => {
    const res = await get(`${server.url}/${sha256}`, { Range: 'bytes=1048570-1048599' });
    expect(res.status).toBe(206);
    expect(res.headers.get('content-range')).toBe(`bytes 1048570-1048599/${bytes.length}`);
    expect(res.body.equals(bytes.subarray(1048570, 1048600))).toBe(true);
  });

  test('when the browser revalidates with the ETag, then 304 and no body', async () => {
    const res = await get(`${server.url}/${sha256}`, { 'If-None-Match': `"${sha256}"` });
    expect(res.status).toBe(304);
    expect(res.body.length).toBe(0);
  });

  test('when the range is past the end, then 416 with the size', async () => {
    const res = await get(`${server.url}/${sha256}`, { Range: `bytes=${bytes.length}-` });
    expect(res.status).toBe(416);
    expect(res.headers.get('content-range')).toBe(`bytes */${bytes.length}`);
  });

  test('when the blob does not exist, then the route can still answer 404', async () => {
    expect((await get(`${server.url}/${'b'.repeat(64)}`)).status).toBe(404);
  });
});
