import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { splitRoleEntries } from '../../../app/config/role-entries';
import { parseConfig } from '../../../app/config/schema';
import { configProblems } from '../../support/config';


const BASE = { DESKSIDE_LDAP_URL: 'ldaps://dc1.corp.example', DESKSIDE_LDAP_BIND_DN: 'CN=svc-deskside,OU=Service,DC=corp,DC=example', DESKSIDE_LDAP_BIND_PASSWORD: 'S3cret!pass' };

describe('LDAP settings', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'deskside-ldapcfg-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  test('when DESKSIDE_LDAP_URL is not set, then the directory is off', () => {
    expect(parseConfig({}).ldap).toBeNull();
  });

  test('when only the URL and service account are set, then the documented defaults apply', () => {
    expect(parseConfig(BASE).ldap).toEqual({
      urls: ['ldaps://dc1.corp.example'],
      bindDn: BASE.DESKSIDE_LDAP_BIND_DN,
      bindPassword: 'S3cret!pass',
      baseDn: undefined,
      startTls: true,
      caFile: undefined,
      domain: undefined,
      cacheSeconds: 300,
      maxStaleSeconds: 86400,
      connectTimeoutSeconds: 3,
      timeoutSeconds: 5,
      retrySeconds: 10,
    });
  });

  test('when several URLs are listed, then they are kept in failover order', () => {
    expect(parseConfig({ ...BASE, DESKSIDE_LDAP_URL: 'ldap://dc2.corp.example ldaps://dc1.corp.example:636' }).ldap!.urls).toEqual(['ldap://dc2.corp.example', 'ldaps://dc1.corp.example:636']);
  });

  test('when the service account is missing, then both keys are named and the password never appears', () => {
    const problems = configProblems({ DESKSIDE_LDAP_URL: 'ldaps://dc1', DESKSIDE_LDAP_BIND_PASSWORD: '' });
    expect(problems.join('\n')).toMatch(/DESKSIDE_LDAP_BIND_DN is required/);
    expect(problems.join('\n')).toMatch(/DESKSIDE_LDAP_BIND_PASSWORD is required/);
  });

  test('when any LDAP key is wrong, then every problem is listed with the key and the password is never printed', () => {
    const problems = configProblems({
      ...BASE,
      DESKSIDE_LDAP_URL: 'https://dc1.corp.example',
      DESKSIDE_LDAP_BASE_DN: 'corp.example',
      DESKSIDE_LDAP_STARTTLS: 'sometimes',
      DESKSIDE_LDAP_CA_FILE: path.join(dir, 'missing.pem'),
      DESKSIDE_LDAP_DOMAIN: 'CORP\\X',
      DESKSIDE_LDAP_CACHE_SECONDS: 'ten',
      DESKSIDE_LDAP_MAX_STALE_SECONDS: '-1',
      DESKSIDE_LDAP_TIMEOUT_SECONDS: '0',
    });
    const all = problems.join('\n');
    for (const key of ['DESKSIDE_LDAP_URL', 'DESKSIDE_LDAP_BASE_DN', 'DESKSIDE_LDAP_STARTTLS', 'DESKSIDE_LDAP_CA_FILE', 'DESKSIDE_LDAP_DOMAIN', 'DESKSIDE_LDAP_CACHE_SECONDS', 'DESKSIDE_LDAP_MAX_STALE_SECONDS', 'DESKSIDE_LDAP_TIMEOUT_SECONDS']) {
      expect({ key, named: all.includes(key) }).toEqual({ key, named: true });
    }
    expect(all).toMatch(/cannot be read \(ENOENT\)/);
    expect(all).not.toContain('S3cret');
  });

  test('when the CA file is not PEM, then startup says how to export it', () => {
    const file = path.join(dir, 'ca.cer');
    writeFileSync(file, Buffer.from([0x30, 0x82, 0x01, 0x0a]));
    expect(configProblems({ ...BASE, DESKSIDE_LDAP_CA_FILE: file }).join()).toMatch(/holds no PEM certificate .*Base-64/);
    const pem = path.join(dir, 'ca.pem');
    writeFileSync(pem, '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n');
    expect(parseConfig({ ...BASE, DESKSIDE_LDAP_CA_FILE: pem }).ldap!.caFile).toBe(pem);
  });

  test('when LDAP keys are set without a URL, then startup refuses instead of silently running without a directory', () => {
    expect(configProblems({ DESKSIDE_LDAP_BIND_DN: 'x', DESKSIDE_LDAP_BIND_PASSWORD: 'hunter2' })).toEqual([
      expect.stringMatching(/^DESKSIDE_LDAP_BIND_DN, DESKSIDE_LDAP_BIND_PASSWORD are set but DESKSIDE_LDAP_URL is not/),
    ]);
  });

  test('when the LDAP keys are present but empty (as an install script may write them), then the directory is simply off', () => {
    expect(parseConfig({ DESKSIDE_LDAP_URL: '', DESKSIDE_LDAP_BIND_DN: '', DESKSIDE_LDAP_BIND_PASSWORD: '', DESKSIDE_LDAP_CA_FILE: '' }).ldap).toBeNull();
  });

  test('when max-stale is shorter than the cache lifetime, then it is refused', () => {
    expect(configProblems({ ...BASE, DESKSIDE_LDAP_CACHE_SECONDS: '600', DESKSIDE_LDAP_MAX_STALE_SECONDS: '60' }).join()).toMatch(/MAX_STALE_SECONDS \(60\) must be at least DESKSIDE_LDAP_CACHE_SECONDS \(600\)/);
  });

  test('when fractional seconds are given, then they are accepted (tests use short lifetimes)', () => {
    expect(parseConfig({ ...BASE, DESKSIDE_LDAP_CACHE_SECONDS: '0.5', DESKSIDE_LDAP_MAX_STALE_SECONDS: '2.5' }).ldap).toMatchObject({ cacheSeconds: 0.5, maxStaleSeconds: 2.5 });
  });
});

describe('DESKSIDE_AGENTS / DESKSIDE_ADMINS entries', () => {
  test('when entries mix logins, group names and DNs, then each DN stays whole', () => {
    expect(splitRoleEntries('CORP\\alice, Helpdesk Agents, CN=Service Desk,OU=Groups,DC=corp,DC=example, CORP\\Deskside Admins')).toEqual([
      'CORP\\alice',
      'Helpdesk Agents',
      'CN=Service Desk,OU=Groups,DC=corp,DC=example',
      'CORP\\Deskside Admins',
    ]);
  });

  test('when two DNs follow each other, then the second starts after the first one\'s DC= parts', () => {
    expect(splitRoleEntries('CN=A,OU=G,DC=corp,DC=example,CN=B,DC=corp,DC=example')).toEqual(['CN=A,OU=G,DC=corp,DC=example', 'CN=B,DC=corp,DC=example']);
    expect(splitRoleEntries('CN=A,DC=corp; CN=B,DC=corp\nbob@corp.example')).toEqual(['CN=A,DC=corp', 'CN=B,DC=corp', 'bob@corp.example']);
  });

  test('when a DN value holds an escaped comma, then it is not split there', () => {
    expect(splitRoleEntries('CN=Smith\\, Jo Team,DC=corp')).toEqual(['CN=Smith\\, Jo Team,DC=corp']);
    expect(parseConfig({ DESKSIDE_AGENTS: 'CN=Agents,OU=Groups,DC=corp,DC=example' }).agents).toEqual(['CN=Agents,OU=Groups,DC=corp,DC=example']);
  });
});
