import { readFileSync } from 'node:fs';
import { ldapStartupWarnings, type LdapConfig } from '../config/ldap';
import type { Logger } from '../logging';
import { LdapDirectory } from './ldap';

/** The LDAP directory as the settings describe it; warns at start about risky choices. */
export function ldapDirectoryFromConfig(ldap: LdapConfig, logger?: Logger): LdapDirectory {
  for (const w of ldapStartupWarnings(ldap)) logger?.warn({ event: 'ldap-config' }, w);
  const directory = new LdapDirectory({
    urls: ldap.urls,
    bindDn: ldap.bindDn,
    bindPassword: ldap.bindPassword,
    baseDn: ldap.baseDn,
    startTls: ldap.startTls,
    ca: ldap.caFile ? readFileSync(ldap.caFile) : undefined,
    domain: ldap.domain,
    connectTimeoutMs: ldap.connectTimeoutSeconds * 1000,
    timeoutMs: ldap.timeoutSeconds * 1000,
    retryAfterMs: ldap.retrySeconds * 1000,
    credentialRetryAfterMs: Math.max(60_000, ldap.retrySeconds * 1000),
  });
  logger?.info({ event: 'ldap-config', directory: directory.describe, startTls: ldap.startTls, caFile: ldap.caFile ?? null }, 'directory: Active Directory over LDAP');
  return directory;
}
