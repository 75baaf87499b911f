import { accessSync, constants, statSync } from 'node:fs';
import path from 'node:path';
import type { Values } from './keys';
import type { LdapConfig } from './ldap';
import type { SSO_KEYS } from './table';

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

// A GSS host-based service name: service@host, the host a DNS name.
const SERVICE_RE = /^[A-Za-z][A-Za-z0-9_-]{0,31}@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/;

export function parseKerberosConfig(v: Values<typeof SSO_KEYS>, problems: string[], opts: { identity: string | undefined; platform: NodeJS.Platform; appRoot: string }): KerberosConfig | null {
  const keytabRaw = v.DESKSIDE_KERBEROS_KEYTAB ?? '';
  const serviceRaw = v.DESKSIDE_KERBEROS_SERVICE ?? '';
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
  v: Values<typeof SSO_KEYS>,
  problems: string[],
  opts: { identity: string | undefined; ldap: LdapConfig | null; ldapKeysSet: boolean },
): PasswordSigninConfig | null {
  if (!v.DESKSIDE_PASSWORD_SIGNIN) return null;
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
  return { accountAttempts: v.DESKSIDE_PASSWORD_ACCOUNT_ATTEMPTS, addressAttempts: v.DESKSIDE_PASSWORD_ADDRESS_ATTEMPTS, windowMinutes: v.DESKSIDE_PASSWORD_WINDOW_MINUTES };
}
