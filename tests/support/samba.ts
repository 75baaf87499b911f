/**
 * A throwaway Samba Active Directory domain controller for tests: provisioned into a
 * temporary folder, listening on its own loopback address (127.x.y.z, so two test files
 * can each run one at once, and nothing on 127.0.0.1 clashes), stopped and deleted after.
 *
 * Reused by the directory suite and the Kerberos suite: `startSambaDc()` returns the LDAP
 * and LDAPS URLs, the CA file, the Administrator's bind DN and password, the realm, the
 * NetBIOS name and a krb5.conf pointing at the DC's KDC.
 *
 * Samba has no setting for its LDAP/Kerberos ports (389, 636, 88, 464 are fixed), which is
 * why each DC gets its own address instead: Linux routes all of 127.0.0.0/8 to `lo`, and
 * `interfaces = 127.x.y.z/8` with `bind interfaces only` makes Samba listen there alone.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes, randomInt } from 'node:crypto';
import { chmodSync, closeSync, existsSync, openSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { Attribute, Change, Client } from 'ldapts';

export const SAMBA_INSTALL = 'apt-get install -y samba samba-ad-dc samba-ad-provision winbind krb5-user ldap-utils';

const SAMBA = '/usr/sbin/samba';

function which(cmd: string): string | null {
  const r = spawnSync('sh', ['-c', `command -v ${cmd}`], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : null;
}

/** Why a DC cannot be started here, or null when it can. */
export function sambaUnavailableReason(): string | null {
  if (!which('samba-tool') || !existsSync(SAMBA)) return `samba-tool not found; ${SAMBA_INSTALL}`;
  if (!which('openssl')) return 'openssl not found; apt-get install -y openssl';
  if (typeof process.getuid === 'function' && process.getuid() !== 0) return 'a Samba DC must run as root (it binds ports 88, 389 and 636)';
  return null;
}

export const isCI = /^(true|1|yes)$/i.test(process.env.CI ?? '');

/**
 * `describe` for suites that need a DC: runs them when Samba is here; under CI=true a
 * missing Samba is a failing test; elsewhere the suite is skipped with one line.
 */
export function describeWithSamba(name: string, fn: () => void): void {
  const reason = sambaUnavailableReason();
  if (!reason) {
    describe(name, fn);
  } else if (isCI) {
    describe(name, () => {
      test('when CI=true, then a Samba domain controller can be started', () => {
        throw new Error(`CI=true but ${reason}`);
      });
    });
  } else {
    // One line per test run, however many suites and workers skip: the first to claim
    // the marker (named after the jest parent process) prints it.
    try {
      writeFileSync(path.join(os.tmpdir(), `deskside-samba-skip-${process.ppid}`), '', { flag: 'wx' });
      process.stderr.write(`skipped the Samba AD suites: ${reason}\n`);
    } catch {
      /* already said */
    }
    describe.skip(name, fn);
  }
}

export interface SambaDc {
  /** The loopback address this DC alone listens on. */
  ip: string;
  /** `ldap://IP` (StartTLS available) and `ldaps://IP`; the certificate names the IP and the host. */
  url: string;
  ldapsUrl: string;
  /** The DC's own CA (DIR/private/tls/ca.pem). */
  caFile: string;
  /** Administrator's DN and password: use for setup only, tests should bind as a plain user. */
  bindDn: string;
  password: string;
  baseDn: string;
  /** DNS realm, upper case (`DESKSIDE.TEST`); `realm.toLowerCase()` is the DNS domain. */
  realm: string;
  netbios: string;
  hostName: string;
  dir: string;
  kdc: { host: string; port: number; realm: string; krb5Conf: string };
  /** Milliseconds provisioning and the first start took. */
  timings: { provisionMs: number; firstStartMs: number };
  /** A connected client bound as Administrator over LDAPS (the caller unbinds it). */
  admin(): Promise<Client>;
  /** Add entries in order (parents first). Values are strings, string arrays or buffers. */
  add(entries: { dn: string; attributes: Record<string, string | string[] | Buffer> }[]): Promise<void>;
  /** Add a user that can bind, with a password and the given extra attributes. */
  addUser(u: { cn: string; sam: string; password?: string; ou?: string; upn?: string; attributes?: Record<string, string | string[]> }): Promise<string>;
  modify(dn: string, changes: { operation: 'add' | 'delete' | 'replace'; type: string; values: (string | Buffer)[] }[]): Promise<void>;
  running(): boolean;
  stop(): Promise<void>;
  start(): Promise<void>;
  /** Stop and delete the temporary folder. Safe to call twice. */
  destroy(): Promise<void>;
  /** Samba's log, for failure messages. */
  log(): string;
}

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

