import { AndFilter, Client, EqualityFilter, ExtensibleFilter, InvalidDNSyntaxError, NoSuchObjectError, NotFilter, OrFilter, SubstringFilter, type Entry, type Filter } from 'ldapts';
import type { ConnectionOptions } from 'node:tls';
import type { Login } from '../login';
import { describeLdapError, domainDnOf, dnsDomainOf, sameDn, sidToString, type LdapErrorKind } from './ldap-values';
import { withDeadline } from '../deadline';
import {
  DirectoryUnavailableError,
  searchTerms,
  type Directory,
  type DirectoryGroup,
  type DirectoryPerson,
  type DirectoryStatus,
  type GroupMembers,
  type LookupTrace,
  type PasswordChecker,
} from './types';

export interface LdapDirectoryOptions {
  /** Tried in order; the first that connects and binds is used until it fails. */
  urls: string[];
  bindDn: string;
  bindPassword: string;
  /** Where people and groups are searched; default: the DC's defaultNamingContext. */
  baseDn?: string;
  /** Upgrade ldap:// connections with StartTLS before binding. */
  startTls: boolean;
  /** PEM CA certificate(s) to trust for ldaps:// and StartTLS, instead of Node's built-in list. */
  ca?: Buffer;
  /** NetBIOS domain (`CORP`); default: read from CN=Partitions. */
  domain?: string;
  connectTimeoutMs: number;
  timeoutMs: number;
  /** After every server failed, fail fast for this long before asking again. */
  retryAfterMs?: number;
  /** After the directory refused the service account: wait longer, so it is never locked out. */
  credentialRetryAfterMs?: number;
  /** A connection idle this long is replaced before use (AD drops idle ones after 15 minutes). */
  maxIdleMs?: number;
  now?: () => number;
}

// sAMAccountType of ordinary user accounts (not computers, trusts or groups).
const SAM_USER_ACCOUNT = '805306368';
const UAC_ACCOUNTDISABLE = 0x2;
const PERSON_ATTRIBUTES = ['sAMAccountName', 'userPrincipalName', 'displayName', 'mail', 'department', 'title', 'telephoneNumber', 'memberOf', 'primaryGroupID', 'objectSid', 'userAccountControl'];
const SEARCH_ATTRIBUTES = ['sAMAccountName', 'userPrincipalName', 'displayName', 'mail', 'department', 'title', 'telephoneNumber'];
// LDAP_MATCHING_RULE_BIT_AND: (userAccountControl & ACCOUNTDISABLE) != 0.
const BIT_AND = '1.2.840.113556.1.4.803';
/** Most people one search returns, whatever the caller asks. */
const SEARCH_CAP = 50;
const MEMBER_ATTRIBUTES = ['sAMAccountName', 'userPrincipalName', 'displayName', 'mail'];
// LDAP_MATCHING_RULE_IN_CHAIN (transitive membership).
const IN_CHAIN = '1.2.840.113556.1.4.1941';
/** Most members one group lookup returns, whatever the caller asks. */
const GROUP_MEMBER_CAP = 5000;
const SID_BATCH = 100;

interface Session {
  client: Client;
  url: string;
  lastUsed: number;
}

interface DomainFacts {
  baseDn: string;
  domainDn: string;
  netbios: string;
  dnsDomain: string;
}

class Failure extends Error {
  constructor(
    message: string,
    readonly kind: LdapErrorKind,
  ) {
    super(message);
  }
}

function first(v: Entry[string] | undefined): string | undefined {
  if (v === undefined) return undefined;
  const x = Array.isArray(v) ? v[0] : v;
  if (x === undefined) return undefined;
  return Buffer.isBuffer(x) ? x.toString('utf8') : String(x);
}

function all(v: Entry[string] | undefined): (string | Buffer)[] {
  if (v === undefined) return [];
  return (Array.isArray(v) ? v : [v]);
}

function buf(v: Entry[string] | undefined): Buffer | undefined {
  const x = all(v)[0];
  return Buffer.isBuffer(x) ? x : undefined;
}

