/**
 * Windows logins as IIS and proxies hand them to us: `DOMAIN\user` (down-level) or
 * `user@realm` (UPN). The domain is part of who someone is: CORP\alice and LAB\alice are
 * different people. Comparisons are case-insensitive, as Windows' are.
 */

export type LoginForm = 'downlevel' | 'upn';

export interface Login {
  /** As displayed and stored: `CORP\alice` (domain upper-cased) or `alice@corp.example`. */
  login: string;
  /** NetBIOS domain (down-level) or DNS realm (UPN), as given but upper-cased for NetBIOS. */
  domain: string;
  /** The account part: sAMAccountName for down-level, the part before @ for a UPN. */
  account: string;
  form: LoginForm;
  /** Lower-cased key used for every comparison and database lookup. */
  key: string;
}

// NetBIOS domain names: up to 15 characters, none of \ / : * ? " < > | and no spaces.
const DOMAIN_RE = /^[\p{L}\p{N}][\p{L}\p{N}._-]{0,14}$/u;
// sAMAccountName: up to 20 characters (64 accepted for long pre-Windows-2000 exports);
// Windows forbids " / \ [ ] : ; | = , + * ? < > @ and control characters, and so do we.
// Everything else it allows, parentheses and & included, is accepted: o(brien) is a person.
const ACCOUNT_CHAR = "[\\p{L}\\p{N}._$'()&!#%^{}~`-]";
const ACCOUNT_RE = new RegExp(`^${ACCOUNT_CHAR}(?:(?:${ACCOUNT_CHAR}| ){0,62}${ACCOUNT_CHAR})?$`, 'u');
// UPN user part: the same characters as an account; realm: a DNS name.
const REALM_RE = /^(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/;

export const MAX_LOGIN_LENGTH = 320;

/** Parse a login, or return null when it is not a shape Windows could have produced. */
export function parseLogin(raw: string): Login | null {
  if (typeof raw !== 'string') return null;
  const value = raw.normalize('NFC');
  if (value.length === 0 || value.length > MAX_LOGIN_LENGTH) return null;
  if (value !== value.trim()) return null;
  // Control characters, and path tricks such as `..`, never belong in a login.
  // eslint-disable-next-line no-control-regex -- control characters are exactly what a login must not hold
  if (/[\u0000-\u001f\u007f-\u009f]/.test(value) || value.includes('..')) return null;

  const slash = value.indexOf('\\');
  const at = value.lastIndexOf('@');
  if (slash >= 0) {
    if (value.indexOf('\\', slash + 1) >= 0 || value.includes('@')) return null;
    const domain = value.slice(0, slash);
    const account = value.slice(slash + 1);
    if (!DOMAIN_RE.test(domain) || !ACCOUNT_RE.test(account)) return null;
    const upperDomain = domain.toUpperCase();
    const login = `${upperDomain}\\${account}`;
    return { login, domain: upperDomain, account, form: 'downlevel', key: login.toLowerCase() };
  }
  if (at > 0) {
    const account = value.slice(0, at);
    const realm = value.slice(at + 1);
    if (account.includes('@') || !ACCOUNT_RE.test(account) || !REALM_RE.test(realm)) return null;
    const login = `${account}@${realm.toLowerCase()}`;
    return { login, domain: realm.toLowerCase(), account, form: 'upn', key: login.toLowerCase() };
  }
  return null;
}
