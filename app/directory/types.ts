import type { Login } from '../identity/login';

export interface DirectoryGroup {
  /** Common name / sAMAccountName, e.g. `Helpdesk Agents`. */
  name: string;
  /** NetBIOS domain of the group when known, e.g. `CORP`. */
  domain?: string;
  /** Distinguished name when the directory has one. */
  dn?: string;
  /** true when membership comes through another group rather than directly. */
  nested?: boolean;
}

export interface DirectoryPerson {
  dn?: string;
  displayName?: string;
  email?: string;
  department?: string;
  title?: string;
  groups: DirectoryGroup[];
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
  close(): Promise<void>;
}

export class DirectoryUnavailableError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'DirectoryUnavailableError';
  }
}
