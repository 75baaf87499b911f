import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import { parseMultipart, type Fields, type MultipartLimits, type MultipartResult } from '../../../../app/features/attachments/multipart';
import { FolderBlobStore } from '../../../../app/storage/folder-blob-store';

type Part = { name: string; value: string } | { name: string; filename?: string; type?: string; size: number; fill?: string };

const BOUNDARY = '----DesksideTestBoundary7MA4YWxkTrZu0gW';
const CRLF = '\r\n';

/** A multipart/form-data body, part by part, file bytes generated as they are sent (never all in memory). */
function* bodyOf(parts: Part[]): Generator<Buffer> {
  for (const p of parts) {
    if ('value' in p) {
      yield Buffer.from(`--${BOUNDARY}${CRLF}Content-Disposition: form-data; name="${p.name}"${CRLF}${CRLF}${p.value}${CRLF}`);
      continue;
    }
    const filename = p.filename === undefined ? '' : `; filename="${p.filename}"`;
    yield Buffer.from(`--${BOUNDARY}${CRLF}Content-Disposition: form-data; name="${p.name}"${filename}${CRLF}Content-Type: ${p.type ?? 'application/octet-stream'}${CRLF}${CRLF}`);
    for (let off = 0; off < p.size; off += 65536) yield contentOf(p, off, Math.min(65536, p.size - off));
    yield Buffer.from(CRLF);
  }
  yield Buffer.from(`--${BOUNDARY}--${CRLF}`);
}
const contentOf = (p: { fill?: string; filename?: string }, offset: number, length: number) => Buffer.alloc(length, `${p.fill ?? p.filename ?? 'x'}:${offset};`);
const sha = (p: { fill?: string; filename?: string; size: number }) => createHash('sha256').update(Buffer.concat([...(function* () {
  for (let off = 0; off < p.size; off += 65536) yield contentOf(p, off, Math.min(65536, p.size - off));
})()])).digest('hex');

const MB = 1024 * 1024;
const LIMITS: MultipartLimits = { maxFileBytes: 2 * MB, maxPostBytes: 3 * MB, maxFiles: 3 };

interface Seen {
  result: MultipartResult;
  /** Every call of beforeFiles, with the fields it was given. */
  hook: Fields[];
  committed: { sha256: string; size: number; name: string; originalName: string }[];
}