/**
 * Active Directory over LDAP (ldapts): finds a person by sAMAccountName or
 * userPrincipalName, reads their profile, and their groups, nested included, from the
 * constructed `tokenGroups` attribute (see docs/decisions/ for why).
 *
 * Filters are built as ldapts filter objects, so every value travels as its own BER octet
 * string and can never change the filter's structure; `toString()` renders them with
 * RFC 4515 escaping for traces. (ldapts' string-filter parser decodes `\xx` escapes one
 * byte per character, which would garble non-ASCII names and binary SIDs.)
 *
 * One bound connection is kept and shared by concurrent lookups; it is replaced when it
 * fails or idles. When every server fails, lookups fail fast for `retryAfterMs`; when the
 * service account is refused, for `credentialRetryAfterMs`, so that a wrong password in
 * the settings can never lock the account out however many requests arrive.
 */
export class LdapDirectory implements Directory, PasswordChecker {
  readonly kind = 'ldap' as const;
  readonly describe: string;
  readonly passwords: PasswordChecker = this;
  private session: Session | null = null;
  private connecting: Promise<Session> | null = null;
  private facts: DomainFacts | null = null;
  private retryAt: number | undefined;
  private lastError: string | undefined;
  private closed = false;
  private readonly servers: Map<string, { lastOkAt?: number; lastError?: string; lastErrorAt?: number }>;
  private readonly traces = new Map<string, LookupTrace>();
  private readonly now: () => number;

  constructor(private readonly opts: LdapDirectoryOptions) {
    if (!opts.urls.length) throw new Error('LdapDirectory needs at least one URL');
    this.now = opts.now ?? Date.now;
    this.servers = new Map(opts.urls.map((u) => [u, {}]));
    this.describe = `Active Directory over LDAP (${opts.urls.join(', ')}${opts.baseDn ? `; base ${opts.baseDn}` : ''})`;
  }

  private get tlsLabel(): string {
    const kinds = new Set(this.opts.urls.map((u) => (u.toLowerCase().startsWith('ldaps:') ? 'LDAPS' : this.opts.startTls ? 'StartTLS' : 'none (plain LDAP)')));
    return `${[...kinds].join(' / ')}${this.opts.ca ? ', CA from DESKSIDE_LDAP_CA_FILE' : ''}`;
  }

  status(): DirectoryStatus {
    return {
      servers: [...this.servers].map(([url, s]) => ({ url, ...s })),
      activeServer: this.session?.client.isConnected ? this.session.url : undefined,
      baseDn: this.facts?.baseDn ?? this.opts.baseDn,
      domain: this.facts?.netbios ?? this.opts.domain,
      dnsDomain: this.facts?.dnsDomain,
      tls: this.tlsLabel,
      retryAt: this.retryAt !== undefined && this.retryAt > this.now() ? this.retryAt : undefined,
      lastError: this.lastError,
    };
  }

  explain(login: Login): LookupTrace | undefined {
    return this.traces.get(login.key);
  }

  async lookup(login: Login): Promise<DirectoryPerson | null> {
    const trace: LookupTrace = { at: this.now(), steps: [] };
    this.remember(login, trace);
    return this.run(trace, (session) => this.find(session, login, trace));
  }

