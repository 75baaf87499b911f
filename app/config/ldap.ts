import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parseLdapUrls } from '../directory/ldap-values';
import type { KeyDoc } from './schema';

/** Active Directory settings; null in Config when DESKSIDE_LDAP_URL is not set. */
export interface LdapConfig {
  urls: string[];
  bindDn: string;
  bindPassword: string;
  baseDn: string | undefined;
  startTls: boolean;
  caFile: string | undefined;
  domain: string | undefined;
  cacheSeconds: number;
  maxStaleSeconds: number;
  connectTimeoutSeconds: number;
  timeoutSeconds: number;
  retrySeconds: number;
}

export const LDAP_KEY_DOCS: KeyDoc[] = [
  { key: 'DESKSIDE_LDAP_URL', default: 'none: directory off, roles from logins in `DESKSIDE_AGENTS`/`DESKSIDE_ADMINS` only', description: 'Active Directory domain controllers, e.g. `ldaps://dc1.corp.example, ldaps://dc2.corp.example`: tried in order, the next when one cannot be reached. Name each DC as its TLS certificate does.' },
  { key: 'DESKSIDE_LDAP_BIND_DN', default: 'none; required with `DESKSIDE_LDAP_URL`', description: 'The read-only service account Deskside binds as: a DN, `svc-deskside@corp.example` or `CORP\\svc-deskside`. A plain domain user is enough.' },
  { key: 'DESKSIDE_LDAP_BIND_PASSWORD', default: 'none; required with `DESKSIDE_LDAP_URL`', description: 'That account\'s password. Never logged or shown.' },
  { key: 'DESKSIDE_LDAP_BASE_DN', default: 'the domain (the DC\'s `defaultNamingContext`)', description: 'Where people are searched, e.g. `DC=corp,DC=example` or `OU=Staff,DC=corp,DC=example`. Groups are named from the whole domain.' },
  { key: 'DESKSIDE_LDAP_STARTTLS', default: '`true`', description: 'Upgrade `ldap://` connections with StartTLS before binding (domain controllers refuse passwords over plain LDAP). `ldaps://` URLs are TLS already.' },
  { key: 'DESKSIDE_LDAP_CA_FILE', default: 'Node\'s built-in public CAs (not the Windows store)', description: 'PEM file with the CA that issued the DCs\' certificates (your enterprise CA), for `ldaps://` and StartTLS.' },
  { key: 'DESKSIDE_LDAP_DOMAIN', default: 'read from the DC (`CN=Partitions`)', description: 'The NetBIOS domain name (`CORP`) that `CORP\\user` logins and `CORP\\Group` entries use.' },
  { key: 'DESKSIDE_LDAP_CACHE_SECONDS', default: '`300`', description: 'How long a person\'s profile and groups are reused before the directory is asked again (per process).' },
  { key: 'DESKSIDE_LDAP_MAX_STALE_SECONDS', default: '`86400`', description: 'While the directory cannot be reached, last known roles are used for up to this long; after that, requester only.' },
  { key: 'DESKSIDE_LDAP_CONNECT_TIMEOUT_SECONDS', default: '`3`', description: 'Give up connecting to one DC (TCP, TLS and bind) after this long and try the next.' },
  { key: 'DESKSIDE_LDAP_TIMEOUT_SECONDS', default: '`5`', description: 'Give up on one directory operation after this long.' },
  { key: 'DESKSIDE_LDAP_RETRY_SECONDS', default: '`10`', description: 'After every DC failed, answer from the cache without asking again for this long (at least 60 s after a refused password, so the service account is never locked out).' },
];

type Env = Record<string, string | undefined>;

function seconds(env: Env, key: string, fallback: number, min: number, max: number, problems: string[]): number {
  const raw = env[key]?.trim();
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!/^\d+(\.\d+)?$/.test(raw) || !Number.isFinite(n) || n < min || n > max) {
    problems.push(`${key}="${raw}" must be a number of seconds from ${min} to ${max}`);
    return fallback;
  }
  return n;
}

/**
 * The DESKSIDE_LDAP_* keys. Without DESKSIDE_LDAP_URL the directory is off and every other
 * LDAP key must be unset, so a half-configured directory is an error, not a silent fallback.
 */
