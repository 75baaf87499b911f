import { AndFilter, EqualityFilter, FilterParser } from 'ldapts';
import { canonicalDn, describeLdapError, dnsDomainOf, domainDnOf, escapeFilterValue, parseLdapUrls, sameDn, sidToBuffer, sidToString, splitDn } from '../../../app/directory/ldap-values';
import { matchEntry } from '../../../app/access/roles';

describe('escapeFilterValue (RFC 4515)', () => {
  test('when a value holds * ( ) \\ and NUL, then each becomes its \\xx escape and nothing else changes', () => {
    expect(escapeFilterValue('a*b(c)d\\e\0f')).toBe('a\\2ab\\28c\\29d\\5ce\\00f');
    expect(escapeFilterValue('José Müller')).toBe('José Müller');
  });

  test('when an escaped value is parsed back as a filter, then it is one equality test on the original value', () => {
    const hostile = 'x)(sAMAccountName=*)(|(cn=*';
    const parsed = FilterParser.parseString(`(sAMAccountName=${escapeFilterValue(hostile)})`);
    expect(parsed).toBeInstanceOf(EqualityFilter);
    expect((parsed as EqualityFilter).value).toBe(hostile);
  });

  test('when a filter object carries a hostile value, then its RFC 4515 rendering escapes it and it still parses to one test', () => {
    const f = new AndFilter({ filters: [new EqualityFilter({ attribute: 'sAMAccountType', value: '805306368' }), new EqualityFilter({ attribute: 'sAMAccountName', value: '*)(objectClass=*' })] });
    expect(f.toString()).toBe('(&(sAMAccountType=805306368)(sAMAccountName=\\2a\\29\\28objectClass=\\2a))');
    const back = FilterParser.parseString(f.toString()) as AndFilter;
    expect(back.filters).toHaveLength(2);
  });

  test('when a binary value is escaped, then every byte is written as two hex digits', () => {
    expect(escapeFilterValue(Buffer.from([0x01, 0x05, 0x00, 0xff]))).toBe('\\01\\05\\00\\ff');
  });
});

describe('SIDs', () => {
  const domainSid = 'S-1-5-21-3736032069-1487312139-31689220-513';

  test('when a binary SID is decoded, then it reads as S-revision-authority-subauthorities', () => {
    const bin = Buffer.from('0105000000000005150000004553afde0b95a658048ae301' + '01020000', 'hex');
    expect(sidToString(bin)).toBe(domainSid);
    expect(sidToString(Buffer.from('01020000000000052000000021020000', 'hex'))).toBe('S-1-5-32-545');
  });

  test('when a SID string is encoded and decoded again, then it is unchanged', () => {
    for (const s of [domainSid, 'S-1-5-32-544', 'S-1-1-0', 'S-1-5-18']) expect(sidToString(sidToBuffer(s))).toBe(s);
  });

  test('when the bytes are not a SID, then decoding fails instead of inventing one', () => {
    expect(() => sidToString(Buffer.from([1, 2, 0, 0]))).toThrow(/at least 8 bytes/);
    expect(() => sidToString(Buffer.from('0105000000000005150000', 'hex'))).toThrow(/does not match/);
    expect(() => sidToBuffer('S-1-x')).toThrow(/not a SID/);
  });
});

