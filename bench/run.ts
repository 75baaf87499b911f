/**
 * `npm run bench [-- --tickets N] [--seed S] [--reseed] [--duration SECONDS] [--only a,b]`
 *
 * Seeds (or reuses) a benchmark database, starts the production build as iisnode would
 * (`node dist/server.js` with the node options of iisnode.yml's nodeProcessCommandLine,
 * NODE_ENV=production, identity from a trusted proxy header),
 * and measures each scenario at concurrency 1 and 8 with autocannon, against a bare
 * Node http server sending the queue page's exact bytes as the ceiling. Writes
 * bench/results/latest.json and latest.md and prints the table.
 *
 * Not part of `npm test`: figures depend on the machine; targets live here, never in tests.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import crypto from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

// Compiled to bench/data/build/run.js.
const ROOT = path.resolve(__dirname, '..', '..', '..');
const DATA = path.join(ROOT, 'bench', 'data');
const RESULTS = path.join(ROOT, 'bench', 'results');
const ENTRY = path.join(ROOT, 'dist', 'server.js');
const SECRET = 'bench-secret-shared-by-every-process-0123456789';
const AGENTS = Array.from({ length: 8 }, (_, i) => `CORP\\agent${i + 1}`);

// ---------------------------------------------------------------- autocannon (no @types)
interface AcRequest {
  method?: string;
  path?: string;
  headers?: Record<string, string>;
  body?: string | Buffer;
  /** Called before each send; returns the request to send (the upload scenario makes every file new, bulk takes a batch). */
  setupRequest?: (req: AcRequest, context?: Record<string, unknown>) => AcRequest;
  onResponse?: (status: number, body: string, context: Record<string, unknown>) => void;
}
interface AcResult {
  errors: number;
  timeouts: number;
  start: Date;
  finish: Date;
}
interface AcInstance {
  on(event: 'response', fn: (client: unknown, statusCode: number, resBytes: number, responseTime: number) => void): void;
  on(event: 'reqError', fn: (err: Error) => void): void;
  stop(): void;
}
type Autocannon = (opts: Record<string, unknown>, cb: (err: Error | null, result: AcResult) => void) => AcInstance;
// eslint-disable-next-line @typescript-eslint/no-require-imports -- autocannon ships no types or ES module; AcInstance above types what we use
const autocannon = require('autocannon') as Autocannon;

// ---------------------------------------------------------------- arguments
interface Args {
  tickets: number;
  seed: number;
  reseed: boolean;
  duration: number;
  warmup: number;
  only: string[] | null;
  build: boolean;
  cpuProf: boolean;
  memory: boolean;
}

function parseArgs(argv: string[]): Args {
  const a: Args = { tickets: 100_000, seed: 20261128, reseed: false, duration: 8, warmup: 1, only: null, build: true, cpuProf: false, memory: false };
  for (let i = 0; i < argv.length; i++) {
    const [flag, inline] = argv[i].split('=', 2);
    const val = () => inline ?? argv[++i];
    const num = () => {
      const v = val();
      if (!/^\d+(\.\d+)?$/.test(v ?? '')) throw new Error(`${flag} needs a number`);
      return Number(v);
    };
    if (flag === '--tickets') a.tickets = num();
    else if (flag === '--seed') a.seed = num();
    else if (flag === '--reseed') a.reseed = true;
    else if (flag === '--duration') a.duration = num();
    else if (flag === '--warmup') a.warmup = num();
    else if (flag === '--only') a.only = val().split(',');
    else if (flag === '--no-build') a.build = false;
    else if (flag === '--cpu-prof') a.cpuProf = true;
    else if (flag === '--memory') a.memory = true;
    else throw new Error(`unknown option ${flag}; usage: npm run bench -- [--tickets N] [--seed S] [--reseed] [--duration S] [--only queue,ticket,search,dashboard,bulk,upload,download,stream,csv,two-process] [--cpu-prof] [--memory]`);
  }
  if (a.tickets < 1000) throw new Error('--tickets must be at least 1,000');
  return a;
}

// ---------------------------------------------------------------- processes we start
const children = new Set<ChildProcess>();
function killAll(): void {
  for (const c of children) if (c.exitCode === null && c.signalCode === null && c.pid) process.kill(c.pid, 'SIGKILL');
}
process.on('exit', killAll);
for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.once(sig, () => {
    killAll();
    process.exit(130);
  });
}

async function stopChild(c: ChildProcess): Promise<void> {
  if (c.exitCode === null && c.signalCode === null) {
    const exited = new Promise((r) => c.once('exit', r));
    c.kill('SIGTERM');
    const t = setTimeout(() => c.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(t);
  }
  children.delete(c);
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

interface Fetched {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}
function fetchRaw(port: number, pathName: string, headers: Record<string, string> = {}, method = 'GET', body?: string | Buffer): Promise<Fetched> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, path: pathName, method, headers: { ...headers, ...(body ? { 'content-length': String(Buffer.byteLength(body)) } : {}) } }, (res) => {
      const parts: Buffer[] = [];
      res.on('data', (d: Buffer) => parts.push(d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(parts) }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.setTimeout(30_000, () => req.destroy(new Error(`timeout ${pathName}`)));
    if (body) req.write(body);
    req.end();
  });
}

// ---------------------------------------------------------------- seeding (cached)
interface SeedMeta {
  tickets: number;
  seed: number;
  seedSeconds: number;
  /** CPU the seeding process used: on a busy machine, wall time overstates the work. */
  seedCpuSeconds?: number;
  seedLoadAverage?: number;
  seededAt: string;
  heavyRequester: { login: string; tickets: number };
  eventfulTickets: number[];
  activeTickets: number[];
  categoryId: number;
  fileBytes: number;
  /** seedSourceHash() when it was seeded. */
  sourceHash?: string;
}

/**
 * What the cached database was made from: the migrations and the seeder. A change to
 * either makes the cache stale, and the next run seeds again.
 */
function seedSourceHash(): string {
  const { createHash } = crypto;
  const h = createHash('sha256');
  const dirs = [path.join(ROOT, 'app', 'db', 'migrations'), path.join(ROOT, 'app', 'features', 'demo')];
  for (const dir of dirs) for (const f of readdirSync(dir).sort()) h.update(f).update(readFileSync(path.join(dir, f)));
  return h.digest('hex').slice(0, 16);
}

function seedFile(a: Args): string {
  return path.join(DATA, `bench-${a.tickets}-${a.seed}.db`);
}