export function parseLdapConfig(env: Env, problems: string[], appRoot: string): LdapConfig | null {
  const set = (k: string) => (env[k]?.trim() ?? '') !== '';
  const urlRaw = env.DESKSIDE_LDAP_URL?.trim();
  if (!urlRaw) {
    const stray = LDAP_KEY_DOCS.map((d) => d.key).filter((k) => k !== 'DESKSIDE_LDAP_URL' && set(k));
    if (stray.length) problems.push(`${stray.join(', ')} ${stray.length > 1 ? 'are' : 'is'} set but DESKSIDE_LDAP_URL is not; set it to your domain controllers (ldaps://dc1.corp.example) or remove the LDAP keys`);
    return null;
  }
  const before = problems.length;
  const { urls, problems: urlProblems } = parseLdapUrls(urlRaw);
  for (const p of urlProblems) problems.push(`DESKSIDE_LDAP_URL: ${p}`);

  const bindDn = env.DESKSIDE_LDAP_BIND_DN?.trim() ?? '';
  const bindPassword = env.DESKSIDE_LDAP_BIND_PASSWORD ?? '';
  if (!bindDn) problems.push('DESKSIDE_LDAP_BIND_DN is required with DESKSIDE_LDAP_URL: the service account to bind as (Active Directory refuses anonymous searches)');
  // The password's value never appears in a message.
  if (!bindPassword) problems.push('DESKSIDE_LDAP_BIND_PASSWORD is required with DESKSIDE_LDAP_URL');

  const baseDn = env.DESKSIDE_LDAP_BASE_DN?.trim() || undefined;
  if (baseDn !== undefined && !/^\s*(cn|ou|dc|o)=[^,]+(,\s*[a-z]+=[^,]*)*$/i.test(baseDn.replace(/\\,/g, ''))) {
    problems.push(`DESKSIDE_LDAP_BASE_DN="${baseDn}" is not a DN; write it like DC=corp,DC=example or OU=Staff,DC=corp,DC=example`);
  }

  let startTls = true;
  const stRaw = env.DESKSIDE_LDAP_STARTTLS?.trim();
  if (stRaw) {
    if (/^(true|1|yes|on)$/i.test(stRaw)) startTls = true;
    else if (/^(false|0|no|off)$/i.test(stRaw)) startTls = false;
    else problems.push(`DESKSIDE_LDAP_STARTTLS="${stRaw}" is not a boolean; use true or false`);
  }

  let caFile = env.DESKSIDE_LDAP_CA_FILE?.trim() || undefined;
  if (caFile !== undefined) {
    caFile = path.resolve(appRoot, caFile);
    try {
      const pem = readFileSync(caFile, 'utf8');
      if (!pem.includes('-----BEGIN CERTIFICATE-----')) problems.push(`DESKSIDE_LDAP_CA_FILE="${caFile}" holds no PEM certificate (-----BEGIN CERTIFICATE-----); export the CA as Base-64 X.509`);
    } catch (err) {
      problems.push(`DESKSIDE_LDAP_CA_FILE="${caFile}" cannot be read (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
    }
  }

  const domain = env.DESKSIDE_LDAP_DOMAIN?.trim() || undefined;
  if (domain !== undefined && !/^[\p{L}\p{N}][\p{L}\p{N}._-]{0,14}$/u.test(domain)) {
    problems.push(`DESKSIDE_LDAP_DOMAIN="${domain}" is not a NetBIOS domain name (up to 15 letters, digits, . _ -), e.g. CORP`);
  }

  const cacheSeconds = seconds(env, 'DESKSIDE_LDAP_CACHE_SECONDS', 300, 0, 86_400, problems);
  const maxStaleSeconds = seconds(env, 'DESKSIDE_LDAP_MAX_STALE_SECONDS', 86_400, 0, 30 * 86_400, problems);
  const connectTimeoutSeconds = seconds(env, 'DESKSIDE_LDAP_CONNECT_TIMEOUT_SECONDS', 3, 0.1, 60, problems);
  const timeoutSeconds = seconds(env, 'DESKSIDE_LDAP_TIMEOUT_SECONDS', 5, 0.1, 120, problems);
  const retrySeconds = seconds(env, 'DESKSIDE_LDAP_RETRY_SECONDS', 10, 0, 3600, problems);
  if (maxStaleSeconds < cacheSeconds) {
    problems.push(`DESKSIDE_LDAP_MAX_STALE_SECONDS (${maxStaleSeconds}) must be at least DESKSIDE_LDAP_CACHE_SECONDS (${cacheSeconds})`);
  }

  if (problems.length > before) return null;
  return {
    urls: urls.map((u) => u.url),
    bindDn,
    bindPassword,
    baseDn,
    startTls,
    caFile,
    domain: domain?.toUpperCase(),
    cacheSeconds,
    maxStaleSeconds,
    connectTimeoutSeconds,
    timeoutSeconds,
    retrySeconds,
  };
}

/** Things worth a warning at start, not an error. */
export function ldapStartupWarnings(ldap: LdapConfig): string[] {
  const out: string[] = [];
  if (!ldap.startTls && ldap.urls.some((u) => u.startsWith('ldap:'))) {
    out.push('DESKSIDE_LDAP_STARTTLS=false with an ldap:// URL: the service account password crosses the network in clear text, and most domain controllers refuse it. Use ldaps:// or StartTLS.');
  }
  return out;
}

/**
 * Entries of DESKSIDE_AGENTS/ADMINS: separated by `;`, new lines or commas, but a DN's own
 * commas (`CN=Helpdesk Agents,OU=Groups,DC=corp,DC=example`) keep the DN whole. A DN ends
 * with its DC= parts, so `CN=…` or `OU=…` after a `DC=` starts the next entry.
 */
export function splitRoleEntries(value: string | undefined): string[] {
  if (!value) return [];
  const out: string[] = [];
  for (const chunk of value.split(/[;\n]/)) {
    const parts = chunk.split(/(?<!\\),/).map((s) => s.trim());
    let dn: string | null = null;
    const flush = () => {
      if (dn !== null) out.push(dn);
      dn = null;
    };
    for (const part of parts) {
      const rdn = /^([a-z]+)\s*=/i.exec(part)?.[1]?.toLowerCase();
      if (rdn && dn !== null && (rdn === 'dc' || !/(^|,)\s*dc=[^,]*$/i.test(dn))) {
        dn = `${dn},${part}`;
      } else if (rdn && ['cn', 'ou', 'dc', 'o'].includes(rdn)) {
        flush();
        dn = part;
      } else {
        flush();
        if (part) out.push(part);
      }
    }
    flush();
  }
  return out.filter((s) => s.length > 0);
}
