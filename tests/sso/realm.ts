/**
 * A Kerberos realm for the single sign-on suites, on top of the throwaway Samba DC
 * (tests/support/samba.ts): the directory people of tests/directory/fixtures.ts, a web
 * service account with an `HTTP/<host>` SPN and an AES-only keytab exported as an AD
 * admin would (`msDS-SupportedEncryptionTypes=24`, then `samba-tool domain exportkeytab`),
 * a krb5.conf that never asks DNS, and `kinit` into a private credential cache.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { seedDirectory, SERVICE_PASSWORD } from '../directory/fixtures';
import { startSambaDc, type SambaDc } from '../support/samba';

/** The password seedDirectory gives every person (samba.ts addUser's default). */
export const USER_PASSWORD = 'User-Passw0rd!';

export interface Realm {
  dc: SambaDc;
  /** The web site's host name, as browsers and the SPN know it. */
  host: string;
  /** GSS host-based service name for DESKSIDE_KERBEROS_SERVICE: `HTTP@host`. */
  service: string;
  keytab: string;
  krb5Conf: string;
  /** Bind DN and password of the read-only directory account. */
  svcDn: string;
  svcPassword: string;
  people: Awaited<ReturnType<typeof seedDirectory>>;
  /** A fresh credential cache holding a TGT for `principal` (e.g. `carol`). */
  kinit(user: string, password?: string): string;
  /** Delete the temp folder (caches, keytab, krb5.conf) and the DC. */
  destroy(): Promise<void>;
}

function sh(cmd: string, args: string[], env: NodeJS.ProcessEnv, input?: string): string {
  const r = spawnSync(cmd, args, { env, input, encoding: 'utf8', timeout: 60_000 });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${r.status ?? r.signal}): ${r.stderr || r.stdout}`);
  return r.stdout;
}

export async function startRealm(opts: { host?: string } = {}): Promise<Realm> {
  const dc = await startSambaDc();
  const dir = mkdtempSync(path.join(os.tmpdir(), 'deskside-krb-'));
  try {
    const people = await seedDirectory(dc);
    const dnsDomain = dc.realm.toLowerCase();
    const host = opts.host ?? `helpdesk.${dnsDomain}`;
    // A service account for the web site, as `setspn -S HTTP/host CORP\svc-web` leaves it.
    await dc.addUser({
      cn: 'Deskside Web',
      sam: 'deskside-web',
      password: 'Web-Passw0rd-Keytab-1',
      attributes: { servicePrincipalName: `HTTP/${host}`, 'msDS-SupportedEncryptionTypes': '24' },
    });
    const krb5Conf = path.join(dir, 'krb5.conf');
    writeFileSync(
      krb5Conf,
      [
        '[libdefaults]',
        `  default_realm = ${dc.realm}`,
        '  dns_lookup_realm = false',
        '  dns_lookup_kdc = false',
        '  rdns = false',
        '  dns_canonicalize_hostname = false',
        '  permitted_enctypes = aes256-cts-hmac-sha1-96 aes128-cts-hmac-sha1-96',
        '[realms]',
        `  ${dc.realm} = {`,
        `    kdc = ${dc.ip}`,
        '  }',
        '[domain_realm]',
        `  .${dnsDomain} = ${dc.realm}`,
        `  ${dnsDomain} = ${dc.realm}`,
        '',
      ].join('\n'),
    );
    const keytab = path.join(dir, 'deskside-web.keytab');
    const smbConf = path.join(dc.dir, 'etc', 'smb.conf');
    sh('samba-tool', ['domain', 'exportkeytab', keytab, `--principal=HTTP/${host}`, '-s', smbConf], { ...process.env, KRB5_CONFIG: krb5Conf });
    const env = { ...process.env, KRB5_CONFIG: krb5Conf };
    const listed = sh('klist', ['-k', '-e', keytab], env);
    if (!/aes256-cts/.test(listed) || /arcfour|des-/.test(listed)) throw new Error(`keytab is not AES-only:\n${listed}`);
    let caches = 0;
    return {
      dc,
      host,
      service: `HTTP@${host}`,
      keytab,
      krb5Conf,
      svcDn: people.svc,
      svcPassword: SERVICE_PASSWORD,
      people,
      kinit(user, password = USER_PASSWORD) {
        const cache = path.join(dir, `cc-${user.replace(/[^a-z0-9]/gi, '_')}-${++caches}`);
        sh('kinit', [`${user}@${dc.realm}`], { ...env, KRB5CCNAME: `FILE:${cache}` }, `${password}\n`);
        return `FILE:${cache}`;
      },
      async destroy() {
        rmSync(dir, { recursive: true, force: true });
        await dc.destroy();
      },
    };
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    await dc.destroy();
    throw err;
  }
}

export const SSO_SECRET = 'sso-test-secret-0123456789abcdefghijklmnopq';

/** Settings for the built server: negotiate identity, AD over StartTLS, password sign-in. */
export function desksideEnv(realm: Realm, port: number, extra: Record<string, string> = {}): Record<string, string> {
  return {
    NODE_ENV: 'production',
    PORT: String(port),
    DESKSIDE_HOST: '127.0.0.1',
    DESKSIDE_IDENTITY: 'negotiate',
    DESKSIDE_KERBEROS_KEYTAB: realm.keytab,
    DESKSIDE_KERBEROS_SERVICE: realm.service,
    // As /etc/krb5.conf would on a server; the replay cache kept with the test's files.
    KRB5_CONFIG: realm.krb5Conf,
    KRB5RCACHEDIR: path.dirname(realm.keytab),
    DESKSIDE_SECRET: SSO_SECRET,
    DESKSIDE_AGENTS: 'Helpdesk Agents',
    DESKSIDE_ADMINS: 'TEST\\Deskside Admins',
    DESKSIDE_LDAP_URL: realm.dc.url,
    DESKSIDE_LDAP_STARTTLS: 'true',
    DESKSIDE_LDAP_CA_FILE: realm.dc.caFile,
    DESKSIDE_LDAP_BIND_DN: realm.svcDn,
    DESKSIDE_LDAP_BIND_PASSWORD: realm.svcPassword,
    DESKSIDE_PASSWORD_SIGNIN: 'true',
    DESKSIDE_PASSWORD_ACCOUNT_ATTEMPTS: '3',
    DESKSIDE_PASSWORD_ADDRESS_ATTEMPTS: '50',
    DESKSIDE_LOG_LEVEL: 'info',
    ...extra,
  };
}

export { freePort } from '../support/http-client';