describe('parseLdapUrls', () => {
  test('when several URLs are given with commas or spaces, then all are kept in order with their ports', () => {
    const { urls, problems } = parseLdapUrls('ldaps://dc1.corp.example, ldap://dc2.corp.example:3389  LDAPS://[::1]:1636/');
    expect(problems).toEqual([]);
    expect(urls).toEqual([
      { url: 'ldaps://dc1.corp.example', secure: true, host: 'dc1.corp.example', port: 636 },
      { url: 'ldap://dc2.corp.example:3389', secure: false, host: 'dc2.corp.example', port: 3389 },
      { url: 'ldaps://[::1]:1636', secure: true, host: '::1', port: 1636 },
    ]);
  });

  test('when a URL has the wrong scheme, credentials, a path or no host, then each is a named problem', () => {
    const { problems } = parseLdapUrls('http://dc1, ldaps://svc:pw@dc1, ldap://dc1/DC=corp, dc1.corp.example');
    expect(problems).toHaveLength(4);
    expect(problems[0]).toMatch(/must start with ldap:\/\/ or ldaps:\/\//);
    expect(problems[1]).toMatch(/must not carry a user or password/);
    expect(problems[1]).not.toContain('pw@');
    expect(problems[2]).toMatch(/DESKSIDE_LDAP_BASE_DN/);
    expect(problems[3]).toMatch(/not a URL/);
  });
});

describe('DNs', () => {
  test('when a DN has escaped commas, then splitting keeps them inside their RDN', () => {
    expect(splitDn('CN=Smith\\, Jo,OU=Staff, DC=corp,DC=example')).toEqual(['CN=Smith\\, Jo', 'OU=Staff', 'DC=corp', 'DC=example']);
    expect(domainDnOf('OU=Staff,DC=corp,DC=example')).toBe('DC=corp,DC=example');
    expect(dnsDomainOf('OU=Staff,DC=Corp,DC=Example')).toBe('corp.example');
  });

  test('when two DNs differ only in case, spacing or escape style, then they are the same DN', () => {
    expect(sameDn('CN=Ops (EMEA) * \\\\ Team,OU=Groups,DC=corp', 'cn=ops (emea) * \\5c team, ou=groups,dc=CORP')).toBe(true);
    expect(sameDn('CN=Équipe,DC=corp', 'CN=\\c3\\89quipe,DC=corp')).toBe(true);
    expect(sameDn('CN=Agents,OU=A,DC=corp', 'CN=Agents,OU=B,DC=corp')).toBe(false);
    expect(canonicalDn('CN=a\\,b,DC=x')).not.toBe(canonicalDn('CN=a,CN=b,DC=x'));
  });

  test('when DESKSIDE_AGENTS names a group by DN in another escape style, then the member matches', () => {
    const subject = { key: 'test\\dan', groups: [{ name: 'Ops EMEA Team', domain: 'TEST', dn: 'CN=Ops (EMEA) * \\\\ Team,OU=Groups,DC=deskside,DC=test' }] };
    expect(matchEntry('CN=Ops (EMEA) * \\5C Team, OU=Groups, DC=deskside, DC=test', subject)).toEqual({ via: 'group', group: 'Ops EMEA Team' });
  });
});

describe('describeLdapError', () => {
  test('when AD refuses the bind with sub-code 52e, then the message names the settings and the reason', () => {
    const err = Object.assign(new Error('80090308: LdapErr: DSID-0C09044E, comment: AcceptSecurityContext error, data 52e, v4563'), { name: 'InvalidCredentialsError', code: 49 });
    expect(describeLdapError(err)).toEqual({ kind: 'credentials', message: expect.stringMatching(/\(wrong password\): check DESKSIDE_LDAP_BIND_DN and DESKSIDE_LDAP_BIND_PASSWORD/) });
  });

  test('when the DC wants TLS, the certificate fails, or nobody answers, then each says what to check', () => {
    expect(describeLdapError(Object.assign(new Error('BindSimple: Transport encryption required.'), { name: 'StrongAuthRequiredError', code: 8 })).message).toMatch(/DESKSIDE_LDAP_STARTTLS=true or use an ldaps:\/\//);
    expect(describeLdapError(Object.assign(new Error('self-signed certificate in certificate chain'), { code: 'SELF_SIGNED_CERT_IN_CHAIN' })).message).toMatch(/DESKSIDE_LDAP_CA_FILE/);
    expect(describeLdapError(Object.assign(new Error('connect ECONNREFUSED 10.0.0.1:636'), { code: 'ECONNREFUSED' })).kind).toBe('connect');
    expect(describeLdapError(new Error('Connection timeout')).kind).toBe('timeout');
    expect(describeLdapError(new Error('SearchRequest: Operation timed out')).message).toMatch(/DESKSIDE_LDAP_TIMEOUT_SECONDS/);
  });
});
