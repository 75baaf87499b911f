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
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes, randomInt } from 'node:crypto';
import { closeSync, existsSync, openSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { Attribute, Change, Client } from 'ldapts';
import { describeWithComponent, isCI, makeTestCertificates, run, stopChild, tail, trackChild, which } from './real-components';

export { isCI };

export const SAMBA_INSTALL = 'apt-get install -y samba samba-ad-dc samba-ad-provision winbind krb5-user ldap-utils';

const SAMBA = '/usr/sbin/samba';

/** Why a DC cannot be started here, or null when it can. */
export function sambaUnavailableReason(): string | null {
  if (!which('samba-tool') || !existsSync(SAMBA)) return `samba-tool not found; ${SAMBA_INSTALL}`;
  if (!which('openssl')) return 'openssl not found; apt-get install -y openssl';
  if (typeof process.getuid === 'function' && process.getuid() !== 0) return 'a Samba DC must run as root (it binds ports 88, 389 and 636)';
  return null;
}

/**
 * `describe` for suites that need a DC: runs them when Samba is here; under CI=true a
 * missing Samba is a failing test; elsewhere the suite is skipped with one line.
 */
export function describeWithSamba(name: string, fn: () => void): void {
  describeWithComponent({ key: 'samba', what: 'Samba AD', reason: sambaUnavailableReason() }, name, fn);
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
    // (DIR/private/tls/{ca,cert,key}.pem: where Samba looks for them.)
    makeTestCertificates(tlsDir, { cn: fqdn, dnsNames: [fqdn], ips: [ip] });
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
      const p = trackChild(spawn(SAMBA, ['-s', smbConf, '--interactive', '--no-process-group', '-M', 'single'], { env, stdio: ['pipe', out, out] }));
      closeSync(out);
      child = p;
      await waitForLdap(ip, p, logFile);
    };
    const stopDc = async () => {
      const p = child;
      child = null;
      if (p) await stopChild(p);
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
        await stopDc();
      },
      async start() {
        if (destroyed) throw new Error('this domain controller was destroyed');
        if (dc.running()) return;
        await startChild();
      },
      async destroy() {
        if (destroyed) return;
        destroyed = true;
        await stopDc();
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