async function ensureSeeded(a: Args): Promise<SeedMeta> {
  mkdirSync(DATA, { recursive: true });
  const file = seedFile(a);
  const metaFile = `${file}.json`;
  const sourceHash = seedSourceHash();
  if (!a.reseed && existsSync(file) && existsSync(metaFile)) {
    const meta = JSON.parse(readFileSync(metaFile, 'utf8')) as SeedMeta;
    if (meta.sourceHash === sourceHash) {
      process.stderr.write(`Reusing ${path.relative(ROOT, file)} (seeded ${meta.seededAt} in ${meta.seedSeconds.toFixed(1)} s; --reseed to seed again)\n`);
      return meta;
    }
    process.stderr.write(`The migrations or the seeder changed since ${path.relative(ROOT, file)} was seeded: seeding again.\n`);
  }
  const tmp = `${file}.seeding`;
  for (const f of [tmp, `${tmp}-wal`, `${tmp}-shm`, file, `${file}-wal`, `${file}-shm`, metaFile]) rmSync(f, { force: true });
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'deskside-seed-'));
  process.stderr.write(`Seeding ${a.tickets.toLocaleString('en-GB')} tickets (seed ${a.seed}) into ${path.relative(ROOT, file)}\n`);
  const started = process.hrtime.bigint();
  const childCpu0 = childCpuSeconds();
  // The real CLI (npm run seed) does the work and draws the progress bar on our stderr.
  const r = spawnSync(process.execPath, [path.join(ROOT, 'dist', 'cli', 'seed.js'), '--tickets', String(a.tickets), '--seed', String(a.seed)], {
    cwd: ROOT,
    stdio: ['ignore', 'inherit', 'inherit'],
    env: { ...baseEnv(tmp, dataDir), DESKSIDE_LOG_LEVEL: 'warn' },
  });
  const seedSeconds = Number(process.hrtime.bigint() - started) / 1e9;
  const seedCpuSeconds = childCpuSeconds() - childCpu0;
  rmSync(dataDir, { recursive: true, force: true });
  if (r.status !== 0) throw new Error(`seeding failed (exit ${r.status})`);

  // Pick the people and tickets the scenarios use, once, and remember them with the file.
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- the native module loads only for this step, not for every bench run's start
  const Sqlite = require('better-sqlite3') as typeof import('better-sqlite3');
  const db = new Sqlite(tmp);
  db.pragma('wal_checkpoint(TRUNCATE)');
  const heavy = db
    .prepare(
      `select p.login, (select count(*) from tickets t where t.requester_id = p.id) n
         from people p where p.is_agent = 0 and p.id in (select id from people order by id limit 200) order by n desc limit 1`,
    )
    .get() as { login: string; n: number };
  const maxId = (db.prepare('select max(id) m from tickets').get() as { m: number }).m;
  const eventful = (
    db
      .prepare(`select ticket_id id from ticket_events where ticket_id > ? group by ticket_id having count(*) >= 20 limit 100`)
      .all(Math.floor(maxId / 2)) as { id: number }[]
  ).map((x) => x.id);
  const active = (db.prepare(`select id from tickets where active = 1 and id > ? order by id limit 200`).all(Math.floor(maxId / 3)) as { id: number }[]).map((x) => x.id);
  const categoryId = (db.prepare(`select id from categories where name = 'Software'`).get() as { id: number }).id;
  db.close();
  renameSync(tmp, file);
  for (const f of [`${tmp}-wal`, `${tmp}-shm`]) rmSync(f, { force: true });
  const meta: SeedMeta = {
    tickets: a.tickets,
    seed: a.seed,
    seedSeconds,
    seedCpuSeconds,
    seedLoadAverage: os.loadavg()[0],
    seededAt: new Date().toISOString(),
    heavyRequester: { login: heavy.login, tickets: heavy.n },
    eventfulTickets: eventful,
    activeTickets: active,
    categoryId,
    fileBytes: statSync(file).size,
    sourceHash,
  };
  writeFileSync(metaFile, JSON.stringify(meta, null, 2));
  return meta;
}

// ---------------------------------------------------------------- the server under test
function baseEnv(dbFile: string, dataDir: string): Record<string, string> {
  return {
    PATH: process.env.PATH ?? '',
    NODE_ENV: 'production',
    DESKSIDE_IDENTITY: 'proxy',
    DESKSIDE_TRUSTED_PROXIES: '127.0.0.1,::1',
    DESKSIDE_AGENTS: AGENTS.join(','),
    DESKSIDE_LOG_LEVEL: 'warn',
    DESKSIDE_DATABASE: `sqlite:${dbFile}`,
    DESKSIDE_DATA_DIR: dataDir,
    DESKSIDE_SECRET: SECRET,
    DESKSIDE_HOST: '127.0.0.1',
    // The streaming check sends a 100 MB file; the store is a folder under the run's data dir.
    DESKSIDE_ATTACHMENT_MAX_MB: '128',
    DESKSIDE_ATTACHMENT_POST_MAX_MB: '128',
    // The token scenario measures a token's cost, not its limit.
    DESKSIDE_API_RATE_LIMIT: '100000',
  };
}

interface Server {
  proc: ChildProcess;
  port: number;
  coldStartMs: number;
  output: () => string;
}

/**
 * The options iisnode starts node with: what follows node.exe in iisnode.yml's
 * nodeProcessCommandLine (iisnode appends its interceptor and the script; web.config holds
 * the same line and a test keeps them equal), so the bench measures the V8 settings a site runs.
 */
function iisnodeNodeArgs(yml = readFileSync(path.join(ROOT, 'iisnode.yml'), 'utf8')): string[] {
  const line = /^nodeProcessCommandLine:[ \t]*(.*)$/m.exec(yml)?.[1].trim();
  if (!line) throw new Error('iisnode.yml has no nodeProcessCommandLine');
  const rest = line.startsWith('"') ? line.slice(line.indexOf('"', 1) + 1) : line.replace(/^\S+/, '');
  return rest.split(/\s+/).filter(Boolean);
}

async function startServer(dbFile: string, dataDir: string, opts: { cpuProfDir?: string; reportDir?: string } = {}): Promise<Server> {
  const port = await freePort();
  const nodeArgs = [
    ...iisnodeNodeArgs(),
    ...(opts.cpuProfDir ? ['--cpu-prof', `--cpu-prof-dir=${opts.cpuProfDir}`] : []),
    ...(opts.reportDir ? ['--report-on-signal', '--report-signal=SIGUSR2', `--report-directory=${opts.reportDir}`] : []),
  ];
  let out = '';
  const t0 = process.hrtime.bigint();
  const proc = spawn(process.execPath, [...nodeArgs, ENTRY], { cwd: ROOT, env: { ...baseEnv(dbFile, dataDir), PORT: String(port) }, stdio: ['ignore', 'pipe', 'pipe'] });
  children.add(proc);
  proc.stdout.on('data', (d: Buffer) => (out = (out + d.toString()).slice(-20_000)));
  proc.stderr.on('data', (d: Buffer) => (out = (out + d.toString()).slice(-20_000)));
  // Process start to the first 200: poll /healthz (which reads the database) every 2 ms.
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (proc.exitCode !== null) throw new Error(`server exited with ${proc.exitCode}:\n${out}`);
    if (Date.now() > deadline) throw new Error(`server did not answer within 60 s:\n${out}`);
    const ok = await fetchRaw(port, '/healthz').then(
      (r) => r.status === 200,
      () => false,
    );
    if (ok) break;
    await new Promise((r) => setTimeout(r, 2));
  }
  const coldStartMs = Number(process.hrtime.bigint() - t0) / 1e6;
  return { proc, port, coldStartMs, output: () => out };
}

/** CPU seconds used by this process's finished children (cutime + cstime), from /proc. */
function childCpuSeconds(): number {
  const stat = readFileSync('/proc/self/stat', 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[13]) + Number(fields[14])) / 100;
}

/** CPU seconds a process has used (user + system), from /proc. */
function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100; // utime, stime in clock ticks (USER_HZ = 100)
}

/** Fields of /proc/<pid>/status, in MB (the kernel writes them in kB). */
function statusMb(pid: number, names: string[]): number[] {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return names.map((name) => Number(new RegExp(`^${name}:\\s+(\\d+)`, 'm').exec(status)?.[1] ?? 0) / 1024);
}

function rssMb(pid: number): number {
  return statusMb(pid, ['VmRSS'])[0];
}

/** What the resident memory is: anonymous (heap, malloc) and file-backed (code, mapped files), from /proc. */
function rssPartsMb(pid: number): { anonymous: number; files: number; shared: number } {
  const [anonymous, files, shared] = statusMb(pid, ['RssAnon', 'RssFile', 'RssShmem']).map(r1);
  return { anonymous, files, shared };
}

/**
 * The server's JavaScript heap as V8 reports it (a Node diagnostic report, asked for with a
 * signal: `--memory` starts the server with --report-on-signal, which changes nothing else).
 */