  async search(query: string, limit: number): Promise<DirectoryPerson[]> {
    const words = searchTerms(query);
    const size = Math.min(SEARCH_CAP, Math.max(0, Math.floor(limit)));
    if (words.length === 0 || size === 0) return [];
    const trace: LookupTrace = { at: this.now(), steps: [] };
    return this.run(trace, async ({ client }) => {
      const facts = await this.domainFacts(client);
      // Each word must match somewhere; values are BER strings, so `*)(` is just three characters.
      const perWord = words.map(
        (w) =>
          new OrFilter({
            filters: [
              new SubstringFilter({ attribute: 'displayName', any: [w] }),
              new SubstringFilter({ attribute: 'sAMAccountName', initial: w }),
              new SubstringFilter({ attribute: 'userPrincipalName', initial: w }),
              new SubstringFilter({ attribute: 'mail', initial: w }),
            ],
          }),
      );
      const filter = new AndFilter({
        filters: [
          new EqualityFilter({ attribute: 'sAMAccountType', value: SAM_USER_ACCOUNT }),
          new NotFilter({ filter: new ExtensibleFilter({ matchType: 'userAccountControl', rule: BIT_AND, value: String(UAC_ACCOUNTDISABLE) }) }),
          ...perWord,
        ],
      });
      trace.filter = filter.toString();
      // With a size limit the DC returns that many and says "size limit exceeded", which
      // ldapts passes over: the first `size` matches are the answer.
      const { searchEntries } = await this.timed(trace, 'search people', () => client.search(facts.baseDn, { scope: 'sub', filter, attributes: SEARCH_ATTRIBUTES, sizeLimit: size }));
      return searchEntries
        .map((e): DirectoryPerson => {
          const account = first(e.sAMAccountName);
          return {
            dn: e.dn,
            login: account ? `${facts.netbios}\\${account}` : undefined,
            displayName: first(e.displayName),
            email: first(e.mail),
            department: first(e.department),
            title: first(e.title),
            phone: first(e.telephoneNumber),
            account,
            upn: first(e.userPrincipalName),
            groups: [],
          };
        })
        .filter((p) => p.login !== undefined)
        .sort((a, b) => (a.displayName ?? a.login!).localeCompare(b.displayName ?? b.login!))
        .slice(0, size);
    });
  }

  /**
   * One directory operation on the shared connection: fail fast while the last failure's
   * wait lasts, retry once on a fresh connection (a kept one may have been dropped by the
   * DC), and keep each server's health for the admin page.
   */
  private async run<T>(trace: LookupTrace, op: (session: Session) => Promise<T>): Promise<T> {
    if (this.closed) throw new DirectoryUnavailableError('the directory connection is closed');
    const now = this.now();
    if (this.retryAt !== undefined && now < this.retryAt) {
      const wait = Math.ceil((this.retryAt - now) / 1000);
      trace.note = `not asked: the last attempt failed (${this.lastError}); next attempt in ${wait} s`;
      throw new DirectoryUnavailableError(`${this.lastError} (next attempt in ${wait} s)`);
    }
    for (let attempt = 0; ; attempt++) {
      const hadSession = this.session !== null;
      const reuse = this.session?.client.isConnected === true;
      let session: Session;
      try {
        session = await this.timed(trace, reuse ? 'reuse connection' : 'connect and bind', () => this.getSession());
      } catch (err) {
        const f = err instanceof Failure ? err : new Failure(describeLdapError(err).message, describeLdapError(err).kind);
        this.fail(f);
        trace.note = f.message;
        throw new DirectoryUnavailableError(f.message, { cause: err });
      }
      trace.server = session.url;
      try {
        const result = await op(session);
        session.lastUsed = this.now();
        this.succeed(session.url);
        return result;
      } catch (err) {
        const d = describeLdapError(err);
        this.server(session.url).lastError = d.message;
        this.server(session.url).lastErrorAt = this.now();
        this.drop(session);
        if (attempt === 0 && hadSession) continue;
        const message = `${session.url}: ${d.message}`;
        this.fail(new Failure(message, d.kind));
        trace.note = message;
        throw new DirectoryUnavailableError(message, { cause: err });
      }
    }
  }

  async groupMembers(group: string, limit: number): Promise<GroupMembers | null> {
    const size = Math.min(GROUP_MEMBER_CAP, Math.max(0, Math.floor(limit)));
    const trace: LookupTrace = { at: this.now(), steps: [] };
    return this.run(trace, async ({ client }) => {
      const facts = await this.domainFacts(client);
      const found = await this.timed(trace, 'find group', () => this.findGroup(client, facts, group));
      if (!found) return null;
      // LDAP_MATCHING_RULE_IN_CHAIN: members through any depth of nested groups, worked
      // out by the DC. Enabled user accounts only: a disabled one is nobody's team mate.
      const filter = new AndFilter({
        filters: [
          new EqualityFilter({ attribute: 'sAMAccountType', value: SAM_USER_ACCOUNT }),
          new NotFilter({ filter: new ExtensibleFilter({ matchType: 'userAccountControl', rule: BIT_AND, value: String(UAC_ACCOUNTDISABLE) }) }),
          new ExtensibleFilter({ matchType: 'memberOf', rule: IN_CHAIN, value: found.dn }),
        ],
      });
      trace.filter = filter.toString();
      // Paged, since a DC returns at most MaxPageSize (1,000) entries to one unpaged search.
      const { searchEntries } = await this.timed(trace, 'find members', () =>
        client.search(facts.baseDn, { scope: 'sub', filter, attributes: MEMBER_ATTRIBUTES, sizeLimit: size + 1, paged: { pageSize: 500 } }),
      );
      const members = searchEntries
        .map((e): DirectoryPerson => {
          const account = first(e.sAMAccountName);
          return { dn: e.dn, login: account ? `${facts.netbios}\\${account}` : undefined, displayName: first(e.displayName), email: first(e.mail), account, upn: first(e.userPrincipalName), groups: [] };
        })
        .filter((p) => p.login !== undefined)
        .sort((a, b) => (a.displayName ?? a.login!).localeCompare(b.displayName ?? b.login!));
      return { name: found.name, dn: found.dn, members: members.slice(0, size), truncated: members.length > size };
    });
  }

