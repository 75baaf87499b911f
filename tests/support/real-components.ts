/**
 * What every suite that starts a real component (a Samba DC, Dovecot, …) shares: how a
 * missing component is reported, running a setup command, reading a log's tail, and the
 * throwaway certificates the components serve.
 */
import { spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export const isCI = /^(true|1|yes)$/i.test(process.env.CI ?? '');

export function which(cmd: string): string | null {
  const r = spawnSync('sh', ['-c', `command -v ${cmd}`], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : null;
}

/** Run a setup command to completion; throws with the end of its output when it fails. */
export function run(cmd: string, args: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): string {
  const r = spawnSync(cmd, args, { encoding: 'utf8', cwd: opts.cwd, env: opts.env ?? process.env, timeout: 120_000 });
  if (r.status !== 0) throw new Error(`${cmd} ${args.slice(0, 3).join(' ')} … failed (${r.status ?? r.signal}):\n${(r.stderr || r.stdout || '').slice(-3000)}`);
  return r.stdout;
}

// A test worker that exits without afterAll (a crash, a timeout) still takes its servers along.
const live = new Set<ChildProcess>();
process.once('exit', () => {
  for (const p of live) {
    try {
      p.kill('SIGKILL');
    } catch {
      /* already gone */
    }
  }
});

/** Remember a server process the tests started, so it is killed if the worker exits first. */
export function trackChild(p: ChildProcess): ChildProcess {
  live.add(p);
  p.once('exit', () => live.delete(p));
  return p;
}

/** Wait until the given child (only it) exits: SIGTERM, then SIGKILL after `graceMs`. */
export async function stopChild(p: ChildProcess, graceMs = 5000): Promise<void> {
  if (p.exitCode !== null || p.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => p.once('exit', () => resolve()));
  p.kill('SIGTERM');
  const timer = setTimeout(() => p.kill('SIGKILL'), graceMs);
  await exited;
  clearTimeout(timer);
}

/** The last lines of a log file, for failure messages. */
export function tail(file: string, lines = 40): string {
  try {
    return readFileSync(file, 'utf8').split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

/**
 * `describe` for suites that need a real component: runs them when `reason` is null; under
 * CI=true a missing component is a failing test (a required suite that cannot run is a
 * failure); elsewhere the suite is skipped with one line per test run, however many suites
 * and workers skip (the first to claim a marker named after the jest parent process prints it).
 */
export function describeWithComponent(component: { key: string; what: string; reason: string | null }, name: string, fn: () => void): void {
  const { key, what, reason } = component;
  if (!reason) {
    describe(name, fn);
  } else if (isCI) {
    describe(name, () => {
      test(`when CI=true, then ${what} can be started`, () => {
        throw new Error(`CI=true but ${reason}`);
      });
    });
  } else {
    try {
      writeFileSync(path.join(os.tmpdir(), `deskside-${key}-skip-${process.ppid}`), '', { flag: 'wx' });
      process.stderr.write(`skipped the ${what} suites: ${reason}\n`);
    } catch {
      /* already said */
    }
    describe.skip(name, fn);
  }
}

export interface TestCertificates {
  /** The throwaway CA that signed the server certificate: what a client trusts. */
  caFile: string;
  certFile: string;
  keyFile: string;
}

/**
 * A CA and a server certificate signed by it, naming the given host names and IP addresses,
 * valid for two days: a client that trusts `caFile` verifies the server exactly as it would a
 * real one, and one that does not is refused, as in production.
 */
export function makeTestCertificates(dir: string, opts: { cn: string; dnsNames: string[]; ips: string[] }): TestCertificates {
  mkdirSync(dir, { recursive: true });
  const caFile = path.join(dir, 'ca.pem');
  const caKey = path.join(dir, 'ca-key.pem');
  const keyFile = path.join(dir, 'key.pem');
  const csr = path.join(dir, 'cert.csr');
  const certFile = path.join(dir, 'cert.pem');
  const ext = path.join(dir, 'cert.ext');
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  run('openssl', ['req', '-x509', ...ec, '-keyout', caKey, '-out', caFile, '-days', '2', '-subj', `/O=Deskside tests/CN=Test CA for ${opts.cn}`]);
  run('openssl', ['req', ...ec, '-keyout', keyFile, '-out', csr, '-subj', `/CN=${opts.cn}`]);
  const names = [...opts.dnsNames.map((n) => `DNS:${n}`), ...opts.ips.map((ip) => `IP:${ip}`)].join(',');
  writeFileSync(ext, `subjectAltName=${names}\nextendedKeyUsage=serverAuth\nkeyUsage=digitalSignature,keyEncipherment\n`);
  run('openssl', ['x509', '-req', '-in', csr, '-CA', caFile, '-CAkey', caKey, '-CAcreateserial', '-out', certFile, '-days', '2', '-extfile', ext]);
  chmodSync(keyFile, 0o600);
  return { caFile, certFile, keyFile };
}