async function heapReport(pid: number, dir: string): Promise<Record<string, number>> {
  const before = new Set(readdirSync(dir));
  process.kill(pid, 'SIGUSR2');
  const deadline = Date.now() + 10_000;
  for (;;) {
    const file = readdirSync(dir).find((f) => !before.has(f) && f.endsWith('.json'));
    if (file) {
      try {
        const heap = (JSON.parse(readFileSync(path.join(dir, file), 'utf8')) as { javascriptHeap: { totalMemory: number; usedMemory: number; externalMemory: number; mallocedMemory: number; heapSpaces: Record<string, { memorySize: number; used: number }> } }).javascriptHeap;
        const mb = (b: number) => r1(b / 2 ** 20);
        const out: Record<string, number> = { heapTotal: mb(heap.totalMemory), heapUsed: mb(heap.usedMemory), external: mb(heap.externalMemory), v8Malloced: mb(heap.mallocedMemory) };
        for (const [space, v] of Object.entries(heap.heapSpaces)) {
          if (v.memorySize === 0) continue;
          out[space] = mb(v.memorySize);
          out[`${space} (used)`] = mb(v.used);
        }
        return out;
      } catch {
        // Still being written.
      }
    }
    if (Date.now() > deadline) throw new Error('the server wrote no diagnostic report within 10 s');
    await new Promise((r) => setTimeout(r, 100));
  }
}

// ---------------------------------------------------------------- people signed in
interface Persona {
  login: string;
  cookie: string;
  csrf: string;
  /** An API token of theirs (read only, as an agent), for the token scenario. */
  token?: string;
}

/** A token made through /me/tokens as a person would, read off the page that shows it once. */
async function makeToken(port: number, p: Persona): Promise<string> {
  const body = new URLSearchParams({ _csrf: p.csrf, name: 'Benchmark', scope: 'read', role: 'agent', days: '7' }).toString();
  const r = await fetchRaw(port, '/me/tokens', headersOf(p, true), 'POST', body);
  const token = /id="new-token" class="token-value" value="(dsk_[^"]+)"/.exec(r.body.toString())?.[1];
  if (r.status !== 201 || !token) throw new Error(`making a token: HTTP ${r.status}`);
  return token;
}

async function signIn(port: number, login: string): Promise<Persona> {
  // The proxy vouches for the person; Deskside starts a session and a CSRF browser id.
  const r = await fetchRaw(port, '/tickets/new', { 'x-remote-user': login });
  if (r.status !== 200) throw new Error(`sign-in as ${login}: HTTP ${r.status}`);
  const setCookies = ([] as string[]).concat(r.headers['set-cookie'] ?? []);
  const cookie = setCookies.map((c) => c.split(';')[0]).join('; ');
  const csrf = /name="_csrf" value="([^"]+)"/.exec(r.body.toString())?.[1];
  if (!csrf) throw new Error(`no _csrf field on /tickets/new for ${login}`);
  return { login, cookie, csrf };
}

function headersOf(p: Persona, form = false): Record<string, string> {
  return { 'x-remote-user': p.login, cookie: p.cookie, ...(form ? { 'content-type': 'application/x-www-form-urlencoded' } : {}) };
}

// ---------------------------------------------------------------- measuring
interface Measured {
  requestsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  errors: number;
  bytes: number;
  responses: number;
  generatorCpuPercent: number;
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))];
}

function runOnce(port: number, requests: AcRequest[], connections: number, seconds: number, expect: number): Promise<Measured & { lat: number[] }> {
  return new Promise((resolve, reject) => {
    const lat: number[] = [];
    let bytes = 0;
    let good = 0;
    let bad = 0;
    const cpu0 = process.cpuUsage();
    const t0 = process.hrtime.bigint();
    const inst = autocannon(
      { url: `http://127.0.0.1:${port}`, connections, pipelining: 1, duration: seconds, requests, timeout: 10 },
      (err, result) => {
        if (err) return reject(err);
        const wallS = Number(process.hrtime.bigint() - t0) / 1e9;
        const cpu = process.cpuUsage(cpu0);
        lat.sort((x, y) => x - y);
        resolve({
          lat,
          requestsPerSecond: good / wallS,
          p50Ms: percentile(lat, 0.5),
          p99Ms: percentile(lat, 0.99),
          errors: bad + result.errors,
          bytes: good ? Math.round(bytes / good) : 0,
          responses: good,
          generatorCpuPercent: ((cpu.user + cpu.system) / 1e6 / wallS) * 100,
        });
      },
    );
    // autocannon's own histogram is whole milliseconds and only counts 2xx; keep exact times.
    inst.on('response', (_c, status, resBytes, ms) => {
      if (status === expect) {
        good++;
        bytes += resBytes;
        lat.push(ms);
      } else bad++;
    });
  });
}

async function measure(port: number, requests: AcRequest[], connections: number, a: Args, expect: number): Promise<Measured & { warmupResponses: number }> {
  const warm = a.warmup > 0 ? (await runOnce(port, requests, connections, a.warmup, expect)).responses : 0;
  const m = await runOnce(port, requests, connections, a.duration, expect);
  const { lat: _lat, ...rest } = m;
  return { ...rest, warmupResponses: warm };
}

/** Several ports measured at once (two processes): summed throughput, latencies pooled. */
async function measureMany(ports: number[], requests: AcRequest[], connectionsEach: number, a: Args, expect: number): Promise<Measured> {
  if (a.warmup > 0) await Promise.all(ports.map((p) => runOnce(p, requests, connectionsEach, a.warmup, expect)));
  const ms = await Promise.all(ports.map((p) => runOnce(p, requests, connectionsEach, a.duration, expect)));
  const lat = ms.flatMap((m) => m.lat).sort((x, y) => x - y);
  const responses = ms.reduce((s, m) => s + m.responses, 0);
  return {
    requestsPerSecond: ms.reduce((s, m) => s + m.requestsPerSecond, 0),
    p50Ms: percentile(lat, 0.5),
    p99Ms: percentile(lat, 0.99),
    errors: ms.reduce((s, m) => s + m.errors, 0),
    bytes: responses ? Math.round(ms.reduce((s, m) => s + m.bytes * m.responses, 0) / responses) : 0,
    responses,
    generatorCpuPercent: ms[0].generatorCpuPercent, // one process: every instance shares it
  };
}

// ---------------------------------------------------------------- the bare-Node ceiling
const CEILING_SERVER = `
const http = require('http');
const fs = require('fs');
const body = fs.readFileSync(process.argv[1]);
const type = process.argv[2];
const s = http.createServer((req, res) => {
  res.writeHead(200, { 'content-type': type, 'content-length': body.length });
  res.end(body);
});
s.keepAliveTimeout = 5000;
s.listen(Number(process.argv[3]), '127.0.0.1', () => process.stdout.write('ready\\n'));
`;

async function startCeiling(bodyFile: string, contentType: string): Promise<{ proc: ChildProcess; port: number }> {
  const port = await freePort();
  const proc = spawn(process.execPath, ['-e', CEILING_SERVER, bodyFile, contentType, String(port)], { stdio: ['ignore', 'pipe', 'inherit'] });
  children.add(proc);
  await new Promise<void>((resolve, reject) => {
    proc.stdout.once('data', () => resolve());
    proc.once('exit', (code) => reject(new Error(`ceiling server exited ${code}`)));
  });
  return { proc, port };
}

// ---------------------------------------------------------------- files
const BOUNDARY = '----DesksideBenchBoundary';
const MULTIPART = `multipart/form-data; boundary=${BOUNDARY}`;
const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

/** A "screenshot" of `bytes`: PNG by its signature, which is all the server looks at (it never decodes images). */
function screenshot(bytes: number, seed: number): Buffer {
  return Buffer.concat([PNG_SIGNATURE, crypto.createHash('sha256').update(String(seed)).digest(), crypto.randomBytes(bytes - PNG_SIGNATURE.length - 32)]);
}

