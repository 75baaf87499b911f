import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

export const ROOT = path.resolve(__dirname, '..', '..');
export const ENTRY = path.join(ROOT, 'dist', 'server.js');
/** The root entry web.config names; iisnode loads it through its interceptor. */
export const IISNODE_ENTRY = path.join(ROOT, 'server.js');
const INTERCEPTOR = path.join(__dirname, 'iisnode-interceptor.js');

export function requireBuild(): void {
  if (!existsSync(ENTRY)) throw new Error(`${ENTRY} is missing: run "npm run build" first (npm test does)`);
}

export interface RunningServer {
  proc: ChildProcess;
  dir: string;
  output: () => string;
  stop(): Promise<void>;
}

/**
 * Start the built app as a separate process: by default its compiled entry, as a test
 * server; with `via: 'iisnode'`, the root server.js loaded the way iisnode loads it.
 */
export function spawnServer(env: Record<string, string>, opts: { dir?: string; via?: 'iisnode' } = {}): RunningServer {
  requireBuild();
  const dir = opts.dir ?? mkdtempSync(path.join(os.tmpdir(), 'deskside-proc-'));
  let out = '';
  const proc = spawn(process.execPath, opts.via === 'iisnode' ? [INTERCEPTOR, IISNODE_ENTRY] : [ENTRY], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', DESKSIDE_DATA_DIR: dir, DESKSIDE_DATABASE: `sqlite:${path.join(dir, 'deskside.db')}`, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  proc.stdout.on('data', (d: Buffer) => (out += d.toString()));
  proc.stderr.on('data', (d: Buffer) => (out += d.toString()));
  return {
    proc,
    dir,
    output: () => out,
    async stop() {
      if (proc.exitCode === null && proc.signalCode === null) {
        const exited = new Promise((r) => proc.once('exit', r));
        proc.kill('SIGTERM');
        const timer = setTimeout(() => proc.kill('SIGKILL'), 5000);
        await exited;
        clearTimeout(timer);
      }
      if (!opts.dir) rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Resolve once something accepts connections at the socket path or port, or fail on exit. */
export async function waitForListening(server: RunningServer, where: { socketPath?: string; port?: number }, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (server.proc.exitCode !== null) throw new Error(`server exited with ${server.proc.exitCode}:\n${server.output()}`);
    const ok = await new Promise<boolean>((resolve) => {
      const s = where.socketPath ? net.connect(where.socketPath) : net.connect(where.port!, '127.0.0.1');
      s.once('connect', () => {
        s.destroy();
        resolve(true);
      });
      s.once('error', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`server did not listen within ${timeoutMs} ms:\n${server.output()}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

export async function waitForExit(server: RunningServer, timeoutMs = 20_000): Promise<number | null> {
  if (server.proc.exitCode !== null) return server.proc.exitCode;
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('server did not exit')), timeoutMs);
    server.proc.once('exit', (code) => {
      clearTimeout(timer);
      resolve(code);
    });
  });
}

export interface RawResponse {
  status: number;
  headers: [string, string][];
  header(name: string): string | undefined;
  all(name: string): string[];
  body: string;
}

/**
 * Send a request byte for byte over a socket path or port, headers exactly as given
 * (duplicates, odd case and all), the way iisnode writes requests to node's pipe.
 */
export function rawRequest(where: { socketPath?: string; port?: number; localAddress?: string }, lines: { method?: string; path: string; headers: [string, string][]; body?: string }): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const s = where.socketPath ? net.connect(where.socketPath) : net.connect({ port: where.port!, host: '127.0.0.1', localAddress: where.localAddress });
    const chunks: Buffer[] = [];
    s.on('data', (d) => chunks.push(d));
    s.on('error', reject);
    s.on('end', () => {
      const raw = Buffer.concat(chunks);
      const split = raw.indexOf('\r\n\r\n');
      const head = raw.subarray(0, split).toString('latin1').split('\r\n');
      const status = Number(head[0].split(' ')[1]);
      const headers = head.slice(1).map((h) => {
        const i = h.indexOf(':');
        return [h.slice(0, i).trim(), h.slice(i + 1).trim()] as [string, string];
      });
      let bodyBytes: Buffer = raw.subarray(split + 4);
      const te = headers.find(([k]) => k.toLowerCase() === 'transfer-encoding');
      if (te && /chunked/i.test(te[1])) bodyBytes = dechunk(bodyBytes);
      const body = bodyBytes.toString('utf8');
      const all = (name: string) => headers.filter(([k]) => k.toLowerCase() === name.toLowerCase()).map(([, v]) => v);
      resolve({ status, headers, body, all, header: (name) => all(name)[0] });
    });
    const body = lines.body ?? '';
    const hdrs = [...lines.headers, ['Connection', 'close'] as [string, string]];
    if (body) hdrs.push(['Content-Length', String(Buffer.byteLength(body))]);
    s.write(`${lines.method ?? 'GET'} ${lines.path} HTTP/1.1\r\n${hdrs.map(([k, v]) => `${k}: ${v}\r\n`).join('')}\r\n${body}`);
  });
}

function dechunk(buf: Buffer): Buffer {
  const parts: Buffer[] = [];
  let pos = 0;
  for (;;) {
    const nl = buf.indexOf('\r\n', pos);
    if (nl < 0) break;
    const size = parseInt(buf.subarray(pos, nl).toString('latin1'), 16);
    if (!size) break;
    parts.push(buf.subarray(nl + 2, nl + 2 + size));
    pos = nl + 2 + size + 2;
  }
  return Buffer.concat(parts);
}

/** Wait until the process has printed something matching `pattern` (logs are asynchronous). */
export async function waitForOutput(server: RunningServer, pattern: RegExp, timeoutMs = 5000): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const m = pattern.exec(server.output());
    if (m) return m[0];
    if (Date.now() > deadline) throw new Error(`output never matched ${pattern}:\n${server.output().slice(-4000)}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** The environment of a production server behind a trusted proxy on loopback, for process tests. */
export function proxyServerEnv(port: number, extra: Record<string, string> = {}): Record<string, string> {
  return {
    NODE_ENV: 'production',
    DESKSIDE_IDENTITY: 'proxy',
    DESKSIDE_TRUSTED_PROXIES: '127.0.0.1',
    DESKSIDE_AGENTS: 'TEST\\agent1',
    PORT: String(port),
    DESKSIDE_HOST: '127.0.0.1',
    DESKSIDE_LOG_LEVEL: 'warn',
    DESKSIDE_SECRET: 'process-test-secret-0123456789abcdefghijklm',
    ...extra,
  };
}
