import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseConfig } from '../../../app/config/schema';
import { configProblems } from '../../support/config';


describe('single sign-on settings', () => {
  let dir: string;
  let keytab: string;
  let ca: string;
  beforeAll(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'deskside-sso-config-'));
    keytab = path.join(dir, 'web.keytab');
    writeFileSync(keytab, Buffer.from([5, 2]));
    ca = path.join(dir, 'ca.pem');
    writeFileSync(ca, '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n');
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const ldap = (extra: Record<string, string> = {}) => ({
    DESKSIDE_LDAP_URL: 'ldap://dc1.corp.example',
    DESKSIDE_LDAP_BIND_DN: 'svc@corp.example',
    DESKSIDE_LDAP_BIND_PASSWORD: 'x',
    DESKSIDE_LDAP_CA_FILE: ca,
    ...extra,
  });

  test('when negotiate has a keytab and a service, then both are kept and the host is lower-cased', () => {
    const c = parseConfig({ NODE_ENV: 'production', DESKSIDE_IDENTITY: 'negotiate', DESKSIDE_KERBEROS_KEYTAB: keytab, DESKSIDE_KERBEROS_SERVICE: 'HTTP@Helpdesk.Corp.Example' }, 'linux');
    expect(c.identity).toBe('negotiate');
    expect(c.kerberos).toEqual({ keytab, service: 'HTTP@helpdesk.corp.example' });
    expect(c.passwordSignin).toBeNull();
  });

  test('when negotiate misses its keys, then both are named', () => {
    const p = configProblems({ DESKSIDE_IDENTITY: 'negotiate' }).join('\n');
    expect(p).toMatch(/DESKSIDE_KERBEROS_KEYTAB is required with DESKSIDE_IDENTITY=negotiate/);
    expect(p).toMatch(/DESKSIDE_KERBEROS_SERVICE is required with DESKSIDE_IDENTITY=negotiate, e.g. HTTP@helpdesk.corp.example/);
  });

  test('when the keytab cannot be read or the service is written as an SPN, then each is refused with the fix', () => {
    const p = configProblems({ DESKSIDE_IDENTITY: 'negotiate', DESKSIDE_KERBEROS_KEYTAB: path.join(dir, 'missing.keytab'), DESKSIDE_KERBEROS_SERVICE: 'HTTP/helpdesk.corp.example@CORP.EXAMPLE' });
    expect(p).toEqual([expect.stringMatching(/DESKSIDE_KERBEROS_KEYTAB=".*missing.keytab" cannot be read \(ENOENT\)/), expect.stringMatching(/is an SPN; write it as a service name: HTTP@helpdesk.corp.example$/)]);
    expect(configProblems({ DESKSIDE_IDENTITY: 'negotiate', DESKSIDE_KERBEROS_KEYTAB: keytab, DESKSIDE_KERBEROS_SERVICE: 'helpdesk' })).toEqual([expect.stringMatching(/not a service name like HTTP@/)]);
  });

  test('when negotiate is chosen on Windows, then it is refused pointing to IIS', () => {
    expect(configProblems({ DESKSIDE_IDENTITY: 'negotiate', DESKSIDE_KERBEROS_KEYTAB: keytab, DESKSIDE_KERBEROS_SERVICE: 'HTTP@helpdesk.corp.example' }, 'win32')).toEqual([
      expect.stringMatching(/negotiate is not available on Windows.*Windows Authentication.*DESKSIDE_IDENTITY=iisnode/),
    ]);
  });

  test('when Kerberos keys are set for another identity, then they are refused as stray', () => {
    expect(configProblems({ DESKSIDE_IDENTITY: 'proxy', DESKSIDE_TRUSTED_PROXIES: '10.0.0.1', DESKSIDE_KERBEROS_KEYTAB: keytab })).toEqual([
      expect.stringMatching(/DESKSIDE_KERBEROS_KEYTAB is set but DESKSIDE_IDENTITY is not negotiate/),
    ]);
  });

  test('when password sign-in is on with a TLS directory, then its limits are read with their defaults', () => {
    const c = parseConfig({ DESKSIDE_IDENTITY: 'proxy', DESKSIDE_TRUSTED_PROXIES: '10.0.0.1', DESKSIDE_PASSWORD_SIGNIN: 'true', DESKSIDE_PASSWORD_ACCOUNT_ATTEMPTS: '3', ...ldap() }, 'linux');
    expect(c.passwordSignin).toEqual({ accountAttempts: 3, addressAttempts: 20, windowMinutes: 15 });
    expect(parseConfig({ DESKSIDE_IDENTITY: 'proxy', DESKSIDE_TRUSTED_PROXIES: '10.0.0.1', DESKSIDE_PASSWORD_SIGNIN: 'true', ...ldap({ DESKSIDE_LDAP_URL: 'ldaps://dc1.corp.example', DESKSIDE_LDAP_STARTTLS: 'false' }) }).passwordSignin).not.toBeNull();
  });

  test('when password sign-in has no directory or plain LDAP, then start is refused naming the keys', () => {
    expect(configProblems({ DESKSIDE_IDENTITY: 'proxy', DESKSIDE_TRUSTED_PROXIES: '10.0.0.1', DESKSIDE_PASSWORD_SIGNIN: 'true' })).toEqual([expect.stringMatching(/DESKSIDE_PASSWORD_SIGNIN=true needs Active Directory: set DESKSIDE_LDAP_URL/)]);
    expect(configProblems({ DESKSIDE_IDENTITY: 'proxy', DESKSIDE_TRUSTED_PROXIES: '10.0.0.1', DESKSIDE_PASSWORD_SIGNIN: 'true', ...ldap({ DESKSIDE_LDAP_STARTTLS: 'false' }) })).toEqual([
      expect.stringMatching(/refuses to send people's passwords over plain LDAP: ldap:\/\/dc1.corp.example with DESKSIDE_LDAP_STARTTLS=false. Use ldaps:\/\/ in DESKSIDE_LDAP_URL or set DESKSIDE_LDAP_STARTTLS=true/),
    ]);
    expect(configProblems({ DESKSIDE_PASSWORD_SIGNIN: 'true', ...ldap() })).toEqual([expect.stringMatching(/refused with DESKSIDE_IDENTITY=dev/)]);
    expect(configProblems({ DESKSIDE_PASSWORD_SIGNIN: 'maybe', DESKSIDE_PASSWORD_WINDOW_MINUTES: '0' })).toEqual([
      expect.stringMatching(/DESKSIDE_PASSWORD_SIGNIN="maybe" is not a boolean/),
      expect.stringMatching(/DESKSIDE_PASSWORD_WINDOW_MINUTES="0" must be a whole number from 1 to 1440/),
    ]);
  });
});
