import type { Response } from 'express';
import type { Role, RoleGrant } from '../access/roles';
import type { Viewer } from '../access/policy';
import type { LookupOutcome } from '../directory/cache';
import type { ApiTokenRole, ApiTokenScope } from '../db/schema';
import type { DirectoryGroup, DirectoryPerson } from '../directory/types';

/** Everything a page knows about who is asking. */
export interface RequestViewer extends Viewer {
  login?: string;
  key?: string;
  displayName?: string;
  email?: string;
  authType?: string;
  source?: string;
  sessionId?: string;
  grants: RoleGrant[];
  groups: DirectoryGroup[];
  directoryPerson: DirectoryPerson | null;
  directory: LookupOutcome | null;
  /**
   * How the JSON API recognised the caller: an API token, the transport on this very
   * request (IIS, the proxy, Kerberos), or the session cookie. Pages leave it unset.
   */
  via?: 'token' | 'transport' | 'session';
  /** The API token the request carried, when it did. */
  apiToken?: { id: number; name: string; scope: ApiTokenScope; role: ApiTokenRole; expiresAt: Date };
}

export const GUEST: RequestViewer = Object.freeze({
  anonymous: true,
  personId: null,
  roles: new Set<Role>(),
  grants: [],
  groups: [],
  directoryPerson: null,
  directory: null,
});

export function viewerOf(res: Response): RequestViewer {
  return (res.locals.viewer as RequestViewer | undefined) ?? GUEST;
}

export function isAgent(v: Viewer): boolean {
  return v.roles.has('agent') || v.roles.has('admin');
}