function multipartHead(fields: Record<string, string>, file: { name: string; type: string }): Buffer {
  const parts = Object.entries(fields).map(([k, v]) => `--${BOUNDARY}\r\nContent-Disposition: form-data; name="${k}"\r\n\r\n${v}\r\n`);
  parts.push(`--${BOUNDARY}\r\nContent-Disposition: form-data; name="files"; filename="${file.name}"\r\nContent-Type: ${file.type}\r\n\r\n`);
  return Buffer.from(parts.join(''));
}
const MULTIPART_TAIL = Buffer.from(`\r\n--${BOUNDARY}--\r\n`);

/** A reply with one file, as the ticket page's form posts it (token first). */
function replyWithFile(p: Persona, text: string, file: { name: string; type: string; content: Buffer }): Buffer {
  return Buffer.concat([multipartHead({ _csrf: p.csrf, body: text }, file), file.content, MULTIPART_TAIL]);
}

/** The file the download scenario fetches: a 200 KB screenshot on a ticket, attached once before measuring. */
async function attachForDownload(port: number, p: Persona, ticketId: number): Promise<string> {
  const body = replyWithFile(p, 'Benchmark: the screenshot to download.', { name: 'download-me.png', type: 'image/png', content: screenshot(200 * 1024, 0) });
  const r = await fetchRaw(port, `/tickets/${ticketId}/comments`, { ...headersOf(p), 'content-type': MULTIPART }, 'POST', body);
  if (r.status !== 303) throw new Error(`attaching the download file answered ${r.status}`);
  const page = await fetchRaw(port, `/tickets/${ticketId}`, headersOf(p));
  const link = new RegExp(`/tickets/${ticketId}/attachments/\\d+/download-me\\.png`).exec(page.body.toString());
  if (!link) throw new Error('the attached file is not linked from its ticket');
  return link[0];
}

/** A read of the run's database copy before the server starts, without opening it for writing. */
function readCopy<T>(dbFile: string, read: (db: import('better-sqlite3').Database) => T): T {
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- the native module loads only for this step, as in ensureSeeded
  const Sqlite = require('better-sqlite3') as typeof import('better-sqlite3');
  const db = new Sqlite(dbFile, { readonly: true });
  try {
    return read(db);
  } finally {
    db.close();
  }
}

/** The server's RSS sampled every 20 ms from now: where it started, and the highest since the start or the last `reset`. */
function sampleRss(pid: number) {
  const before = rssMb(pid);
  let peak = before;
  const timer = setInterval(() => (peak = Math.max(peak, rssMb(pid))), 20);
  return {
    before,
    peak: () => peak,
    reset: () => void (peak = rssMb(pid)),
    stop: () => clearInterval(timer),
  };
}

interface CsvCheck {
  path: string;
  rows: number;
  bytes: number;
  seconds: number;
  rowsPerSecond: number;
  rssBeforeMb: number;
  rssPeakMb: number;
  rssGrowthMb: number;
  startsWithBom: boolean;
}

/**
 * The queue's CSV export (issue 18): every ticket in the category closest to 100,000
 * tickets, any status, fetched as an agent would from "Download these N tickets as CSV".
 * The rows counted are records in the answer (RFC 4180: a quoted cell may hold a line
 * break, so quotes are followed); the server's RSS is sampled every 20 ms while it streams.
 */
async function csvCheck(port: number, pid: number, p: Persona, dbFile: string): Promise<CsvCheck> {
  const category = readCopy(dbFile, (db) => {
    const counts = db.prepare('select category_id c, count(*) n from tickets group by category_id').all() as { c: number; n: number }[];
    counts.sort((x, y) => Math.abs(x.n - 100_000) - Math.abs(y.n - 100_000));
    return counts[0].c;
  });
  const pathName = `/tickets.csv?status=all&category=${category}`;
  const rss = sampleRss(pid);
  try {
    const t0 = process.hrtime.bigint();
    const got = await new Promise<{ status: number; rows: number; bytes: number; bom: boolean }>((resolve, reject) => {
      http
        .get({ host: '127.0.0.1', port, path: pathName, headers: headersOf(p) }, (res) => {
          let records = 0;
          let bytes = 0;
          let inQuotes = false;
          let first: Buffer | undefined;
          res.on('data', (d: Buffer) => {
            first ??= d;
            bytes += d.length;
            for (let i = 0; i < d.length; i++) {
              const b = d[i];
              if (b === 0x22) inQuotes = !inQuotes;
              else if (b === 0x0a && !inQuotes) records++;
            }
          });
          res.on('end', () => resolve({ status: res.statusCode ?? 0, rows: records - 1, bytes, bom: !!first && first[0] === 0xef && first[1] === 0xbb && first[2] === 0xbf }));
          res.on('error', reject);
        })
        .on('error', reject);
    });
    if (got.status !== 200) throw new Error(`the CSV export answered ${got.status}`);
    const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
    return {
      path: pathName,
      rows: got.rows,
      bytes: got.bytes,
      seconds: r2(seconds),
      rowsPerSecond: Math.round(got.rows / seconds),
      rssBeforeMb: r1(rss.before),
      rssPeakMb: r1(rss.peak()),
      rssGrowthMb: r1(rss.peak() - rss.before),
      startsWithBom: got.bom,
    };
  } finally {
    rss.stop();
  }
}

interface StreamCheck {
  fileMb: number;
  rssBeforeMb: number;
  rssPeakUploadMb: number;
  rssPeakDownloadMb: number;
  rssGrowthMb: number;
  uploadSeconds: number;
  downloadSeconds: number;
  downloadMbPerSecond: number;
  bytesMatch: boolean;
}

/**
 * Memory while a 100 MB file goes in and comes back out: the server's RSS, sampled every
 * 20 ms, must stay flat (the bytes stream through the store, never whole in memory). The
 * download is hashed as it arrives and compared with what was sent.
 */
async function streamCheck(port: number, pid: number, p: Persona, ticketId: number): Promise<StreamCheck> {
  const size = 100 * 1024 * 1024;
  const piece = crypto.randomBytes(1024 * 1024);
  const sent = crypto.createHash('sha256');
  const head = multipartHead({ _csrf: p.csrf, body: 'Benchmark: a 100 MB memory dump.' }, { name: 'memory.dmp', type: 'application/octet-stream' });
  const rss = sampleRss(pid);
  try {
    const t0 = process.hrtime.bigint();
    const status = await new Promise<number>((resolve, reject) => {
      const req = http.request(
        { host: '127.0.0.1', port, path: `/tickets/${ticketId}/comments`, method: 'POST', headers: { ...headersOf(p), 'content-type': MULTIPART, 'content-length': String(head.length + size + MULTIPART_TAIL.length) } },
        (res) => {
          res.resume();
          res.on('end', () => resolve(res.statusCode ?? 0));
        },
      );
      req.on('error', reject);
      void (async () => {
        req.write(head);
        for (let off = 0; off < size; off += piece.length) {
          // Each megabyte differs (its offset is mixed in), so the file is one new blob.
          const chunk = Buffer.from(piece);
          chunk.writeUInt32BE(off / piece.length, 0);
          sent.update(chunk);
          if (!req.write(chunk)) await new Promise((r) => req.once('drain', r));
        }
        req.end(MULTIPART_TAIL);
      })().catch(reject);
    });
    if (status !== 303) throw new Error(`the 100 MB upload answered ${status}`);
    const uploadSeconds = Number(process.hrtime.bigint() - t0) / 1e9;
    const rssPeakUploadMb = rss.peak();
    const page = await fetchRaw(port, `/tickets/${ticketId}`, headersOf(p));
    const link = new RegExp(`/tickets/${ticketId}/attachments/\\d+/memory\\.dmp`).exec(page.body.toString());
    if (!link) throw new Error('the 100 MB file is not linked from its ticket');
    rss.reset();
    const got = crypto.createHash('sha256');
    const t1 = process.hrtime.bigint();
    const received = await new Promise<number>((resolve, reject) => {
      http
        .get({ host: '127.0.0.1', port, path: link[0], headers: headersOf(p) }, (res) => {
          let n = 0;
          res.on('data', (d: Buffer) => {
            n += d.length;
            got.update(d);
          });
          res.on('end', () => resolve(n));
          res.on('error', reject);
        })
        .on('error', reject);
    });
    const downloadSeconds = Number(process.hrtime.bigint() - t1) / 1e9;
    const rssPeakDownloadMb = rss.peak();
    return {
      fileMb: size / 1024 / 1024,
      rssBeforeMb: r1(rss.before),
      rssPeakUploadMb: r1(rssPeakUploadMb),
      rssPeakDownloadMb: r1(rssPeakDownloadMb),
      rssGrowthMb: r1(Math.max(rssPeakUploadMb, rssPeakDownloadMb) - rss.before),
      uploadSeconds: r2(uploadSeconds),
      downloadSeconds: r2(downloadSeconds),
      downloadMbPerSecond: r1(received / 1024 / 1024 / downloadSeconds),
      bytesMatch: received === size && got.digest('hex') === sent.digest('hex'),
    };
  } finally {
    rss.stop();
  }
}