  /** A group by DN, or by its account name or common name in this domain (`CORP\\Name` or `Name`). */
  private async findGroup(client: Client, facts: DomainFacts, group: string): Promise<{ dn: string; name: string } | null> {
    const text = group.trim();
    let base = facts.domainDn;
    let scope: 'base' | 'sub' = 'sub';
    let filter: Filter = new EqualityFilter({ attribute: 'objectCategory', value: 'group' });
    if (/^cn=/i.test(text)) {
      base = text;
      scope = 'base';
    } else {
      const slash = text.indexOf('\\');
      if (slash >= 0 && text.slice(0, slash).toLowerCase() !== facts.netbios.toLowerCase()) return null;
      const name = text.slice(slash + 1);
      filter = new AndFilter({ filters: [filter, new OrFilter({ filters: [new EqualityFilter({ attribute: 'sAMAccountName', value: name }), new EqualityFilter({ attribute: 'cn', value: name })] })] });
    }
    try {
      const { searchEntries } = await client.search(base, { scope, filter, attributes: ['sAMAccountName', 'cn'], sizeLimit: 2 });
      const e = searchEntries[0];
      return e ? { dn: e.dn, name: first(e.sAMAccountName) ?? first(e.cn) ?? e.dn } : null;
    } catch (err) {
      // A DN that is not there is an answer ("no such group"), not an outage.
      if (err instanceof NoSuchObjectError || err instanceof InvalidDNSyntaxError) return null;
      throw err;
    }
  }

  /** The domain's NetBIOS and DNS names (asked once over the service connection, then kept). */
  async domainNames(): Promise<{ netbios: string; dnsDomain: string }> {
    const session = await this.getSession();
    const facts = await this.domainFacts(session.client);
    return { netbios: facts.netbios, dnsDomain: facts.dnsDomain };
  }

  /**
   * Check a person's password by binding as them on a connection of its own: over LDAPS or
   * StartTLS only (config refuses password sign-in otherwise, and this refuses again).
   * Exactly one bind per call: a refused password is never retried on the next DC, since
   * every DC counts it towards the account's lockout. The next DC is tried only when one
   * cannot be reached. An empty password is refused without asking (LDAP would treat it as
   * an anonymous bind and report success).
   */
  async checkPassword(dn: string, password: string): Promise<'ok' | 'refused' | 'unavailable'> {
    if (!password || !dn) return 'refused';
    for (const url of this.opts.urls) {
      const host = new URL(url).hostname.replace(/^\[|\]$/g, '');
      const secure = url.toLowerCase().startsWith('ldaps:');
      if (!secure && !this.opts.startTls) return 'unavailable';
      const client = new Client({ url, connectTimeout: this.opts.connectTimeoutMs, timeout: this.opts.timeoutMs, ...(secure ? { tlsOptions: this.tlsOptions(host) } : {}), strictDN: false });
      try {
        await withDeadline(
          (async () => {
            if (!secure) await client.startTLS(this.tlsOptions(host));
            await client.bind(dn, password);
          })(),
          this.opts.connectTimeoutMs + 2 * this.opts.timeoutMs,
          'Connection timeout (no TLS handshake or bind answer)',
        );
        return 'ok';
      } catch (err) {
        const d = describeLdapError(err);
        if (d.kind === 'credentials') return 'refused';
        // Another DC only when this one could not be reached at all; after a timeout the
        // password may have arrived, so it is not sent again: the person may simply retry.
        if (d.kind !== 'connect' && d.kind !== 'tls') return 'unavailable';
      } finally {
        await release(client);
      }
    }
    return 'unavailable';
  }

