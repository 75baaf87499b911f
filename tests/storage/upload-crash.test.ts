import Sqlite from 'better-sqlite3';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { freePort } from '../support/http-client';
import { proxyServerEnv, spawnServer, waitForListening, type RunningServer } from '../support/server-process';

/**
 * The ordering rule through the whole app: the production build takes uploads over HTTP
 * (new tickets and replies with files, from several clients at once, bodies trickling in)
 * and is killed with SIGKILL mid-load, round after round, on one database and one
 * folder store. Afterwards a fresh server serves every attachment any row points at,
 * whole and hashing to its row, and every upload the server acknowledged is there.
 */
const ROUNDS = 5;
const BOUNDARY = '----DesksideCrashBoundary9f3k2';
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A signed-in browser of its own: session and form-token cookies, the page's token. */
class Uploader {
  private cookies = new Map<string, string>();
  private token = '';
  constructor(
    private readonly port: number,
    readonly login: string,
  ) {}

  private headers(extra: Record<string, string> = {}): Record<string, string> {
    return { 'X-Remote-User': this.login, Cookie: [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; '), ...extra };
  }

  private keep(res: http.IncomingMessage): void {
    for (const c of res.headers['set-cookie'] ?? []) {
      const [pair] = c.split(';');
      const eq = pair.indexOf('=');
      this.cookies.set(pair.slice(0, eq), pair.slice(eq + 1));
    }
  }

  get(pathName: string): Promise<{ status: number; body: Buffer }> {
    return new Promise((resolve, reject) => {
      const req = http.get({ host: '127.0.0.1', port: this.port, path: pathName, headers: this.headers(), agent: false }, (res) => {
        this.keep(res);
        const parts: Buffer[] = [];
        res.on('data', (d: Buffer) => parts.push(d));
        res.on('end', () => {
          const body = Buffer.concat(parts);
          const m = /name="_csrf" value="([^"]+)"/.exec(body.toString('latin1'));
          if (m) this.token = m[1];
          resolve({ status: res.statusCode ?? 0, body });
        });
        res.on('error', reject);
      });
      req.on('error', reject);
    });
  }

  /** A multipart post written in small pieces with pauses, so a kill lands inside bodies as well as between them. */
  post(pathName: string, fields: Record<string, string>, files: { name: string; content: Buffer }[]): Promise<{ status: number; location?: string }> {
    const parts: Buffer[] = [];
    const field = (k: string, v: string) => parts.push(Buffer.from(`--${BOUNDARY}\r\nContent-Disposition: form-data; name="${k}"\r\n\r\n${v}\r\n`));
    field('_csrf', this.token);
    for (const [k, v] of Object.entries(fields)) field(k, v);
    for (const f of files) {
      parts.push(Buffer.from(`--${BOUNDARY}\r\nContent-Disposition: form-data; name="files"; filename="${f.name}"\r\nContent-Type: application/octet-stream\r\n\r\n`), f.content, Buffer.from('\r\n'));
    }
    parts.push(Buffer.from(`--${BOUNDARY}--\r\n`));
    const body = Buffer.concat(parts);
    return new Promise((resolve, reject) => {
      const req = http.request(
        { host: '127.0.0.1', port: this.port, path: pathName, method: 'POST', agent: false, headers: this.headers({ 'Content-Type': `multipart/form-data; boundary=${BOUNDARY}`, 'Content-Length': String(body.length) }) },
        (res) => {
          this.keep(res);
          res.resume();
          res.on('end', () => resolve({ status: res.statusCode ?? 0, location: res.headers.location }));
          res.on('error', reject);
        },
      );
      req.on('error', reject);
      void (async () => {
        for (let off = 0; off < body.length; off += 32 * 1024) {
          if (!req.write(body.subarray(off, off + 32 * 1024))) await new Promise((r) => req.once('drain', r));
          await sleep(2);
        }
        req.end();
      })().catch(reject);
    });
  }
}

/** Some content is shared between clients and rounds, so the same-content race runs too. */
const SHARED = [randomBytes(180 * 1024), randomBytes(3 * 1024), randomBytes(700 * 1024)];
function someFile(n: number, k: number): { name: string; content: Buffer } {
  const pick = (n * 7 + k * 3) % 5;
  const content = pick < 2 ? SHARED[(n + k) % SHARED.length] : randomBytes(1024 + ((n * 131 + k * 977) % (600 * 1024)));
  return { name: `upload-${n}-${k}.bin`, content };
}

