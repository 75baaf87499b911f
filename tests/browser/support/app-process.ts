import { spawn, type ChildProcessByStdio } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';

const ROOT = path.resolve(__dirname, '../../..');
const ENTRY = path.join(ROOT, 'dist', 'server.js');

/**
 * The production build behind a trusted proxy on loopback, with the demo directory's
 * people and groups (DEMO\alice … DEMO\erin): how the journeys sign people in.
 */
export const PROXY_DEMO_ENV: Record<string, string> = {
  NODE_ENV: 'production',
  DESKSIDE_IDENTITY: 'proxy',
  DESKSIDE_TRUSTED_PROXIES: '127.0.0.1,::1',
  DESKSIDE_AGENTS: 'DEMO\\Helpdesk Agents',
  DESKSIDE_ADMINS: 'DEMO\\Deskside Admins',
  DESKSIDE_DEMO_DATA: 'true',
};

export interface RunningApp {
  /** http://127.0.0.1:PORT */
  url: string;
  pid: number;
  /** The last lines the app wrote, for a failing test's message. */
  logTail(): string;
  stop(): Promise<void>;
}

/**
 * Start the BUILT app (dist/server.js, as iisnode or `npm start` would run it) on a free
 * loopback port with a fresh data folder and database. Nothing from the test runner's
 * own environment leaks in: jest sets NODE_ENV=test, which the app must not see.
 */
export async function startApp(env: Record<string, string>): Promise<RunningApp> {
  if (!existsSync(ENTRY)) throw new Error(`${ENTRY} is missing: run "npm run build" first (npm test does)`);
  const dir = mkdtempSync(path.join(os.tmpdir(), 'deskside-browser-'));
  const base: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (v !== undefined && !/^(DESKSIDE_|NODE_ENV$|PORT$|IISNODE_)/.test(k)) base[k] = v;
  }
  const child: ChildProcessByStdio<null, Readable, Readable> = spawn(process.execPath, [ENTRY], {
    cwd: dir, // the app resolves views/public from its own folder, not the working directory
    env: {
      ...base,
      PORT: '0',
      DESKSIDE_HOST: '127.0.0.1',
      DESKSIDE_DATA_DIR: dir,
      DESKSIDE_DATABASE: `sqlite:${path.join(dir, 'deskside.db')}`,
      DESKSIDE_LOG_LEVEL: 'info',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const tail: string[] = [];
  const keep = (line: string) => {
    tail.push(line.length > 600 ? `${line.slice(0, 600)}…` : line);
    if (tail.length > 60) tail.shift();
  };
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  createInterface({ input: child.stderr }).on('line', keep);
  const lines = createInterface({ input: child.stdout });

  const url = await new Promise<string>((resolve, reject) => {
    lines.on('line', (line) => {
      keep(line);
      try {
        const entry = JSON.parse(line) as { listen?: unknown };
        if (typeof entry.listen === 'string' && entry.listen.startsWith('http://')) resolve(entry.listen);
      } catch {
        /* not a log line */
      }
    });
    void exited.then((code) => reject(new Error(`the app exited (code ${code}) before listening:\n${tail.join('\n')}`)));
  });

  let stopping: Promise<void> | undefined;
  return {
    url,
    pid: child.pid!,
    logTail: () => tail.join('\n'),
    stop: () =>
      (stopping ??= (async () => {
        if (child.exitCode === null && child.signalCode === null) {
          child.kill('SIGTERM');
          const killer = setTimeout(() => child.kill('SIGKILL'), 5000);
          await exited;
          clearTimeout(killer);
        }
        rmSync(dir, { recursive: true, force: true });
      })()),
  };
}