// ---------------------------------------------------------------- scenarios
interface Scenario {
  name: string;
  persona: 'agent' | 'requester' | 'writer';
  expect: number;
  requests: (p: Persona) => AcRequest[];
}

/** Tickets the bulk scenario changes, with their versions as seeded: read from the run's copy before the server starts. */
interface BulkBatch {
  tickets: { id: number; version: number }[];
  priority: 'high' | 'low';
}
interface BulkPool {
  batches: BulkBatch[];
  inFlight: Set<BulkBatch>;
  byTicket: Map<number, BulkBatch>;
  applied: number;
  skipped: number;
}

function readBulkPool(dbFile: string, meta: SeedMeta): BulkPool {
  return readCopy(dbFile, (db) => {
    const maxId = (db.prepare('select max(id) m from tickets').get() as { m: number }).m;
    // Open tickets in the upper half, away from the ones the comment scenario replies to.
    const rows = db.prepare('select id, version from tickets where active = 1 and id > ? order by id limit 1000').all(Math.max(Math.floor(maxId / 2), Math.max(...meta.activeTickets))) as { id: number; version: number }[];
    const batches: BulkBatch[] = [];
    for (let i = 0; i + 25 <= rows.length; i += 25) batches.push({ tickets: rows.slice(i, i + 25), priority: 'high' });
    const byTicket = new Map(batches.flatMap((b) => b.tickets.map((t) => [t.id, b] as const)));
    return { batches, inFlight: new Set(), byTicket, applied: 0, skipped: 0 };
  });
}

function scenarios(meta: SeedMeta, downloadPath: string, pool: BulkPool): Scenario[] {
  const get = (paths: string[]) => (p: Persona) => paths.map((pathName) => ({ method: 'GET', path: pathName, headers: headersOf(p) }));
  return [
    { name: 'queue', persona: 'agent', expect: 200, requests: get(['/tickets']) },
    { name: 'queue-page-1000', persona: 'agent', expect: 200, requests: get(['/tickets?page=1000']) },
    {
      name: 'queue-filtered',
      persona: 'agent',
      expect: 200,
      requests: get([`/tickets?status=open&assignee=${encodeURIComponent(AGENTS[2])}&category=${meta.categoryId}`]),
    },
    { name: 'my-tickets', persona: 'requester', expect: 200, requests: get(['/tickets?requester=me']) },
    { name: 'ticket', persona: 'agent', expect: 200, requests: get(meta.eventfulTickets.slice(0, 50).map((id) => `/tickets/${id}`)) },
    { name: 'search', persona: 'agent', expect: 200, requests: get(['/tickets?q=outlook']) },
    // The JSON API as a script calls it: Windows identity on each request (the proxy header
    // here, IIS under iisnode), no session cookie; and with a token, which adds its
    // per-minute count (one UPDATE) to each request.
    { name: 'api-list', persona: 'agent', expect: 200, requests: (p) => [{ method: 'GET', path: '/api/v1/tickets', headers: { 'x-remote-user': p.login } }] },
    {
      name: 'api-ticket',
      persona: 'agent',
      expect: 200,
      requests: (p) => meta.eventfulTickets.slice(0, 50).map((id) => ({ method: 'GET', path: `/api/v1/tickets/${id}`, headers: { 'x-remote-user': p.login } })),
    },
    {
      name: 'api-ticket-token',
      persona: 'agent',
      expect: 200,
      requests: (p) => meta.eventfulTickets.slice(0, 50).map((id) => ({ method: 'GET', path: `/api/v1/tickets/${id}`, headers: { authorization: `Bearer ${p.token}` } })),
    },
    { name: 'dashboard', persona: 'agent', expect: 200, requests: get(['/dashboard']) },
    {
      name: 'create-ticket',
      persona: 'writer',
      expect: 303,
      requests: (p) => [
        {
          method: 'POST',
          path: '/tickets',
          headers: headersOf(p, true),
          body: new URLSearchParams({
            _csrf: p.csrf,
            title: 'Benchmark: printer on floor 2 shows an error',
            description: 'Raised by the benchmark. The display says paper jam in tray 2 although the tray is empty.',
            category: String(meta.categoryId),
            priority: 'normal',
          }).toString(),
        },
      ],
    },
    {
      name: 'comment',
      persona: 'agent',
      expect: 303,
      requests: (p) =>
        meta.activeTickets.slice(0, 100).map((id) => ({
          method: 'POST',
          path: `/tickets/${id}/comments`,
          headers: headersOf(p, true),
          body: new URLSearchParams({ _csrf: p.csrf, body: 'Benchmark reply: please restart the machine and try again.' }).toString(),
        })),
    },
    {
      // A reply with a 200 KB screenshot: parse, hash and stage it, fsync, rename into the store, then the rows.
      name: 'upload',
      persona: 'agent',
      expect: 303,
      requests: (p) =>
        meta.activeTickets.slice(100, 108).map((id, i) => {
          const body = replyWithFile(p, 'Benchmark reply: the error on screen.', { name: `screenshot-${i}.png`, type: 'image/png', content: screenshot(200 * 1024, i + 1) });
          const at = body.indexOf(PNG_SIGNATURE) + PNG_SIGNATURE.length;
          return {
            method: 'POST',
            path: `/tickets/${id}/comments`,
            headers: { ...headersOf(p), 'content-type': MULTIPART },
            body,
            // Every screenshot is new content, as real ones are: a new blob each time, not a refresh.
            setupRequest: (req: AcRequest) => ({ ...req, body: crypto.randomFillSync(Buffer.from(body), at, 32) }),
          };
        }),
    },
    { name: 'download', persona: 'agent', expect: 200, requests: get([downloadPath]) },
    {
      // 25 tickets a post, as an agent ticks a page of the queue: each post flips the
      // batch's priority between high and low at the versions it last saw, so every post
      // changes 25 tickets (25 updates and 25 events in one transaction). A response is
      // matched to its batch by the ticket numbers it lists, not by autocannon's
      // per-connection context (which it resets between requests); a batch whose answer
      // never came (the run ended first) is dropped, so it is never posted stale.
      name: 'bulk',
      persona: 'agent',
      expect: 200,
      requests: (p) => [
        {
          method: 'POST',
          path: '/tickets/bulk',
          headers: headersOf(p, true),
          setupRequest: (req) => {
            const batch = pool.batches.shift();
            if (!batch) throw new Error('the bulk scenario ran out of ticket batches');
            pool.inFlight.add(batch);
            const form = new URLSearchParams({ _csrf: p.csrf, priority: batch.priority, from: 'sort=-updated' });
            for (const t of batch.tickets) form.append('ticket', `${t.id}:${t.version}`);
            return { ...req, body: form.toString() };
          },
          onResponse: (status, body) => {
            if (status !== 200) return;
            const applied = new Set([...body.matchAll(/data-applied="(\d+)"/g)].map((m) => Number(m[1])));
            const skipped = [...body.matchAll(/data-skipped="(\d+)"/g)].map((m) => Number(m[1]));
            const batch = pool.byTicket.get([...applied][0] ?? skipped[0]);
            if (!batch || !pool.inFlight.delete(batch)) return;
            for (const t of batch.tickets) if (applied.has(t.id)) t.version++;
            pool.applied += applied.size;
            pool.skipped += skipped.length;
            batch.priority = batch.priority === 'high' ? 'low' : 'high';
            pool.batches.push(batch);
          },
        },
      ],
    },
  ];
}