describe('killing the server during uploads', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'deskside-upload-crash-'));
  const env = (port: number) => proxyServerEnv(port, { DESKSIDE_ATTACHMENT_STORE: path.join(dir, 'files'), DESKSIDE_ATTACHMENT_MAX_MB: '2' });
  let server: RunningServer | undefined;
  afterAll(async () => {
    await server?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  test(`when the server is killed with SIGKILL mid-upload ${ROUNDS} times, then every committed attachment is served whole and every acknowledged upload is there`, async () => {
    const acknowledged: { ticketId: number; names: string[] }[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      const port = await freePort();
      server = spawnServer(env(port), { dir });
      await waitForListening(server, { port });
      let stop = false;
      const client = async (n: number) => {
        const c = new Uploader(port, n === 0 ? 'TEST\\agent1' : `TEST\\user${n}`);
        let ticketId: number | undefined;
        try {
          await c.get('/tickets/new');
          for (let k = 0; !stop; k++) {
            const files = [someFile(n, k), ...(k % 3 === 0 ? [someFile(n + 1, k)] : [])];
            const res =
              ticketId === undefined || k % 2 === 0
                ? await c.post('/tickets', { title: `crash r${round} c${n} #${k}`, description: 'x', category: '1', priority: 'low' }, files)
                : await c.post(`/tickets/${ticketId}/comments`, { body: `reply r${round} c${n} #${k}` }, files);
            if (res.status !== 303) throw new Error(`upload answered ${res.status}`);
            const id = Number(/^\/tickets\/(\d+)/.exec(res.location!)![1]);
            ticketId ??= id;
            acknowledged.push({ ticketId: id, names: files.map((f) => f.name) });
            await c.get(`/tickets/${id}`);
          }
        } catch (err) {
          // Only the kill may cut a request off.
          if (!stop) throw err;
        }
      };
      const failures: string[] = [];
      const clients = Array.from({ length: 4 }, (_, n) => client(n).catch((err: unknown) => void failures.push(String(err))));
      await sleep(400 + ((round * 331) % 900));
      stop = true;
      server.proc.kill('SIGKILL');
      await new Promise((r) => server!.proc.once('exit', r));
      await Promise.all(clients);
      expect(failures).toEqual([]);
    }
    expect(acknowledged.length).toBeGreaterThanOrEqual(ROUNDS);

    const db = new Sqlite(path.join(dir, 'deskside.db'), { readonly: true });
    const rows = db.prepare('select id, ticket_id, sha256, size, name from attachments order by id').all() as { id: number; ticket_id: number; sha256: string; size: number; name: string }[];
    const namesOf = db.prepare('select name from attachments where ticket_id = ?');
    const missingAcks = acknowledged.filter((a) => {
      const names = new Set((namesOf.all(a.ticketId) as { name: string }[]).map((r) => r.name));
      return !a.names.every((n) => names.has(n));
    });
    db.close();
    expect(missingAcks).toEqual([]);
    expect(rows.length).toBeGreaterThanOrEqual(acknowledged.length);
    // Kills landed inside uploads: what was being staged then is left for the sweeper.
    expect(readdirSync(path.join(dir, 'files', '.staging')).length).toBeGreaterThan(0);

    // A fresh server after the last kill: every attachment any row names, fetched over HTTP by an agent.
    const port = await freePort();
    server = spawnServer(env(port), { dir });
    await waitForListening(server, { port });
    const agent = new Uploader(port, 'TEST\\agent1');
    const broken: string[] = [];
    for (const r of rows) {
      const res = await agent.get(`/tickets/${r.ticket_id}/attachments/${r.id}/${encodeURIComponent(r.name)}`);
      if (res.status !== 200 || res.body.length !== r.size || sha(res.body) !== r.sha256) broken.push(`${r.id} (${r.name}): ${res.status}, ${res.body.length} of ${r.size} bytes`);
    }
    expect(broken).toEqual([]);
  }, 180_000);
});
