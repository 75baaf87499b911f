import { accessSync, constants, statSync } from 'node:fs';
import path from 'node:path';
import type { LdapConfig } from './ldap';
import type { KeyDoc } from './schema';

/** Single sign-on without IIS: Kerberos (Negotiate) and the AD password fallback. */
export interface KerberosConfig {
  /** Absolute path of the keytab holding the service principal's keys. */
  keytab: string;
  /** GSS host-based service name, `HTTP@helpdesk.corp.example`. */
  service: string;
}

export interface PasswordSigninConfig {
  /** Failed passwords per account within the window before password sign-in pauses for it. */
  accountAttempts: number;
  /** Failed passwords per client address within the window. */
  addressAttempts: number;
  windowMinutes: number;
}

export const SSO_KEY_DOCS: KeyDoc[] = [
  { key: 'DESKSIDE_KERBEROS_KEYTAB', default: 'none; required with `negotiate`', description: 'With `negotiate`: the keytab file holding the web service principal\'s keys (made with `ktpass` or `samba-tool domain exportkeytab`; see "Running without IIS"). Readable by the app only.' },
  { key: 'DESKSIDE_KERBEROS_SERVICE', default: 'none; required with `negotiate`', description: 'With `negotiate`: the service the browsers ask tickets for, as `HTTP@host` with the host name people type (`HTTP@helpdesk.corp.example`; its SPN is `HTTP/helpdesk.corp.example`). Checked against the keytab at start.' },
  { key: 'DESKSIDE_PASSWORD_SIGNIN', default: '`false`', description: '`true` adds a user-name-and-password form to the sign-in page for browsers that cannot sign in by themselves; the password is checked by binding to Active Directory as the person. Needs `DESKSIDE_LDAP_URL` over `ldaps://` or StartTLS.' },
  { key: 'DESKSIDE_PASSWORD_ACCOUNT_ATTEMPTS', default: '`5`', description: 'Wrong passwords allowed per account within `DESKSIDE_PASSWORD_WINDOW_MINUTES` before the form pauses for that account (429). Keep it below the domain\'s account lockout threshold, so Deskside can never lock anyone out.' },
  { key: 'DESKSIDE_PASSWORD_ADDRESS_ATTEMPTS', default: '`20`', description: 'Wrong passwords allowed per client address within the window, whatever accounts they name.' },
  { key: 'DESKSIDE_PASSWORD_WINDOW_MINUTES', default: '`15`', description: 'The window those two limits count over (1–1440). Counts are kept in the database, so every process and server shares them.' },
];

type Env = Record<string, string | undefined>;

function whole(env: Env, key: string, fallback: number, min: number, max: number, problems: string[]): number {
  const raw = env[key]?.trim();
  if (raw === undefined || raw === '') return fallback;
  if (!/^\d+$/.test(raw) || Number(raw) < min || Number(raw) > max) {
    problems.push(`${key}="${raw}" must be a whole number from ${min} to ${max}`);
    return fallback;
  }
  return Number(raw);
}

// A GSS host-based service name: service@host, the host a DNS name.
const SERVICE_RE = /^[A-Za-z][A-Za-z0-9_-]{0,31}@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/;

