import type { Login } from '../login';

export interface DirectoryGroup {
  /** Common name / sAMAccountName, e.g. `Helpdesk Agents`. */
  name: string;
  /** NetBIOS domain of the group when known, e.g. `CORP`. */
  domain?: string;
  /** Distinguished name when the directory has one. */
  dn?: string;
  /** true when membership comes through another group rather than directly. */
  nested?: boolean;
  /** The group's SID (`S-1-5-21-…`), when the directory reports one. */
  sid?: string;
  /** The account's primary group (AD keeps it out of memberOf; usually Domain Users). */
  primary?: boolean;
}

export interface DirectoryPerson {
  dn?: string;
  displayName?: string;
  email?: string;
  department?: string;
  title?: string;
  /** telephoneNumber: the number the service desk calls back on. */
  phone?: string;
  /** `DOMAIN\account`, as Deskside would see the person sign in; set by `search` and `groupMembers`. */
  login?: string;
  /** sAMAccountName and userPrincipalName as the directory has them. */
  account?: string;
  upn?: string;
  /** A disabled account keeps its profile but gets no roles from groups. */
  disabled?: boolean;
  groups: DirectoryGroup[];
  /** Group SIDs in the person's token that the directory could not name (other domains, well-known SIDs). */
  unresolvedSids?: string[];
}

/** How one lookup went, step by step: for the admin page, never for access decisions. */
export interface LookupTrace {
  at: number;
  /** The URL that answered, when one did. */
  server?: string;
  /** The search filter used to find the person, in RFC 4515 form (values escaped). */
  filter?: string;
  /** Milliseconds per step (connect, bind, find person, tokenGroups, resolve groups). */
  steps: { step: string; ms: number }[];
  /** Why the person was not found or the directory could not be asked. */
  note?: string;
}

export interface GroupMembers {
  /** The group as the directory names it. */
  name: string;
  dn?: string;
  /** Sorted by display name; each has `login`. */
  members: DirectoryPerson[];
  /** More than `limit` members: the list stops short. */
  truncated: boolean;
}

/** The connection's state, for /admin/directory. No secrets. */
export interface DirectoryStatus {
  servers: { url: string; lastOkAt?: number; lastError?: string; lastErrorAt?: number }[];
  activeServer?: string;
  baseDn?: string;
  domain?: string;
  dnsDomain?: string;
  tls: string;
  /** While set, lookups fail fast instead of asking again (after a failure). */
  retryAt?: number;
  lastError?: string;
}

/**
 * Checks a person's own password against the directory: the password sign-in form's
 * only way to the directory. `refused` covers a wrong password and a locked or disabled
 * account alike; `unavailable` means no DC could be asked.
 */
export interface PasswordChecker {
  /** The domain's NetBIOS and DNS names, to complete a bare user name typed into the form. */
  domainNames(): Promise<{ netbios: string; dnsDomain: string }>;
  checkPassword(dn: string, password: string): Promise<'ok' | 'refused' | 'unavailable'>;
}

export interface Directory {
  readonly kind: 'static' | 'ldap';
  /** A short description for /healthz and the admin page (no passwords). */
  readonly describe: string;
  /**
   * The person and their groups (nested included), or null when the directory answers
   * that there is no such account. Throws when the directory cannot be asked.
   */
  lookup(login: Login): Promise<DirectoryPerson | null>;
  /**
   * Enabled user accounts whose display name contains, or whose account name, UPN or
   * e-mail address starts with, every word of `query`; at most `limit`, groups not read.
   * The words travel as filter values, never as filter syntax. Throws when the directory
   * cannot be asked.
   */
  search(query: string, limit: number): Promise<DirectoryPerson[]>;
  /**
   * The enabled user accounts in a group, through nested groups too, at most `limit` of
   * them, groups not read; null when the directory has no such group. `group` is a group
   * name (`Network Team`, `CORP\\Network Team`) or distinguished name; it travels as
   * filter values, never as filter syntax. Throws when the directory cannot be asked.
   */
  groupMembers(group: string, limit: number): Promise<GroupMembers | null>;
  /** The trace of the most recent lookup of this login in this process, if any. */
  explain?(login: Login): LookupTrace | undefined;
  status?(): DirectoryStatus;
  /** Present when the directory can check people's passwords (Active Directory can). */
  readonly passwords?: PasswordChecker;
  close(): Promise<void>;
}

export class DirectoryUnavailableError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'DirectoryUnavailableError';
  }
}

/**
 * The words of a people search, lower-cased: at most four, each at most 64 characters; a
 * typed `DOMAIN\account` searches for the account.
 */
export function searchTerms(query: string): string[] {
  return query
    .normalize('NFC')
    .toLowerCase()
    .split(/\s+/)
    .map((w) => w.slice(w.lastIndexOf('\\') + 1).slice(0, 64))
    .filter(Boolean)
    .slice(0, 4);
}