async function freeLoopbackAddress(): Promise<string> {
  for (let i = 0; i < 20; i++) {
    const ip = `127.${randomInt(100, 250)}.${randomInt(1, 250)}.${randomInt(2, 250)}`;
    const free = await new Promise<boolean>((resolve) => {
      const s = net.createServer();
      s.once('error', () => resolve(false));
      s.listen(389, ip, () => s.close(() => resolve(true)));
    });
    if (free) return ip;
  }
  throw new Error('no free loopback address for a test domain controller');
}

function run(cmd: string, args: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): string {
  const r = spawnSync(cmd, args, { encoding: 'utf8', cwd: opts.cwd, env: opts.env ?? process.env, timeout: 120_000 });
  if (r.status !== 0) throw new Error(`${cmd} ${args.slice(0, 3).join(' ')} … failed (${r.status ?? r.signal}):\n${(r.stderr || r.stdout || '').slice(-3000)}`);
  return r.stdout;
}

/** A CA and a server certificate naming both the host and the loopback IP, where Samba looks for them. */
function makeCertificates(tlsDir: string, fqdn: string, ip: string): void {
  mkdirSync(tlsDir, { recursive: true });
  const ca = path.join(tlsDir, 'ca.pem');
  const caKey = path.join(tlsDir, 'ca-key.pem');
  const key = path.join(tlsDir, 'key.pem');
  const csr = path.join(tlsDir, 'cert.csr');
  const cert = path.join(tlsDir, 'cert.pem');
  const ext = path.join(tlsDir, 'cert.ext');
  run('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', caKey, '-out', ca, '-days', '2', '-subj', `/O=Deskside tests/CN=Test CA for ${fqdn}`]);
  run('openssl', ['req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', key, '-out', csr, '-subj', `/CN=${fqdn}`]);
  writeFileSync(ext, `subjectAltName=DNS:${fqdn},IP:${ip}\nextendedKeyUsage=serverAuth\nkeyUsage=digitalSignature,keyEncipherment\n`);
  run('openssl', ['x509', '-req', '-in', csr, '-CA', ca, '-CAkey', caKey, '-CAcreateserial', '-out', cert, '-days', '2', '-extfile', ext]);
  chmodSync(key, 0o600);
}

async function waitForLdap(ip: string, child: ChildProcess, logFile: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`samba exited (${child.exitCode ?? child.signalCode}) before answering:\n${tail(logFile)}`);
    }
    const c = new Client({ url: `ldap://${ip}`, connectTimeout: 500, timeout: 1000 });
    try {
      const { searchEntries } = await c.search('', { scope: 'base', attributes: ['defaultNamingContext'] });
      if (searchEntries[0]?.defaultNamingContext) return;
    } catch {
      /* not yet */
    } finally {
      await c.unbind().catch(() => undefined);
    }
    await new Promise((r) => setTimeout(r, 150));
  }
  throw new Error(`samba did not answer LDAP on ${ip} within ${timeoutMs} ms:\n${tail(logFile)}`);
}

function tail(file: string): string {
  try {
    return readFileSync(file, 'utf8').split('\n').slice(-40).join('\n');
  } catch {
    return '(no log)';
  }
}

function asAttributes(attrs: Record<string, string | string[] | Buffer>): Attribute[] {
  return Object.entries(attrs).map(([type, v]) => new Attribute({ type, values: (Array.isArray(v) ? v : [v]) as string[] }));
}

