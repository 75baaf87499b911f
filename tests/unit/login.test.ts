import { parseLogin } from '../../app/login';

describe('parseLogin', () => {
  test('when given DOMAIN\\user, then the domain is kept (upper-cased) and the key is lower-cased', () => {
    expect(parseLogin('corp\\Alice')).toEqual({ login: 'CORP\\Alice', domain: 'CORP', account: 'Alice', form: 'downlevel', key: 'corp\\alice' });
  });

  test('when given user@realm, then it is a UPN with the realm lower-cased', () => {
    expect(parseLogin('Alice@Corp.Example.COM')).toEqual({ login: 'Alice@corp.example.com', domain: 'corp.example.com', account: 'Alice', form: 'upn', key: 'alice@corp.example.com' });
  });

  test('when the same account is in two domains, then they are different people', () => {
    expect(parseLogin('CORP\\alice')!.key).not.toBe(parseLogin('LAB\\alice')!.key);
    expect(parseLogin('CORP\\alice')!.key).toBe(parseLogin('corp\\ALICE')!.key);
  });

  test('when the account has accents, a dollar, an apostrophe or a hyphen, then it is accepted', () => {
    for (const ok of ['CORP\\o(brien)', 'CORP\\josé.garcía', 'CORP\\svc-helpdesk$', "CORP\\o'brien", 'CORP\\a_b-c.d', 'Ünïcode@corp.example']) {
      expect(parseLogin(ok)).not.toBeNull();
    }
  });

  test.each([
    ['empty', ''],
    ['no domain', 'alice'],
    ['leading space', ' CORP\\alice'],
    ['trailing space', 'CORP\\alice '],
    ['two separators', 'CORP\\sub\\alice'],
    ['both forms', 'CORP\\alice@corp.example'],
    ['dot-dot', 'CORP\\..'],
    ['dot-dot in realm', 'alice@corp..example'],
    ['control char', 'CORP\\al\u0000ice'],
    ['newline', 'CORP\\alice\nCORP\\erin'],
    ['forbidden *', 'CORP\\ali*'],
    ['forbidden =', 'CORP\\ali=ce'],
    ['forbidden [', 'CORP\\ali[0]'],
    ['forbidden "', 'CORP\\"alice"'],
    ['domain too long', 'ABCDEFGHIJKLMNOPQ\\alice'],
    ['account too long', `CORP\\${'a'.repeat(65)}`],
    ['oversized', `${'a'.repeat(300)}@${'b'.repeat(30)}.example`],
    ['bad realm', 'alice@-corp.example'],
    ['empty account', 'CORP\\'],
    ['empty domain', '\\alice'],
  ])('when the value is %s, then it is refused', (_what, value) => {
    expect(parseLogin(value)).toBeNull();
  });
});