  async close(): Promise<void> {
    this.closed = true;
    const s = this.session;
    this.session = null;
    if (s) await release(s.client);
  }

  // ---------------------------------------------------------------- lookups

  private async find(session: Session, login: Login, trace: LookupTrace): Promise<DirectoryPerson | null> {
    const { client } = session;
    const facts = await this.timed(trace, 'read domain facts', () => this.domainFacts(client));

    let filter: Filter;
    if (login.form === 'downlevel') {
      if (login.domain.toLowerCase() !== facts.netbios.toLowerCase()) {
        trace.note = `${login.domain} is not this directory's domain (${facts.netbios}), so ${login.login} cannot be in it`;
        return null;
      }
      filter = new AndFilter({
        filters: [new EqualityFilter({ attribute: 'sAMAccountType', value: SAM_USER_ACCOUNT }), new EqualityFilter({ attribute: 'sAMAccountName', value: login.account })],
      });
    } else {
      const byUpn = new EqualityFilter({ attribute: 'userPrincipalName', value: `${login.account}@${login.domain}` });
      // Accounts without an explicit UPN still sign in as account@dns-domain (the implicit UPN).
      const implicit = login.domain === facts.dnsDomain ? [new EqualityFilter({ attribute: 'sAMAccountName', value: login.account })] : [];
      filter = new AndFilter({
        filters: [new EqualityFilter({ attribute: 'sAMAccountType', value: SAM_USER_ACCOUNT }), implicit.length ? new OrFilter({ filters: [byUpn, ...implicit] }) : byUpn],
      });
    }
    trace.filter = filter.toString();

    const { searchEntries } = await this.timed(trace, 'find person', () =>
      client.search(facts.baseDn, { scope: 'sub', filter, attributes: PERSON_ATTRIBUTES, explicitBufferAttributes: ['objectSid'], sizeLimit: 5 }),
    );
    if (!searchEntries.length) {
      trace.note = `no user account matches under ${facts.baseDn}`;
      return null;
    }
    const upnWanted = `${login.account}@${login.domain}`.toLowerCase();
    const entry = searchEntries.find((e) => (first(e.userPrincipalName) ?? '').toLowerCase() === upnWanted) ?? searchEntries[0];

    const uac = Number(first(entry.userAccountControl) ?? 0);
    const disabled = (uac & UAC_ACCOUNTDISABLE) !== 0;
    const person: DirectoryPerson = {
      dn: entry.dn,
      displayName: first(entry.displayName),
      email: first(entry.mail),
      department: first(entry.department),
      title: first(entry.title),
      phone: first(entry.telephoneNumber),
      account: first(entry.sAMAccountName),
      upn: first(entry.userPrincipalName),
      groups: [],
    };
    if (disabled) {
      person.disabled = true;
      trace.note = 'the account is disabled, so its groups give no roles';
      return person;
    }

    const { searchEntries: tokenEntries } = await this.timed(trace, 'read tokenGroups', () =>
      client.search(entry.dn, { scope: 'base', filter: '(objectClass=*)', attributes: ['tokenGroups'], explicitBufferAttributes: ['tokenGroups'] }),
    );
    const tokenSids = all(tokenEntries[0]?.tokenGroups).filter((v): v is Buffer => Buffer.isBuffer(v));

    const userSid = buf(entry.objectSid);
    const primaryRid = first(entry.primaryGroupID);
    const primarySid = userSid && primaryRid ? `${sidToString(userSid).replace(/-\d+$/, '')}-${primaryRid}` : undefined;
    const direct = all(entry.memberOf).map((d) => String(d));

    const resolved = await this.timed(trace, 'name groups', () => this.resolveSids(client, facts, tokenSids));
    const groups: DirectoryGroup[] = [];
    const unresolved: string[] = [];
    for (const sid of tokenSids) {
      const s = sidToString(sid);
      const g = resolved.get(s);
      if (!g) {
        unresolved.push(s);
        continue;
      }
      const primary = s === primarySid;
      const isDirect = primary || (g.dn !== undefined && direct.some((d) => sameDn(d, g.dn!)));
      groups.push({ ...g, nested: !isDirect, ...(primary ? { primary: true } : {}) });
    }
    groups.sort((a, b) => Number(a.nested) - Number(b.nested) || a.name.localeCompare(b.name));
    person.groups = groups;
    if (unresolved.length) person.unresolvedSids = unresolved;
    return person;
  }