export function parseKerberosConfig(env: Env, problems: string[], opts: { identity: string | undefined; platform: NodeJS.Platform; appRoot: string }): KerberosConfig | null {
  const keytabRaw = env.DESKSIDE_KERBEROS_KEYTAB?.trim() ?? '';
  const serviceRaw = env.DESKSIDE_KERBEROS_SERVICE?.trim() ?? '';
  if (opts.identity !== 'negotiate') {
    const stray = [keytabRaw && 'DESKSIDE_KERBEROS_KEYTAB', serviceRaw && 'DESKSIDE_KERBEROS_SERVICE'].filter(Boolean);
    if (stray.length) problems.push(`${stray.join(' and ')} ${stray.length > 1 ? 'are' : 'is'} set but DESKSIDE_IDENTITY is not negotiate; set DESKSIDE_IDENTITY=negotiate or remove ${stray.length > 1 ? 'them' : 'it'}`);
    return null;
  }
  if (opts.platform === 'win32') {
    problems.push('DESKSIDE_IDENTITY=negotiate is not available on Windows (the kerberos package cannot accept tickets there). On Windows let IIS do the sign-in: enable Windows Authentication on the site and use DESKSIDE_IDENTITY=iisnode');
    return null;
  }
  const before = problems.length;
  let keytab = '';
  if (!keytabRaw) {
    problems.push('DESKSIDE_KERBEROS_KEYTAB is required with DESKSIDE_IDENTITY=negotiate: the keytab file of the HTTP/<host> service principal');
  } else {
    keytab = path.resolve(opts.appRoot, keytabRaw.replace(/^FILE:/, ''));
    try {
      accessSync(keytab, constants.R_OK);
      if (!statSync(keytab).isFile()) problems.push(`DESKSIDE_KERBEROS_KEYTAB="${keytab}" is not a file`);
    } catch (err) {
      problems.push(`DESKSIDE_KERBEROS_KEYTAB="${keytab}" cannot be read (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
    }
  }
  if (!serviceRaw) {
    problems.push('DESKSIDE_KERBEROS_SERVICE is required with DESKSIDE_IDENTITY=negotiate, e.g. HTTP@helpdesk.corp.example (the host name people type)');
  } else if (/^[^@/]+\/[^@]+(@.*)?$/.test(serviceRaw)) {
    const [svc, rest] = serviceRaw.split('/');
    problems.push(`DESKSIDE_KERBEROS_SERVICE="${serviceRaw}" is an SPN; write it as a service name: ${svc}@${rest.split('@')[0]}`);
  } else if (!SERVICE_RE.test(serviceRaw)) {
    problems.push(`DESKSIDE_KERBEROS_SERVICE="${serviceRaw}" is not a service name like HTTP@helpdesk.corp.example`);
  }
  if (problems.length > before) return null;
  const at = serviceRaw.indexOf('@');
  return { keytab, service: `${serviceRaw.slice(0, at)}@${serviceRaw.slice(at + 1).toLowerCase()}` };
}

export function parsePasswordSigninConfig(
  env: Env,
  problems: string[],
  opts: { identity: string | undefined; ldap: LdapConfig | null; ldapKeysSet: boolean },
): PasswordSigninConfig | null {
  const raw = env.DESKSIDE_PASSWORD_SIGNIN?.trim() ?? '';
  let on = false;
  if (/^(true|1|yes|on)$/i.test(raw)) on = true;
  else if (raw !== '' && !/^(false|0|no|off)$/i.test(raw)) problems.push(`DESKSIDE_PASSWORD_SIGNIN="${raw}" is not a boolean; use true or false`);
  const limits = {
    accountAttempts: whole(env, 'DESKSIDE_PASSWORD_ACCOUNT_ATTEMPTS', 5, 1, 100, problems),
    addressAttempts: whole(env, 'DESKSIDE_PASSWORD_ADDRESS_ATTEMPTS', 20, 1, 10_000, problems),
    windowMinutes: whole(env, 'DESKSIDE_PASSWORD_WINDOW_MINUTES', 15, 1, 1440, problems),
  };
  if (!on) return null;
  if (opts.identity === 'dev') {
    problems.push('DESKSIDE_PASSWORD_SIGNIN=true is refused with DESKSIDE_IDENTITY=dev (the demo has its own "act as" picker)');
    return null;
  }
  if (!opts.ldap) {
    // A broken LDAP setting has already been reported; only name the missing directory.
    if (!opts.ldapKeysSet) problems.push('DESKSIDE_PASSWORD_SIGNIN=true needs Active Directory: set DESKSIDE_LDAP_URL (ldaps:// or ldap:// with DESKSIDE_LDAP_STARTTLS=true) and its bind keys');
    return null;
  }
  const plain = opts.ldap.urls.filter((u) => !/^ldaps:/i.test(u));
  if (plain.length && !opts.ldap.startTls) {
    problems.push(`DESKSIDE_PASSWORD_SIGNIN=true refuses to send people's passwords over plain LDAP: ${plain.join(', ')} with DESKSIDE_LDAP_STARTTLS=false. Use ldaps:// in DESKSIDE_LDAP_URL or set DESKSIDE_LDAP_STARTTLS=true`);
    return null;
  }
  return limits;
}