function pool(p: BulkPool): string {
  return `${p.applied.toLocaleString('en-GB')} ticket changes applied, ${p.skipped} skipped as stale, ${p.batches.length} batches free`;
}

// ---------------------------------------------------------------- report
interface ScenarioResult {
  name: string;
  concurrency: number;
  requestsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  errors: number;
  bytes: number;
  ratioToCeiling: number;
}

const r1 = (x: number) => Math.round(x * 10) / 10;
const r2 = (x: number) => Math.round(x * 100) / 100;
const r3 = (x: number) => Math.round(x * 1000) / 1000;

function table(rows: ScenarioResult[], cpu: Record<string, number>): string {
  const head = '| scenario | concurrency | requests/s | p50 ms | p99 ms | errors | bytes | ratio to ceiling | server CPU ms/request |\n| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |';
  return [
    head,
    ...rows.map(
      (r) =>
        `| ${r.name} | ${r.concurrency} | ${r.requestsPerSecond.toLocaleString('en-GB', { maximumFractionDigits: 0 })} | ${r.p50Ms.toFixed(2)} | ${r.p99Ms.toFixed(2)} | ${r.errors} | ${r.bytes.toLocaleString('en-GB')} | ${(r.ratioToCeiling * 100).toFixed(1)} % | ${cpu[`${r.name}@${r.concurrency}`]?.toFixed(2) ?? ''} |`,
    ),
  ].join('\n');
}

interface TargetCheck {
  target: string;
  value: string;
  met: boolean | null;
}

/** The issue's targets (stated for 1,000,000 tickets on 2 cores), checked against this run. */
function checkTargets(out: { tickets: number; seedSeconds: number; coldStartMs: number; rssMb: number; scenarios: ScenarioResult[] }, twoProcessSpeedup: number | undefined, stream: StreamCheck | undefined, csv?: CsvCheck): TargetCheck[] {
  const at = (name: string, c: number) => out.scenarios.find((x) => x.name === name && x.concurrency === c);
  const checks: TargetCheck[] = [];
  const add = (target: string, value: number | undefined, unit: string, ok: (v: number) => boolean) =>
    checks.push({ target, value: value === undefined ? 'not measured' : `${r2(value)}${unit}`, met: value === undefined ? null : ok(value) });
  add('queue page 1 p50 ≤ 5 ms at concurrency 8', at('queue', 8)?.p50Ms, ' ms', (v) => v <= 5);
  add('queue page 1 p99 ≤ 50 ms at concurrency 8', at('queue', 8)?.p99Ms, ' ms', (v) => v <= 50);
  add('queue throughput ≥ 15 % of the bare-Node ceiling (concurrency 8)', at('queue', 8) && at('queue', 8)!.ratioToCeiling * 100, ' %', (v) => v >= 15);
  for (const c of [1, 8]) add(`queue page 1,000 p50 ≤ 20 ms (concurrency ${c})`, at('queue-page-1000', c)?.p50Ms, ' ms', (v) => v <= 20);
  for (const c of [1, 8]) add(`ticket page p50 ≤ 5 ms (concurrency ${c})`, at('ticket', c)?.p50Ms, ' ms', (v) => v <= 5);
  for (const c of [1, 8]) add(`search p50 ≤ 25 ms (concurrency ${c})`, at('search', c)?.p50Ms, ' ms', (v) => v <= 25);
  // Issue 19: the API has the pages' targets.
  for (const c of [1, 8]) add(`API list p50 ≤ 5 ms (concurrency ${c})`, at('api-list', c)?.p50Ms, ' ms', (v) => v <= 5);
  for (const c of [1, 8]) add(`API ticket p50 ≤ 5 ms (concurrency ${c})`, at('api-ticket', c)?.p50Ms, ' ms', (v) => v <= 5);
  // Issue 20: every page people use most answers in 5 ms at concurrency 1 (the slowest named).
  const pages = ['queue', 'queue-page-1000', 'queue-filtered', 'my-tickets', 'ticket', 'search', 'dashboard', 'api-list', 'api-ticket'];
  const slowest = pages.map((n) => at(n, 1)).filter((x): x is ScenarioResult => !!x).sort((x, y) => y.p50Ms - x.p50Ms)[0];
  add(`every page scenario p50 ≤ 5 ms at concurrency 1 (slowest: ${slowest?.name ?? 'none measured'})`, slowest?.p50Ms, ' ms', (v) => v <= 5);
  for (const c of [1, 8]) add(`dashboard p50 ≤ 50 ms (concurrency ${c})`, at('dashboard', c)?.p50Ms, ' ms', (v) => v <= 50);
  add('create ticket ≥ 500/s (concurrency 8)', at('create-ticket', 8)?.requestsPerSecond, '/s', (v) => v >= 500);
  add('cold start ≤ 1 s', out.coldStartMs, ' ms', (v) => v <= 1000);
  add('RSS after the run ≤ 150 MB', out.rssMb, ' MB', (v) => v <= 150);
  add(`seeding ≤ 2 min (scaled to 1,000,000 tickets: ${out.tickets.toLocaleString('en-GB')} seeded)`, out.seedSeconds, ' s', (v) => v <= 120 * (out.tickets / 1_000_000));
  add('two processes ≥ 1.6× one', twoProcessSpeedup, '×', (v) => v >= 1.6);
  // Issue 16: a 100 MB file streams in and out; memory must not grow with it.
  add('RSS grows ≤ 32 MB while a 100 MB file is uploaded and downloaded', stream?.rssGrowthMb, ' MB', (v) => v <= 32);
  if (stream) checks.push({ target: 'the 100 MB download is byte for byte what was uploaded', value: stream.bytesMatch ? 'yes' : 'no', met: stream.bytesMatch });
  // Issue 18: the CSV export streams; memory must not grow with the rows.
  add('RSS grows ≤ 32 MB while about 100,000 tickets export as CSV', csv?.rssGrowthMb, ' MB', (v) => v <= 32);
  if (csv) checks.push({ target: 'the CSV export starts with a UTF-8 BOM', value: csv.startsWithBom ? 'yes' : 'no', met: csv.startsWithBom });
  return checks;
}

