import type { Config } from '../config/schema';
import { canonicalDn } from '../directory/ldap-values';
import type { DirectoryGroup } from '../directory/types';
import { parseLogin } from '../login';

export type Role = 'requester' | 'agent' | 'admin';
export const ROLE_ORDER: Role[] = ['requester', 'agent', 'admin'];

/** Why someone holds a role: shown on /me and the admin directory page. */
export interface RoleGrant {
  role: Role;
  /** The setting that granted it, or `signed in` for the requester role. */
  setting: 'DESKSIDE_AGENTS' | 'DESKSIDE_ADMINS' | 'signed in';
  /** The entry of that setting that matched, as written there. */
  entry?: string;
  /** `login` when the entry names the person, `group` when one of their groups. */
  via?: 'login' | 'group';
  group?: string;
}

export interface RoleSubject {
  /** Lower-cased login key. */
  key: string;
  groups: DirectoryGroup[];
}


/** An entry of DESKSIDE_AGENTS/ADMINS, read once: a DN, or a login and a group name. */
type ParsedEntry = { dn: string } | { loginKey: string | undefined; name: string; domain: string | undefined };

// Entries come from the settings, so there are few; every request matches them.
const parsedEntries = new Map<string, ParsedEntry | null>();

function parseEntry(entry: string): ParsedEntry | null {
  const known = parsedEntries.get(entry);
  if (known !== undefined) return known;
  const e = entry.trim();
  let parsed: ParsedEntry | null = null;
  if (e && /^(cn|ou|dc)=/i.test(e)) parsed = { dn: canonicalDn(e) };
  else if (e) {
    const lower = e.toLowerCase();
    const slash = lower.indexOf('\\');
    parsed = { loginKey: parseLogin(e)?.key, domain: slash >= 0 ? lower.slice(0, slash) : undefined, name: slash >= 0 ? lower.slice(slash + 1) : lower };
  }
  if (parsedEntries.size < 10_000) parsedEntries.set(entry, parsed);
  return parsed;
}

/** Does one entry of DESKSIDE_AGENTS/ADMINS name this person or one of their groups? */
export function matchEntry(entry: string, subject: RoleSubject): { via: 'login' | 'group'; group?: string } | null {
  const e = parseEntry(entry);
  if (!e) return null;
  if ('dn' in e) {
    const g = subject.groups.find((grp) => grp.dn && canonicalDn(grp.dn) === e.dn);
    return g ? { via: 'group', group: g.name } : null;
  }
  if (e.loginKey !== undefined && e.loginKey === subject.key) return { via: 'login' };
  const g = subject.groups.find(
    (grp) => grp.name.toLowerCase() === e.name && (e.domain === undefined || (grp.domain ?? '').toLowerCase() === e.domain),
  );
  return g ? { via: 'group', group: g.name } : null;
}

/**
 * Roles of a signed-in person: requester always, agent/admin when DESKSIDE_AGENTS or
 * DESKSIDE_ADMINS names their login or one of their (nested) groups. Admins are agents.
 */
export function resolveRoles(subject: RoleSubject, config: Pick<Config, 'agents' | 'admins'>): { roles: Role[]; grants: RoleGrant[] } {
  const grants: RoleGrant[] = [{ role: 'requester', setting: 'signed in' }];
  const check = (role: Role, setting: 'DESKSIDE_AGENTS' | 'DESKSIDE_ADMINS', entries: string[]) => {
    for (const entry of entries) {
      const m = matchEntry(entry, subject);
      if (m) grants.push({ role, setting, entry, via: m.via, group: m.group });
    }
  };
  check('agent', 'DESKSIDE_AGENTS', config.agents);
  check('admin', 'DESKSIDE_ADMINS', config.admins);
  const held = new Set(grants.map((g) => g.role));
  if (held.has('admin')) held.add('agent');
  return { roles: ROLE_ORDER.filter((r) => held.has(r)), grants };
}