export function unicodePwd(password: string): Buffer {
  return Buffer.from(`"${password}"`, 'utf16le');
}

/**
 * Provision a fresh domain and start its DC. Default realm DESKSIDE.TEST, NetBIOS TEST.
 * Password complexity and expiry are off and no lockout threshold is set (tests may set one).
 */
export async function startSambaDc(opts: { realm?: string; netbios?: string } = {}): Promise<SambaDc> {
  const reason = sambaUnavailableReason();
  if (reason) throw new Error(reason);
  const realm = (opts.realm ?? 'DESKSIDE.TEST').toUpperCase();
  const netbios = (opts.netbios ?? 'TEST').toUpperCase();
  const dnsDomain = realm.toLowerCase();
  const hostName = 'dc1';
  const fqdn = `${hostName}.${dnsDomain}`;
  const baseDn = dnsDomain
    .split('.')
    .map((p) => `DC=${p}`)
    .join(',');
  const ip = await freeLoopbackAddress();
  const dir = mkdtempSync(path.join(os.tmpdir(), 'deskside-samba-'));
  const password = `Adm1n-${randomBytes(6).toString('hex')}!`;
  const runDir = path.join(dir, 'run');
  const logFile = path.join(dir, 'log', 'samba.log');
  mkdirSync(runDir, { recursive: true });
  mkdirSync(path.dirname(logFile), { recursive: true });
  const env = { ...process.env, KRB5_CONFIG: path.join(dir, 'krb5.conf') };

  let child: ChildProcess | null = null;
  let destroyed = false;
  try {
    const t0 = Date.now();
    run(
      'samba-tool',
      [
        'domain',
        'provision',
        `--targetdir=${dir}`,
        `--realm=${realm}`,
        `--domain=${netbios}`,
        '--server-role=dc',
        '--dns-backend=SAMBA_INTERNAL',
        `--host-name=${hostName}`,
        `--host-ip=${ip}`,
        `--adminpass=${password}`,
        `--option=interfaces=${ip}/8`,
        '--option=bind interfaces only=yes',
        // LDAP and the KDC are all the tests need; fewer services start faster.
        '--option=server services=ldap, kdc',
        `--option=pid directory=${runDir}`,
        `--option=ncalrpc dir=${path.join(runDir, 'ncalrpc')}`,
        `--option=ntp signd socket directory=${path.join(runDir, 'ntp')}`,
        `--option=winbindd socket directory=${path.join(runDir, 'winbindd')}`,
        `--option=lock directory=${path.join(dir, 'lock')}`,
        `--option=state directory=${path.join(dir, 'state')}`,
        `--option=cache directory=${path.join(dir, 'cache')}`,
        `--option=log file=${logFile}`,
      ],
      { env },
    );
    const provisionMs = Date.now() - t0;

    const smbConf = path.join(dir, 'etc', 'smb.conf');
    // Provision keeps `-dns` style lists only as given; make sure nothing else is started.
    writeFileSync(smbConf, readFileSync(smbConf, 'utf8').replace(/^\s*server services = .*$/m, '\tserver services = ldap, kdc'));
    const tlsDir = path.join(dir, 'private', 'tls');
    // Samba would generate a certificate naming only DC1.<realm>; ours also names the IP,
    // so `ldaps://127.x.y.z` verifies against the CA exactly as a real DC's name would.
    makeCertificates(tlsDir, fqdn, ip);
    const krb5Conf = path.join(dir, 'krb5.conf');
    writeFileSync(
      krb5Conf,
      [
        '[libdefaults]',
        `  default_realm = ${realm}`,
        '  dns_lookup_realm = false',
        '  dns_lookup_kdc = false',
        '  rdns = false',
        '[realms]',
        `  ${realm} = {`,
        `    kdc = ${ip}`,
        `    admin_server = ${ip}`,
        `    kpasswd_server = ${ip}`,
        '  }',
        '[domain_realm]',
        `  .${dnsDomain} = ${realm}`,
        `  ${dnsDomain} = ${realm}`,
        '',
      ].join('\n'),
    );

    const startChild = async () => {
      // --interactive with stdin a pipe: Samba exits when the pipe closes, so a test worker
      // that dies (even by SIGKILL) takes its DC with it. It then logs to stdout: the log file.
      const out = openSync(logFile, 'a');
      const p = spawn(SAMBA, ['-s', smbConf, '--interactive', '--no-process-group', '-M', 'single'], { env, stdio: ['pipe', out, out] });
      closeSync(out);
      live.add(p);
      p.once('exit', () => live.delete(p));
      child = p;
      await waitForLdap(ip, p, logFile);
    };
    const stopChild = async () => {
      const p = child;
      child = null;
      if (!p || p.exitCode !== null || p.signalCode !== null) return;
      const exited = new Promise<void>((resolve) => p.once('exit', () => resolve()));
      p.kill('SIGTERM');
      const timer = setTimeout(() => p.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(timer);
    };

    const t1 = Date.now();
    await startChild();
    const firstStartMs = Date.now() - t1;

    const bindDn = `CN=Administrator,CN=Users,${baseDn}`;
    const caFile = path.join(tlsDir, 'ca.pem');
    const admin = async () => {
      const c = new Client({ url: `ldaps://${ip}`, tlsOptions: { ca: [readFileSync(caFile)] }, connectTimeout: 3000, timeout: 10_000 });
      await c.bind(bindDn, password);
      return c;
    };
    const withAdmin = async <T>(fn: (c: Client) => Promise<T>): Promise<T> => {
      const c = await admin();
      try {
        return await fn(c);
      } finally {
        await c.unbind().catch(() => undefined);
      }
    };

    const dc: SambaDc = {
      ip,
      url: `ldap://${ip}`,
      ldapsUrl: `ldaps://${ip}`,
      caFile,
      bindDn,
      password,
      baseDn,
      realm,
      netbios,
      hostName,
      dir,
      kdc: { host: ip, port: 88, realm, krb5Conf },
      timings: { provisionMs, firstStartMs },
      admin,
      async add(entries) {
        await withAdmin(async (c) => {
          for (const e of entries) {
            try {
              await c.add(e.dn, asAttributes(e.attributes));
            } catch (err) {
              throw new Error(`adding ${e.dn}: ${(err as Error).message}`);
            }
          }
        });
      },
      async addUser(u) {
        const dn = `CN=${u.cn},${u.ou ?? `CN=Users,${baseDn}`}`;
        await dc.add([
          {
            dn,
            attributes: {
              objectClass: 'user',
              sAMAccountName: u.sam,
              ...(u.upn ? { userPrincipalName: u.upn } : {}),
              ...(u.attributes ?? {}),
              unicodePwd: unicodePwd(u.password ?? 'User-Passw0rd!'),
              // NORMAL_ACCOUNT | DONT_EXPIRE_PASSWORD: an enabled account that can bind.
              userAccountControl: String(0x200 | 0x10000),
            },
          },
        ]);
        return dn;
      },
      async modify(dn, changes) {
        await withAdmin((c) =>
          c.modify(
            dn,
            changes.map((ch) => new Change({ operation: ch.operation, modification: new Attribute({ type: ch.type, values: ch.values as string[] }) })),
          ),
        );
      },
      running: () => child !== null && (child).exitCode === null,
      async stop() {
        await stopChild();
      },
      async start() {
        if (destroyed) throw new Error('this domain controller was destroyed');
        if (dc.running()) return;
        await startChild();
      },
      async destroy() {
        if (destroyed) return;
        destroyed = true;
        await stopChild();
        rmSync(dir, { recursive: true, force: true });
      },
      log: () => tail(logFile),
    };

    // Test domains: no complexity rules, passwords never expire.
    await dc.modify(baseDn, [
      { operation: 'replace', type: 'pwdProperties', values: ['0'] },
      { operation: 'replace', type: 'maxPwdAge', values: ['0'] },
      { operation: 'replace', type: 'minPwdAge', values: ['0'] },
    ]);
    return dc;
  } catch (err) {
    destroyed = true;
    const p = child as ChildProcess | null;
    if (p && p.exitCode === null) p.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
}