  /** Name the SIDs of a token: one search per batch, OR of objectSid equality filters. */
  private async resolveSids(client: Client, facts: DomainFacts, sids: Buffer[]): Promise<Map<string, DirectoryGroup>> {
    const out = new Map<string, DirectoryGroup>();
    for (let i = 0; i < sids.length; i += SID_BATCH) {
      const batch = sids.slice(i, i + SID_BATCH);
      const filter = new OrFilter({ filters: batch.map((sid) => new EqualityFilter({ attribute: 'objectSid', value: sid })) });
      // From the domain root, not the base DN: groups often live outside the people OU,
      // and the BUILTIN groups sit in CN=Builtin.
      const { searchEntries } = await client.search(facts.domainDn, {
        scope: 'sub',
        filter,
        attributes: ['sAMAccountName', 'cn', 'objectSid'],
        explicitBufferAttributes: ['objectSid'],
      });
      for (const e of searchEntries) {
        const sidBuf = buf(e.objectSid);
        if (!sidBuf) continue;
        const sid = sidToString(sidBuf);
        const name = first(e.sAMAccountName) ?? first(e.cn) ?? sid;
        out.set(sid, { name, domain: sid.startsWith('S-1-5-32-') ? 'BUILTIN' : facts.netbios, dn: e.dn, sid });
      }
    }
    return out;
  }

  /** Base DN, NetBIOS name and DNS name of the domain; read once, then kept. */
  private async domainFacts(client: Client): Promise<DomainFacts> {
    if (this.facts) return this.facts;
    let baseDn = this.opts.baseDn;
    let configNc: string | undefined;
    if (!baseDn || !this.opts.domain) {
      const { searchEntries } = await client.search('', { scope: 'base', filter: '(objectClass=*)', attributes: ['defaultNamingContext', 'configurationNamingContext'] });
      baseDn ??= first(searchEntries[0]?.defaultNamingContext);
      configNc = first(searchEntries[0]?.configurationNamingContext);
      if (!baseDn) throw new Failure('the directory did not say its defaultNamingContext; set DESKSIDE_LDAP_BASE_DN', 'other');
    }
    const domainDn = domainDnOf(baseDn) || baseDn;
    let netbios = this.opts.domain;
    let dnsDomain = dnsDomainOf(domainDn);
    if (!netbios) {
      const partitions = `CN=Partitions,${configNc}`;
      const { searchEntries } = await client.search(partitions, {
        scope: 'one',
        filter: new AndFilter({ filters: [new EqualityFilter({ attribute: 'objectClass', value: 'crossRef' }), new EqualityFilter({ attribute: 'nCName', value: domainDn })] }),
        attributes: ['nETBIOSName', 'dnsRoot'],
      });
      netbios = first(searchEntries[0]?.nETBIOSName);
      if (!netbios) throw new Failure(`cannot read the NetBIOS name of ${domainDn} from ${partitions}; set DESKSIDE_LDAP_DOMAIN`, 'other');
      dnsDomain = (first(searchEntries[0]?.dnsRoot) ?? dnsDomain).toLowerCase();
    }
    this.facts = { baseDn, domainDn, netbios: netbios.toUpperCase(), dnsDomain };
    return this.facts;
  }

  // ---------------------------------------------------------------- connections

  private async getSession(): Promise<Session> {
    const s = this.session;
    if (s && s.client.isConnected && s.client.isBound && this.now() - s.lastUsed < (this.opts.maxIdleMs ?? 300_000)) return s;
    if (s) this.drop(s);
    this.connecting ??= this.connect().finally(() => {
      this.connecting = null;
    });
    return this.connecting;
  }