// ---------------------------------------------------------------- main
async function main(): Promise<void> {
  const a = parseArgs(process.argv.slice(2));
  if (a.build) {
    process.stderr.write('Building (npm run build)…\n');
    const b = spawnSync('npm', ['run', 'build', '--silent'], { cwd: ROOT, stdio: 'inherit' });
    if (b.status !== 0) throw new Error('build failed');
  }
  const meta = await ensureSeeded(a);

  // Each run works on a copy, so its writes never change the cached database.
  const work = mkdtempSync(path.join(DATA, 'run-'));
  const dbFile = path.join(work, 'deskside.db');
  copyFileSync(seedFile(a), dbFile);
  const bulkPool = readBulkPool(dbFile, meta);
  const cpuProfDir = a.cpuProf ? path.join(DATA, 'profiles', new Date().toISOString().replace(/[:.]/g, '-')) : undefined;
  if (cpuProfDir) mkdirSync(cpuProfDir, { recursive: true });
  const loadBefore = os.loadavg();
  const started = Date.now();
  let server: Server | undefined;
  try {
    const reportDir = a.memory ? path.join(work, 'reports') : undefined;
    if (reportDir) mkdirSync(reportDir, { recursive: true });
    server = await startServer(dbFile, work, { cpuProfDir, reportDir });
    process.stderr.write(`Server up in ${server.coldStartMs.toFixed(0)} ms (pid ${server.proc.pid}, port ${server.port})\n`);
    const personas = {
      agent: await signIn(server.port, AGENTS[0]),
      requester: await signIn(server.port, meta.heavyRequester.login),
      writer: await signIn(server.port, 'CORP\\bench.writer'),
    };
    personas.agent.token = await makeToken(server.port, personas.agent);

    // The ceiling: the queue page's exact bytes from a bare Node http server.
    const page = await fetchRaw(server.port, '/tickets', headersOf(personas.agent));
    if (page.status !== 200) throw new Error(`queue page answered ${page.status}`);
    const pageFile = path.join(work, 'queue.html');
    writeFileSync(pageFile, page.body);
    const ceiling = await startCeiling(pageFile, String(page.headers['content-type']));
    const ceilingReq: AcRequest[] = [{ method: 'GET', path: '/tickets', headers: headersOf(personas.agent) }];
    const ceilingBy = new Map<number, Measured>();
    for (const c of [1, 8]) {
      const m = await measure(ceiling.port, ceilingReq, c, a, 200);
      ceilingBy.set(c, m);
      process.stderr.write(`  ceiling      c=${c}  ${m.requestsPerSecond.toFixed(0)} req/s  p50 ${m.p50Ms.toFixed(2)} ms\n`);
    }
    await stopChild(ceiling.proc);

    const running = server;
    // Two processes on one database file, as iisnode runs them (one per core): the
    // queue from one process at 8 connections, then from two at 4 connections each.
    const compareTwoProcesses = async () => {
      if (a.only && !a.only.includes('two-process')) return undefined;
      const server = running;
      const queueReq = [{ method: 'GET', path: '/tickets', headers: headersOf(personas.agent) }];
      const second = await startServer(dbFile, work);
      // Sessions live in the shared database and the secret is shared: the same cookie works on both.
      // One and two processes take turns, three times each, so a change in the machine's
      // other load affects both alike; the medians are reported.
      const ones: Measured[] = [];
      const twos: Measured[] = [];
      for (let i = 0; i < 3; i++) {
        ones.push(await measure(server.port, queueReq, 8, a, 200));
        twos.push(await measureMany([server.port, second.port], queueReq, 4, a, 200));
      }
      await stopChild(second.proc);
      const median = (xs: Measured[]) => [...xs].sort((x, y) => x.requestsPerSecond - y.requestsPerSecond)[1];
      const one = median(ones);
      const two = median(twos);
      const result = {
        scenario: 'queue',
        method: 'one process at 8 connections vs two processes (two ports, one database file) at 4 connections each; alternated three times, medians',
        oneProcessRequestsPerSecond: r1(one.requestsPerSecond),
        twoProcessRequestsPerSecond: r1(two.requestsPerSecond),
        speedup: r2(two.requestsPerSecond / one.requestsPerSecond),
        oneProcessP50Ms: r3(one.p50Ms),
        oneProcessP99Ms: r3(one.p99Ms),
        twoProcessP50Ms: r3(two.p50Ms),
        twoProcessP99Ms: r3(two.p99Ms),
        runs: { one: ones.map((m) => r1(m.requestsPerSecond)), two: twos.map((m) => r1(m.requestsPerSecond)) },
        errors: [...ones, ...twos].reduce((n, m) => n + m.errors, 0),
        generatorCpuPercent: Math.round(two.generatorCpuPercent),
      };
      process.stderr.write(`  two processes: ${two.requestsPerSecond.toFixed(0)} req/s vs one ${one.requestsPerSecond.toFixed(0)} req/s (×${(two.requestsPerSecond / one.requestsPerSecond).toFixed(2)})\n`);
      return result;
    };
    let twoProcess: Awaited<ReturnType<typeof compareTwoProcesses>> | undefined;

    const wants = (step: string) => !a.only || a.only.includes(step);
    const downloadPath = wants('download') ? await attachForDownload(server.port, personas.agent, meta.activeTickets[120]) : '/';
    const results: ScenarioResult[] = [];
    const generatorCpu: Record<string, number> = {};
    // Server CPU per request: unlike requests/s it barely moves when other work shares the machine.
    const serverCpuMsPerRequest: Record<string, number> = {};
    const rssMbAfter: Record<string, number> = {};
    for (const s of scenarios(meta, downloadPath, bulkPool)) {
      if (a.only && !a.only.includes(s.name)) continue;
      for (const c of [1, 8]) {
        const cpu0 = cpuSeconds(server.proc.pid!);
        const m = await measure(server.port, s.requests(personas[s.persona]), c, a, s.expect);
        // Includes the warm-up requests, so divide by both runs' responses.
        serverCpuMsPerRequest[`${s.name}@${c}`] = r3(((cpuSeconds(server.proc.pid!) - cpu0) * 1000) / (m.responses + m.warmupResponses));
        const ceil = ceilingBy.get(c)!.requestsPerSecond;
        results.push({ name: s.name, concurrency: c, requestsPerSecond: r1(m.requestsPerSecond), p50Ms: r3(m.p50Ms), p99Ms: r3(m.p99Ms), errors: m.errors, bytes: m.bytes, ratioToCeiling: r3(m.requestsPerSecond / ceil) });
        generatorCpu[`${s.name}@${c}`] = Math.round(m.generatorCpuPercent);
        process.stderr.write(`  ${s.name.padEnd(16)} c=${c}  ${m.requestsPerSecond.toFixed(0)} req/s  p50 ${m.p50Ms.toFixed(2)} ms  p99 ${m.p99Ms.toFixed(2)} ms  errors ${m.errors}  server CPU ${serverCpuMsPerRequest[`${s.name}@${c}`]} ms/req\n`);
        if (m.errors > 0) process.stderr.write(server.output().slice(-2000));
        if (s.name === 'bulk') process.stderr.write(`  bulk: ${pool(bulkPool)}\n`);
        rssMbAfter[`${s.name}@${c}`] = r1(rssMb(server.proc.pid!));
      }
      // Two processes are compared on the queue as the read scenarios left it, before the
      // write scenarios put hundreds of benchmark replies on the tickets at its top.
      if (s.name === 'search') twoProcess = await compareTwoProcesses();
    }
    twoProcess ??= await compareTwoProcesses();
    const rss = rssMb(server.proc.pid!);
    const rssParts = rssPartsMb(server.proc.pid!);
    const heap = reportDir ? await heapReport(server.proc.pid!, reportDir) : undefined;
    process.stderr.write(`  RSS ${r1(rss)} MB: anonymous ${rssParts.anonymous}, files ${rssParts.files}, shared ${rssParts.shared}${heap ? `; V8 heap ${heap.heapTotal} MB (${heap.heapUsed} used), external ${heap.external}` : ''}\n`);
    const stream = wants('stream') ? await streamCheck(server.port, server.proc.pid!, personas.agent, meta.activeTickets[121]) : undefined;
    if (stream) process.stderr.write(`  stream 100 MB: RSS ${stream.rssBeforeMb} MB before, peak ${stream.rssPeakUploadMb} MB uploading, ${stream.rssPeakDownloadMb} MB downloading (${stream.downloadMbPerSecond} MB/s); bytes ${stream.bytesMatch ? 'match' : 'DIFFER'}\n`);

    const csv = wants('csv') ? await csvCheck(server.port, server.proc.pid!, personas.agent, dbFile) : undefined;
    if (csv) process.stderr.write(`  csv export: ${csv.rows} rows in ${csv.seconds} s (${csv.rowsPerSecond} rows/s), RSS ${csv.rssBeforeMb} MB before, peak ${csv.rssPeakMb} MB\n`);

    await stopChild(server.proc);
    server = undefined;

    const out = {
      tickets: meta.tickets,
      seedSeconds: r1(meta.seedSeconds),
      coldStartMs: r1((await coldStart(dbFile, work))),
      rssMb: r1(rss),
      rssParts,
      heap,
      ceilingRequestsPerSecond: r1(ceilingBy.get(8)!.requestsPerSecond),
      scenarios: results,
      ceiling: [1, 8].map((c) => ({ concurrency: c, requestsPerSecond: r1(ceilingBy.get(c)!.requestsPerSecond), p50Ms: r3(ceilingBy.get(c)!.p50Ms), p99Ms: r3(ceilingBy.get(c)!.p99Ms), bytes: ceilingBy.get(c)!.bytes })),
      twoProcess,
      stream,
      csv,
      bulk: { ticketChangesApplied: bulkPool.applied, skipped: bulkPool.skipped, ticketsPerPost: 25 },
      machine: {
        cpus: os.cpus().length,
        cpuModel: os.cpus()[0]?.model,
        memoryGb: r1(os.totalmem() / 2 ** 30),
        node: process.version,
        loadAverageBefore: loadBefore.map(r2),
        loadAverageAfter: os.loadavg().map(r2),
      },
      seeding: { wallSeconds: r1(meta.seedSeconds), cpuSeconds: meta.seedCpuSeconds === undefined ? undefined : r1(meta.seedCpuSeconds), loadAverage1m: meta.seedLoadAverage, seededAt: meta.seededAt },
      settings: { durationSeconds: a.duration, warmupSeconds: a.warmup, seed: a.seed, databaseBytes: meta.fileBytes, heavyRequesterTickets: meta.heavyRequester.tickets },
      generatorCpuPercent: generatorCpu,
      rssMbAfter,
      serverCpuMsPerRequest,
      finishedAt: new Date().toISOString(),
      targets: [] as TargetCheck[],
      wallSeconds: Math.round((Date.now() - started) / 1000),
    };
    out.targets = checkTargets(out, twoProcess?.speedup, stream, csv);
    mkdirSync(RESULTS, { recursive: true });
    const md = [
      `# Deskside benchmark: ${meta.tickets.toLocaleString('en-GB')} tickets`,
      '',
      `${out.machine.cpus} CPUs (${out.machine.cpuModel}), Node ${out.machine.node}, load average ${out.machine.loadAverageBefore.join(' ')} before, ${out.machine.loadAverageAfter.join(' ')} after. ${a.duration} s per measurement after ${a.warmup} s warm-up.`,
      '',
      table(results, serverCpuMsPerRequest),
      '',
      `| figure | value |\n| --- | ---: |`,
      `| bare-Node ceiling (queue page bytes), c=1 / c=8 | ${out.ceiling.map((c) => c.requestsPerSecond.toLocaleString('en-GB', { maximumFractionDigits: 0 })).join(' / ')} req/s |`,
      `| cold start (process start to first 200) | ${out.coldStartMs} ms |`,
      `| RSS after the run | ${out.rssMb} MB (anonymous ${out.rssParts.anonymous}, files ${out.rssParts.files}, shared ${out.rssParts.shared}${out.heap ? `; V8 heap ${out.heap.heapTotal} MB, ${out.heap.heapUsed} used; external ${out.heap.external}` : ''}) |`,
      `| seeding ${meta.tickets.toLocaleString('en-GB')} tickets | ${out.seedSeconds} s wall${meta.seedCpuSeconds === undefined ? '' : `, ${r1(meta.seedCpuSeconds)} s CPU (load ${r2(meta.seedLoadAverage ?? 0)})`} |`,
      `| bulk: ticket changes applied (25 a post) / skipped | ${bulkPool.applied.toLocaleString('en-GB')} / ${bulkPool.skipped} |`,
      twoProcess
        ? `| queue, two processes vs one (8 connections in all; medians of 3 alternations) | ${twoProcess.twoProcessRequestsPerSecond} vs ${twoProcess.oneProcessRequestsPerSecond} req/s (×${twoProcess.speedup}); p50 ${twoProcess.twoProcessP50Ms} vs ${twoProcess.oneProcessP50Ms} ms; p99 ${twoProcess.twoProcessP99Ms} vs ${twoProcess.oneProcessP99Ms} ms |`
        : '',
      csv
        ? `| CSV export (${csv.path}): rows, rows per second, server RSS before / peak | ${csv.rows.toLocaleString('en-GB')} rows (${(csv.bytes / 1024 / 1024).toFixed(1)} MB) in ${csv.seconds} s, ${csv.rowsPerSecond.toLocaleString('en-GB')} rows/s; ${csv.rssBeforeMb} / ${csv.rssPeakMb} MB |`
        : '',
      stream
        ? `| 100 MB file: server RSS before / peak uploading / peak downloading | ${stream.rssBeforeMb} / ${stream.rssPeakUploadMb} / ${stream.rssPeakDownloadMb} MB (upload ${stream.uploadSeconds} s, download ${stream.downloadSeconds} s, ${stream.downloadMbPerSecond} MB/s) |`
        : '',
      '',
      '| target | this run | met |\n| --- | ---: | :---: |',
      ...out.targets.map((t) => `| ${t.target} | ${t.value} | ${t.met === null ? '–' : t.met ? 'met' : 'not met'} |`),
      '',
    ].join('\n');
    const suffix = a.only ? '-partial' : '';
    // A partial run (--only) never replaces the committed figures; it goes beside the data.
    const resultsDir = a.only ? DATA : RESULTS;
    writeFileSync(path.join(resultsDir, `latest${suffix}.json`), `${JSON.stringify(out, null, 2)}\n`);
    // Every run is also kept (git-ignored) so medians of several runs can be quoted.
    mkdirSync(path.join(DATA, 'history'), { recursive: true });
    writeFileSync(path.join(DATA, 'history', `${out.finishedAt.replace(/[:.]/g, '-')}-${meta.tickets}${suffix}.json`), `${JSON.stringify(out, null, 2)}\n`);
    writeFileSync(path.join(resultsDir, `latest${suffix}.md`), md);
    process.stdout.write(`\n${md}\n`);
    if (cpuProfDir) process.stderr.write(`CPU profiles in ${cpuProfDir}\n`);
  } finally {
    if (server) await stopChild(server.proc);
    killAll();
    rmSync(work, { recursive: true, force: true });
  }
}

/** A fresh process on the same file, with the page cache warm: start to first 200, median of 5. */
async function coldStart(dbFile: string, work: string): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < 5; i++) {
    const s = await startServer(dbFile, work);
    times.push(s.coldStartMs);
    await stopChild(s.proc);
  }
  times.sort((x, y) => x - y);
  return times[2];
}

main().catch((err: unknown) => {
  killAll();
  process.stderr.write(`bench failed: ${err instanceof Error ? err.stack ?? err.message : String(err)}\n`);
  process.exit(1);
});