describe('multipart uploads', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'deskside-multipart-'));
  const store = new FolderBlobStore(dir);
  const staging = () => (existsSync(path.join(dir, '.staging')) ? readdirSync(path.join(dir, '.staging')) : []);
  let server: http.Server;
  let url: string;
  let limits = LIMITS;
  let verdict = true;
  let last: Promise<Seen>;
  let settle: (s: Seen) => void;

  beforeAll(async () => {
    server = http.createServer((req, res) => {
      void (async () => {
        const hook: Fields[] = [];
        const result = await parseMultipart(req, store, {
          limits,
          beforeFiles: async (fields) => {
            hook.push(fields);
            return verdict && fields._csrf === 'good-token';
          },
        });
        const committed = result.ok ? await Promise.all(result.files.map(async (f) => ({ ...(await f.staged.commit()), name: f.name, originalName: f.originalName }))) : [];
        const seen = { result, hook, committed };
        if (!result.ok && result.unread) res.setHeader('Connection', 'close');
        res.statusCode = result.ok ? 200 : result.problems[0].kind === 'body-too-large' ? 413 : 400;
        res.end(JSON.stringify({ ok: result.ok }));
        settle(seen);
      })();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/upload`;
  });
  afterAll(async () => {
    await new Promise((r) => server.close(r));
    rmSync(dir, { recursive: true, force: true });
  });
  beforeEach(() => {
    limits = LIMITS;
    verdict = true;
    last = new Promise((resolve) => (settle = resolve));
  });

  /**
   * Post the parts over a real socket; resolve with what the server parsed and the HTTP
   * status. `oneChunk`: the whole body in one write, as a small form usually arrives, so
   * busboy parses every part of it at once.
   */
  async function post(parts: Part[], headers: Record<string, string> = {}, opts: { oneChunk?: boolean } = {}): Promise<Seen & { status: number }> {
    const status = await new Promise<number>((resolve, reject) => {
      const req = http.request(url, { method: 'POST', headers: { 'Content-Type': `multipart/form-data; boundary=${BOUNDARY}`, ...headers } }, (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode!));
      });
      // The server may answer and close before the whole body is sent: that is the point.
      req.on('error', (err) => ((err as NodeJS.ErrnoException).code === 'EPIPE' || (err as NodeJS.ErrnoException).code === 'ECONNRESET' ? undefined : reject(err)));
      if (opts.oneChunk) req.end(Buffer.concat([...bodyOf(parts)]));
      else Readable.from(bodyOf(parts)).pipe(req);
    });
    return { ...(await last), status };
  }

  const problems = (s: Seen) => (s.result.ok ? [] : s.result.problems.map((p) => p.kind));

  test('when the token comes first and the files are within limits, then fields are read and each file is staged, hashed and committable', async () => {
    const a = { name: 'files', filename: 'screen shot.png', type: 'image/png', size: 300_000 };
    const b = { name: 'files', filename: 'C:\\Users\\bob\\Überweisung \u202Efdp.exe', size: 1 * MB };
    const s = await post([{ name: '_csrf', value: 'good-token' }, { name: 'title', value: 'Printer on fire' }, a, b, { name: 'description', value: 'See attached' }, { name: 'tag', value: 'x' }, { name: 'tag', value: 'y' }]);
    expect(s.status).toBe(200);
    expect(s.result.ok).toBe(true);
    expect(s.result.fields).toEqual({ _csrf: 'good-token', title: 'Printer on fire', description: 'See attached', tag: ['x', 'y'] });
    expect(s.hook).toEqual([{ _csrf: 'good-token', title: 'Printer on fire' }]);
    expect(s.committed).toEqual([
      { sha256: sha(a), size: a.size, name: 'screen shot.png', originalName: 'screen shot.png' },
      { sha256: sha(b), size: b.size, name: 'Überweisung fdp.exe', originalName: 'Überweisung \u202Efdp.exe' },
    ]);
    expect(contentOf(b, 0, 64).equals((await buffer(await store.open(sha(b), { start: 0, end: 63 }))))).toBe(true);
    expect(s.result.ok && s.result.files.map((f) => f.declaredType)).toEqual(['image/png', 'application/octet-stream']);
    expect(staging()).toEqual([]);
  });

  test('when the token does not verify, then the post is refused at the first file and nothing is written', async () => {
    const s = await post([{ name: '_csrf', value: 'forged' }, { name: 'title', value: 't' }, { name: 'files', filename: 'a.txt', size: 1000 }, { name: 'after', value: 'z' }]);
    expect(s.status).toBe(400);
    expect(problems(s)).toEqual(['refused']);
    expect(s.hook).toEqual([{ _csrf: 'forged', title: 't' }]);
    expect(s.result).toMatchObject({ ok: false, unread: true });
    expect(await store.has(sha({ filename: 'a.txt', size: 1000 }))).toBe(false);
    expect(staging()).toEqual([]);
  });

  test('when a file arrives before the token, then it is refused without asking the hook or writing anything', async () => {
    const s = await post([{ name: 'files', filename: 'early.txt', size: 5000 }, { name: '_csrf', value: 'good-token' }]);
    expect(problems(s)).toEqual(['file-before-csrf']);
    expect(s.hook).toEqual([]);
    expect(await store.has(sha({ filename: 'early.txt', size: 5000 }))).toBe(false);
    expect(staging()).toEqual([]);
  });

  test('when a whole small body arrives at once, then a file before the token is still refused and the hook sees only the fields before the first file', async () => {
    const early = await post([{ name: 'files', filename: 'early.txt', size: 500 }, { name: '_csrf', value: 'good-token' }], {}, { oneChunk: true });
    expect(problems(early)).toEqual(['file-before-csrf']);
    expect(early.hook).toEqual([]);
    expect(staging()).toEqual([]);
    last = new Promise((resolve) => (settle = resolve));
    const fine = await post([{ name: '_csrf', value: 'good-token' }, { name: 'files', filename: 'a.txt', size: 500 }, { name: 'after', value: 'z' }], {}, { oneChunk: true });
    expect(fine.result.ok).toBe(true);
    expect(fine.hook).toEqual([{ _csrf: 'good-token' }]);
  });

  test('when a file is larger than the per-file limit, then the post is refused, every staged file is removed, and the text after it is kept', async () => {
    const s = await post([
      { name: '_csrf', value: 'good-token' },
      { name: 'files', filename: 'small.txt', size: 10_000 },
      { name: 'files', filename: 'huge.iso', size: 2 * MB + 1 },
      { name: 'description', value: 'my words survive' },
    ]);
    expect(s.status).toBe(400);
    expect(s.result).toMatchObject({ ok: false, unread: false, problems: [{ kind: 'file-too-large', name: 'huge.iso', limit: 2 * MB }] });
    expect(s.result.fields.description).toBe('my words survive');
    expect(await store.has(sha({ filename: 'small.txt', size: 10_000 }))).toBe(false);
    expect(staging()).toEqual([]);
  });

  test('when a file is exactly the per-file limit, then it is accepted', async () => {
    const s = await post([{ name: '_csrf', value: 'good-token' }, { name: 'files', filename: 'edge.bin', size: 2 * MB }]);
    expect(s.result.ok).toBe(true);
  });

  test('when the files together pass the per-post limit, then post-too-large and nothing is kept', async () => {
    const s = await post([
      { name: '_csrf', value: 'good-token' },
      { name: 'files', filename: 'one.bin', size: 1.5 * MB },
      { name: 'files', filename: 'two.bin', size: 1.6 * MB },
    ]);
    expect(problems(s)).toEqual(['post-too-large']);
    expect(staging()).toEqual([]);
    expect(await store.has(sha({ filename: 'one.bin', size: 1.5 * MB }))).toBe(false);
  });

  test('when there are more files than allowed, then too-many-files and nothing is kept', async () => {
    const files = ['1', '2', '3', '4'].map((n) => ({ name: 'files', filename: `f${n}.txt`, size: 100 }));
    const s = await post([{ name: '_csrf', value: 'good-token' }, ...files, { name: 'title', value: 'kept' }]);
    expect(problems(s)).toEqual(['too-many-files']);
    expect(s.result.fields.title).toBe('kept');
    expect(staging()).toEqual([]);
    for (const f of files) expect(await store.has(sha(f))).toBe(false);
  });

  test('when a chosen file is empty, then empty-file; when a file input was left empty, then it is ignored', async () => {
    const empty = await post([{ name: '_csrf', value: 'good-token' }, { name: 'files', filename: 'empty.log', size: 0 }]);
    expect(empty.result).toMatchObject({ ok: false, problems: [{ kind: 'empty-file', name: 'empty.log' }] });
    last = new Promise((resolve) => (settle = resolve));
    const none = await post([{ name: '_csrf', value: 'good-token' }, { name: 'title', value: 't' }, { name: 'files', size: 0 }]);
    expect(none.result).toEqual({ ok: true, fields: { _csrf: 'good-token', title: 't' }, files: [] });
    expect(staging()).toEqual([]);
  });

  test('when a post has no files, then the hook decides once, at the end, with every field', async () => {
    const s = await post([{ name: 'title', value: 'no files' }, { name: '_csrf', value: 'good-token' }]);
    expect(s.result.ok).toBe(true);
    expect(s.hook).toEqual([{ title: 'no files', _csrf: 'good-token' }]);
    last = new Promise((resolve) => (settle = resolve));
    verdict = false;
    expect(problems(await post([{ name: '_csrf', value: 'good-token' }]))).toEqual(['refused']);
  });

  test('when the body passes the absolute limit, then reading stops with 413, the connection closes and nothing is kept', async () => {
    limits = { ...LIMITS, maxBodyBytes: 1 * MB };
    const s = await post([{ name: '_csrf', value: 'good-token' }, { name: 'files', filename: 'a.bin', size: 600_000 }, { name: 'files', filename: 'b.bin', size: 5 * MB }]);
    expect(s.status).toBe(413);
    expect(s.result).toMatchObject({ ok: false, unread: true, problems: [{ kind: 'body-too-large' }] });
    expect(staging()).toEqual([]);
    expect(await store.has(sha({ filename: 'a.bin', size: 600_000 }))).toBe(false);
  });

  test('when Content-Length already says the body is too big, then nothing is read at all', async () => {
    limits = { ...LIMITS, maxBodyBytes: 1000 };
    const s = await post([{ name: '_csrf', value: 'good-token' }, { name: 'files', filename: 'x.bin', size: 10 }], { 'Content-Length': '5000000' });
    expect(s.status).toBe(413);
    expect(s.result).toEqual({ ok: false, fields: {}, problems: [{ kind: 'body-too-large', limit: 1000 }], unread: true });
    expect(s.hook).toEqual([]);
  });

  test('when the post is not multipart or its framing is broken, then malformed', async () => {
    const notMultipart = await post([{ name: '_csrf', value: 'good-token' }], { 'Content-Type': 'application/x-www-form-urlencoded' });
    expect(problems(notMultipart)).toEqual(['malformed']);
    last = new Promise((resolve) => (settle = resolve));
    const truncated = await new Promise<Seen>((resolve) => {
      const req = http.request(url, { method: 'POST', headers: { 'Content-Type': `multipart/form-data; boundary=${BOUNDARY}` } });
      req.on('error', () => undefined);
      req.end(`--${BOUNDARY}${CRLF}Content-Disposition: form-data; name="_csrf"${CRLF}${CRLF}good-token${CRLF}--${BOUNDARY}${CRLF}Content-Disposition: form-data; name="files"; filename="cut.txt"${CRLF}${CRLF}half a fi`);
      void last.then(resolve);
    });
    expect(problems(truncated)).toEqual(['malformed']);
    expect(staging()).toEqual([]);
  });

  test('when the client disconnects in the middle of a file, then the staged part is removed', async () => {
    const seen = new Promise<Seen>((resolve) => {
      const req = http.request(url, { method: 'POST', headers: { 'Content-Type': `multipart/form-data; boundary=${BOUNDARY}` } });
      req.on('error', () => undefined);
      req.write(`--${BOUNDARY}${CRLF}Content-Disposition: form-data; name="_csrf"${CRLF}${CRLF}good-token${CRLF}--${BOUNDARY}${CRLF}Content-Disposition: form-data; name="files"; filename="gone.bin"${CRLF}${CRLF}`);
      req.write(Buffer.alloc(500_000, 'g'), () => setTimeout(() => req.destroy(), 50));
      void last.then(resolve);
    });
    expect(problems(await seen)).toEqual(['malformed']);
    expect(staging()).toEqual([]);
  });
});
