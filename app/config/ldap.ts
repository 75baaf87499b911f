import { parseLdapUrls } from '../directory/ldap-values';
import { caFileSetting, isSet, type Env, type Values } from './keys';
import { LDAP_KEYS } from './table';

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

/**
 * The DESKSIDE_LDAP_* keys, read by the table. Without DESKSIDE_LDAP_URL the directory is
 * off and every other LDAP key must be unset, so a half-configured directory is an error,
 * not a silent fallback. `valuesOk`: no LDAP key had a bad value.
 */
export function parseLdapConfig(env: Env, v: Values<typeof LDAP_KEYS>, valuesOk: boolean, problems: string[], appRoot: string): LdapConfig | null {
  if (!v.DESKSIDE_LDAP_URL) {
    const stray = Object.keys(LDAP_KEYS).filter((k) => k !== 'DESKSIDE_LDAP_URL' && isSet(env, k));
    if (stray.length) problems.push(`${stray.join(', ')} ${stray.length > 1 ? 'are' : 'is'} set but DESKSIDE_LDAP_URL is not; set it to your domain controllers (ldaps://dc1.corp.example) or remove the LDAP keys`);
    return null;
  }
  const before = problems.length;
  const { urls, problems: urlProblems } = parseLdapUrls(v.DESKSIDE_LDAP_URL);
  for (const p of urlProblems) problems.push(`DESKSIDE_LDAP_URL: ${p}`);

  const bindDn = v.DESKSIDE_LDAP_BIND_DN ?? '';
  const bindPassword = v.DESKSIDE_LDAP_BIND_PASSWORD ?? '';
  if (!bindDn) problems.push('DESKSIDE_LDAP_BIND_DN is required with DESKSIDE_LDAP_URL: the service account to bind as (Active Directory refuses anonymous searches)');
  // The password's value never appears in a message.
  if (!bindPassword) problems.push('DESKSIDE_LDAP_BIND_PASSWORD is required with DESKSIDE_LDAP_URL');

  const caFile = caFileSetting('DESKSIDE_LDAP_CA_FILE', v.DESKSIDE_LDAP_CA_FILE, appRoot, problems);

  const cacheSeconds = v.DESKSIDE_LDAP_CACHE_SECONDS;
  const maxStaleSeconds = v.DESKSIDE_LDAP_MAX_STALE_SECONDS;
  if (maxStaleSeconds < cacheSeconds) {
    problems.push(`DESKSIDE_LDAP_MAX_STALE_SECONDS (${maxStaleSeconds}) must be at least DESKSIDE_LDAP_CACHE_SECONDS (${cacheSeconds})`);
  }

  if (problems.length > before || !valuesOk) return null;
  return {
    urls: urls.map((u) => u.url),
    bindDn,
    bindPassword,
    baseDn: v.DESKSIDE_LDAP_BASE_DN,
    startTls: v.DESKSIDE_LDAP_STARTTLS,
    caFile,
    domain: v.DESKSIDE_LDAP_DOMAIN?.toUpperCase(),
    cacheSeconds,
    maxStaleSeconds,
    connectTimeoutSeconds: v.DESKSIDE_LDAP_CONNECT_TIMEOUT_SECONDS,
    timeoutSeconds: v.DESKSIDE_LDAP_TIMEOUT_SECONDS,
    retrySeconds: v.DESKSIDE_LDAP_RETRY_SECONDS,
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
