/**
 * The pure parts of talking to Active Directory: LDAP URLs, filter-value escaping, SIDs,
 * DNs and turning library errors into sentences an administrator can act on.
 */

/** RFC 4515 §3: the characters that may never appear raw in a filter's assertion value. */
export function escapeFilterValue(value: string | Buffer): string {
  if (Buffer.isBuffer(value)) return [...value].map((b) => `\\${b.toString(16).padStart(2, '0')}`).join('');
  let out = '';
  for (const ch of value) {
    switch (ch) {
      case '*':
        out += '\\2a';
        break;
      case '(':
        out += '\\28';
        break;
      case ')':
        out += '\\29';
        break;
      case '\\':
        out += '\\5c';
        break;
      case '\0':
        out += '\\00';
        break;
      default:
        out += ch;
    }
  }
  return out;
}

export interface LdapUrl {
  /** Normalised: `ldaps://host:636` keeps what was written, minus any trailing slash. */
  url: string;
  secure: boolean;
  host: string;
  port: number;
}

/**
 * Parse DESKSIDE_LDAP_URL: one or more `ldap://` / `ldaps://` URLs separated by commas or
 * spaces, tried in order. Returns the URLs or the problems with each.
 */
export function parseLdapUrls(raw: string): { urls: LdapUrl[]; problems: string[] } {
  const urls: LdapUrl[] = [];
  const problems: string[] = [];
  for (const part of raw.split(/[\s,;]+/).filter(Boolean)) {
    // Whatever sits before an @ may be a password: never echo it.
    const shown = part.replace(/^([a-z][a-z0-9+.-]*:\/\/)?[^/@]*@/i, '$1…@');
    let u: URL;
    try {
      u = new URL(part);
    } catch {
      problems.push(`"${shown}" is not a URL; write ldaps://dc1.corp.example or ldap://dc1.corp.example`);
      continue;
    }
    const scheme = u.protocol.toLowerCase();
    if (scheme !== 'ldap:' && scheme !== 'ldaps:') {
      problems.push(`"${shown}" must start with ldap:// or ldaps://`);
      continue;
    }
    if (!u.hostname) {
      problems.push(`"${shown}" names no host`);
      continue;
    }
    if (u.username || u.password) {
      problems.push(`"${shown}" must not carry a user or password; use DESKSIDE_LDAP_BIND_DN and DESKSIDE_LDAP_BIND_PASSWORD`);
      continue;
    }
    if ((u.pathname && u.pathname !== '/') || u.search || u.hash) {
      problems.push(`"${shown}" must be scheme, host and port only; put the search base in DESKSIDE_LDAP_BASE_DN`);
      continue;
    }
    const secure = scheme === 'ldaps:';
    const port = u.port ? Number(u.port) : secure ? 636 : 389;
    urls.push({ url: `${scheme}//${u.host}`, secure, host: u.hostname.replace(/^\[|\]$/g, ''), port });
  }
  if (!urls.length && !problems.length) problems.push('names no URL');
  return { urls, problems };
}

/** A binary SID (objectSid, tokenGroups) as `S-1-5-21-…`. */
export function sidToString(sid: Buffer): string {
  if (sid.length < 8) throw new Error(`a SID needs at least 8 bytes, got ${sid.length}`);
  const revision = sid[0];
  const count = sid[1];
  if (sid.length !== 8 + count * 4) throw new Error(`SID length ${sid.length} does not match its ${count} sub-authorities`);
  const authority = sid.readUIntBE(2, 6);
  const subs: number[] = [];
  for (let i = 0; i < count; i++) subs.push(sid.readUInt32LE(8 + i * 4));
  return ['S', revision, authority, ...subs].join('-');
}

/** `S-1-5-21-…` as the binary form AD stores, for filters on objectSid. */
export function sidToBuffer(sid: string): Buffer {
  const m = /^S-(\d+)-(\d+)((?:-\d+)*)$/i.exec(sid.trim());
  if (!m) throw new Error(`"${sid}" is not a SID`);
  const subs = m[3] ? m[3].slice(1).split('-').map(Number) : [];
  if (subs.length > 15 || subs.some((n) => n > 0xffffffff)) throw new Error(`"${sid}" is not a SID`);
  const buf = Buffer.alloc(8 + subs.length * 4);
  buf[0] = Number(m[1]);
  buf[1] = subs.length;
  buf.writeUIntBE(Number(m[2]), 2, 6);
  subs.forEach((n, i) => buf.writeUInt32LE(n, 8 + i * 4));
  return buf;
}

/** The domain part of a DN: `OU=Staff,DC=corp,DC=example` → `DC=corp,DC=example`. */
export function domainDnOf(dn: string): string {
  return splitDn(dn)
    .filter((rdn) => /^dc=/i.test(rdn))
    .join(',');
}

/** `DC=corp,DC=example` → `corp.example`. */
export function dnsDomainOf(dn: string): string {
  return splitDn(dn)
    .filter((rdn) => /^dc=/i.test(rdn))
    .map((rdn) => rdn.slice(3))
    .join('.')
    .toLowerCase();
}