  /**
   * TLS settings for ldaps:// and StartTLS. `host` matters for StartTLS: ldapts upgrades
   * the existing socket, and without it Node would check the certificate against `localhost`.
   */
  private tlsOptions(host: string): ConnectionOptions {
    const isIp = /^[\d.]+$/.test(host) || host.includes(':');
    return { ...(this.opts.ca ? { ca: [this.opts.ca] } : {}), minVersion: 'TLSv1.2', host, ...(isIp ? {} : { servername: host }) };
  }

  private async connect(): Promise<Session> {
    const problems: string[] = [];
    let kind: LdapErrorKind = 'connect';
    for (const url of this.opts.urls) {
      const host = new URL(url).hostname.replace(/^\[|\]$/g, '');
      const secure = url.toLowerCase().startsWith('ldaps:');
      // Only for ldaps://: ldapts takes any tlsOptions on an ldap:// URL as "speak TLS from
      // the first byte", which a DC's port 389 answers with a reset.
      const client = new Client({ url, connectTimeout: this.opts.connectTimeoutMs, timeout: this.opts.timeoutMs, ...(secure ? { tlsOptions: this.tlsOptions(host) } : {}), strictDN: false });
      try {
        // ldapts times out the TCP connect and each operation, not the StartTLS handshake:
        // one deadline over the whole sequence keeps a half-alive DC from hanging requests.
        await withDeadline(
          (async () => {
            if (this.opts.startTls && !secure) await client.startTLS(this.tlsOptions(host));
            await client.bind(this.opts.bindDn, this.opts.bindPassword);
          })(),
          this.opts.connectTimeoutMs + 2 * this.opts.timeoutMs,
          'Connection timeout (no TLS handshake or bind answer)',
        );
        const session = { client, url, lastUsed: this.now() };
        this.session = session;
        if (this.closed) {
          this.drop(session);
          throw new Failure('the directory connection is closed', 'other');
        }
        return session;
      } catch (err) {
        await release(client);
        if (err instanceof Failure) throw err;
        const d = describeLdapError(err);
        this.server(url).lastError = d.message;
        this.server(url).lastErrorAt = this.now();
        problems.push(`${url}: ${d.message}`);
        kind = d.kind;
        // Every DC checks the same account: asking the next one only adds a bad-password count.
        if (d.kind === 'credentials') break;
      }
    }
    throw new Failure(problems.join('; '), kind);
  }

  private drop(session: Session): void {
    if (this.session === session) this.session = null;
    void release(session.client);
  }

  // ---------------------------------------------------------------- bookkeeping

  private server(url: string) {
    let s = this.servers.get(url);
    if (!s) this.servers.set(url, (s = {}));
    return s;
  }

  private succeed(url: string): void {
    this.server(url).lastOkAt = this.now();
    this.retryAt = undefined;
    this.lastError = undefined;
  }

  private fail(f: Failure): void {
    this.lastError = f.message;
    const wait = f.kind === 'credentials' ? this.opts.credentialRetryAfterMs ?? 60_000 : this.opts.retryAfterMs ?? 5_000;
    this.retryAt = this.now() + wait;
  }

  private remember(login: Login, trace: LookupTrace): void {
    this.traces.delete(login.key);
    this.traces.set(login.key, trace);
    if (this.traces.size > 200) this.traces.delete(this.traces.keys().next().value as string);
  }

  private async timed<T>(trace: LookupTrace, step: string, fn: () => Promise<T>): Promise<T> {
    const t0 = performance.now();
    try {
      return await fn();
    } finally {
      trace.steps.push({ step, ms: Math.round((performance.now() - t0) * 10) / 10 });
    }
  }
}

/**
 * Unbind without waiting on the DC: over a StartTLS-upgraded socket ldapts' unbind only
 * settles when its operation timeout fires, which would hold up shutdown by seconds.
 */
async function release(client: Client): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([client.unbind().catch(() => undefined), new Promise<void>((resolve) => (timer = setTimeout(resolve, 250)))]);
  clearTimeout(timer);
}