/** RDNs of a DN, honouring backslash-escaped commas (`CN=Smith\, Jo,OU=…`). */
export function splitDn(dn: string): string[] {
  const out: string[] = [];
  let cur = '';
  for (let i = 0; i < dn.length; i++) {
    const ch = dn[i];
    if (ch === '\\' && i + 1 < dn.length) {
      cur += ch + dn[i + 1];
      i++;
    } else if (ch === ',') {
      out.push(cur.trim());
      cur = '';
    } else cur += ch;
  }
  if (cur.trim()) out.push(cur.trim());
  return out;
}

/**
 * A DN in a form for comparing: attribute names and values lower-cased, spaces around RDNs
 * ignored, escapes decoded, so `CN=Ops \\ Team` and `cn=ops \5C team` are the same DN.
 */
export function canonicalDn(dn: string): string {
  return splitDn(dn)
    .map((rdn) => {
      const eq = rdn.indexOf('=');
      if (eq < 0) return rdn.toLowerCase();
      const attr = rdn.slice(0, eq).trim().toLowerCase();
      const raw = rdn.slice(eq + 1).trim();
      const bytes: number[] = [];
      for (let i = 0; i < raw.length; i++) {
        const ch = raw[i];
        if (ch === '\\' && /^[0-9a-f]{2}$/i.test(raw.slice(i + 1, i + 3))) {
          bytes.push(parseInt(raw.slice(i + 1, i + 3), 16));
          i += 2;
        } else if (ch === '\\' && i + 1 < raw.length) {
          bytes.push(...Buffer.from(raw[i + 1], 'utf8'));
          i += 1;
        } else bytes.push(...Buffer.from(ch, 'utf8'));
      }
      return `${attr}=${encodeURIComponent(Buffer.from(bytes).toString('utf8').toLowerCase())}`;
    })
    .join(',');
}

export function sameDn(a: string, b: string): boolean {
  return canonicalDn(a) === canonicalDn(b);
}

/** AD's `data 52e`-style sub-codes in bind errors, as words. */
const AD_BIND_CODES: Record<string, string> = {
  '525': 'no such account',
  '52e': 'wrong password',
  '530': 'not permitted to log on at this time',
  '531': 'not permitted to log on from this workstation',
  '532': 'password expired',
  '533': 'account disabled',
  '701': 'account expired',
  '773': 'password must be changed',
  '775': 'account locked out',
};

export type LdapErrorKind = 'credentials' | 'tls-required' | 'tls' | 'connect' | 'timeout' | 'closed' | 'other';

/**
 * Classify an error from connect/StartTLS/bind/search and describe it in words that say
 * which setting to look at. Never includes the bind password (the library never has it in
 * messages, and we add nothing of it).
 */
export function describeLdapError(err: unknown): { kind: LdapErrorKind; message: string } {
  const e = err as { name?: string; code?: unknown; message?: string };
  const msg = String(e?.message ?? err).split('\n')[0].slice(0, 300);
  const name = e?.name ?? '';
  if (name === 'InvalidCredentialsError' || e?.code === 49) {
    const sub = /data ([0-9a-f]{3})/i.exec(msg)?.[1]?.toLowerCase();
    const why = sub && AD_BIND_CODES[sub] ? ` (${AD_BIND_CODES[sub]})` : '';
    return { kind: 'credentials', message: `the directory refused the service account's credentials${why}: check DESKSIDE_LDAP_BIND_DN and DESKSIDE_LDAP_BIND_PASSWORD` };
  }
  if (name === 'StrongAuthRequiredError' || name === 'ConfidentialityRequiredError' || e?.code === 8 || e?.code === 13) {
    return { kind: 'tls-required', message: 'the domain controller refuses binds without TLS: set DESKSIDE_LDAP_STARTTLS=true or use an ldaps:// URL' };
  }
  const code = typeof e?.code === 'string' ? e.code : '';
  if (/CERT|SELF_SIGNED|UNABLE_TO_VERIFY|ERR_TLS|ERR_SSL/i.test(code) || /certificate|altnames|TLS|SSL/i.test(msg)) {
    return { kind: 'tls', message: `TLS failed: ${msg} (check DESKSIDE_LDAP_CA_FILE and that the URL names the host on the DC's certificate)` };
  }
  if (/ECONNREFUSED|EHOSTUNREACH|ENETUNREACH|ENOTFOUND|EAI_AGAIN|ECONNRESET/.test(code) || /ECONNREFUSED|ENOTFOUND|EHOSTUNREACH|ENETUNREACH/.test(msg)) {
    return { kind: 'connect', message: `cannot connect: ${msg}` };
  }
  if (/Connection timeout/i.test(msg)) return { kind: 'timeout', message: 'no connection within the connect timeout (DESKSIDE_LDAP_CONNECT_TIMEOUT_SECONDS)' };
  if (/timed out|TimeLimitExceeded/i.test(msg) || name === 'TimeLimitExceededError') {
    return { kind: 'timeout', message: 'no answer within the operation timeout (DESKSIDE_LDAP_TIMEOUT_SECONDS)' };
  }
  if (/Connection closed|Socket error|socket hang up|Socket connection not established/i.test(msg)) return { kind: 'closed', message: `the connection was closed: ${msg}` };
  return { kind: 'other', message: `${name && name !== 'Error' ? `${name}: ` : ''}${msg}` };
}
