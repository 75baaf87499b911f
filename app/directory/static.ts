import type { Login } from '../login';
import { sameDn } from './ldap-values';
import { searchTerms, type Directory, type DirectoryGroup, type DirectoryPerson, type GroupMembers } from './types';

export interface StaticUser {
  login: string;
  displayName: string;
  email?: string;
  department?: string;
  title?: string;
  phone?: string;
  /** Groups the user is directly a member of. */
  memberOf: string[];
  /** What the demo "act as" control says about this person. */
  blurb?: string;
}

export interface StaticDirectoryData {
  domain: string;
  users: StaticUser[];
  /** group name -> the groups it is itself a member of (nesting). */
  groupParents: Record<string, string[]>;
}

/**
 * The demo directory: people and nested groups as a small AD would have them, so that
 * `npm start` shows roles coming from group membership without a domain controller.
 */
export const DEMO_DIRECTORY: StaticDirectoryData = {
  domain: 'DEMO',
  users: [
    { login: 'DEMO\\alice', phone: '+44 20 7946 0101', displayName: 'Alice Anders', email: 'alice@demo.example', department: 'Finance', title: 'Accountant', memberOf: ['Finance', 'All Staff'], blurb: 'Staff member (requester)' },
    { login: 'DEMO\\bob', phone: '+44 20 7946 0102', displayName: 'Bob Brennan', email: 'bob@demo.example', department: 'Sales', title: 'Account Manager', memberOf: ['Sales', 'All Staff'], blurb: 'Staff member (requester)' },
    { login: 'DEMO\\carol', phone: '+44 20 7946 0201', displayName: 'Carol Chen', email: 'carol@demo.example', department: 'IT', title: 'Service Desk Analyst', memberOf: ['Service Desk L1'], blurb: 'Agent, through the nested group Service Desk L1' },
    { login: 'DEMO\\dan', phone: '+44 20 7946 0202', displayName: 'Dan Dubois', email: 'dan@demo.example', department: 'IT', title: 'Desktop Engineer', memberOf: ['Helpdesk Agents'], blurb: 'Agent' },
    { login: 'DEMO\\erin', phone: '+44 20 7946 0203', displayName: 'Erin Ellis', email: 'erin@demo.example', department: 'IT', title: 'IT Manager', memberOf: ['IT Operations'], blurb: 'Administrator, through IT Operations' },
  ],
  groupParents: {
    'Service Desk L1': ['Helpdesk Agents'],
    'Helpdesk Agents': ['IT Staff'],
    'IT Operations': ['Deskside Admins', 'Helpdesk Agents'],
    Finance: [],
    Sales: [],
    'All Staff': [],
    'Deskside Admins': [],
    'IT Staff': ['All Staff'],
  },
};

function groupDn(name: string, domain: string): string {
  return `CN=${name},OU=Groups,DC=${domain.toLowerCase()},DC=example`;
}

/** Direct groups plus every group reached through nesting, each once. */
export function expandGroups(direct: string[], parents: Record<string, string[]>): { name: string; nested: boolean }[] {
  const out = new Map<string, boolean>();
  const queue: { name: string; nested: boolean }[] = direct.map((name) => ({ name, nested: false }));
  while (queue.length) {
    const g = queue.shift()!;
    if (out.has(g.name)) continue;
    out.set(g.name, g.nested);
    for (const parent of parents[g.name] ?? []) queue.push({ name: parent, nested: true });
  }
  return [...out].map(([name, nested]) => ({ name, nested }));
}

export function createStaticDirectory(data: StaticDirectoryData = DEMO_DIRECTORY): Directory & { users: StaticUser[] } {
  return {
    kind: 'static',
    describe: `static demo directory (${data.users.length} people)`,
    users: data.users,
    async lookup(login: Login): Promise<DirectoryPerson | null> {
      const user = data.users.find((u) => u.login.toLowerCase() === login.key);
      if (!user) return null;
      const groups: DirectoryGroup[] = expandGroups(user.memberOf, data.groupParents).map((g) => ({
        name: g.name,
        domain: data.domain,
        dn: groupDn(g.name, data.domain),
        nested: g.nested,
      }));
      return {
        dn: `CN=${user.displayName},OU=People,DC=${data.domain.toLowerCase()},DC=example`,
        displayName: user.displayName,
        email: user.email,
        department: user.department,
        title: user.title,
        phone: user.phone,
        groups,
      };
    },
    async search(query: string, limit: number): Promise<DirectoryPerson[]> {
      const words = searchTerms(query);
      if (words.length === 0) return [];
      const fits = (u: StaticUser) => {
        const account = u.login.slice(u.login.indexOf('\\') + 1).toLowerCase();
        const name = u.displayName.toLowerCase();
        const email = (u.email ?? '').toLowerCase();
        return words.every((w) => name.includes(w) || account.startsWith(w) || email.startsWith(w));
      };
      return data.users
        .filter(fits)
        .slice(0, Math.max(0, limit))
        .map((u) => ({ login: u.login, displayName: u.displayName, email: u.email, department: u.department, title: u.title, phone: u.phone, account: u.login.slice(u.login.indexOf('\\') + 1), groups: [] }));
    },
    async groupMembers(group: string, limit: number): Promise<GroupMembers | null> {
      const name = groupNamed(group, data);
      if (!name) return null;
      const members = data.users
        .filter((u) => expandGroups(u.memberOf, data.groupParents).some((g) => g.name === name))
        .map((u): DirectoryPerson => ({ login: u.login, displayName: u.displayName, email: u.email, department: u.department, title: u.title, account: u.login.slice(u.login.indexOf('\\') + 1), groups: [] }))
        .sort((a, b) => a.displayName!.localeCompare(b.displayName!));
      return { name, dn: groupDn(name, data.domain), members: members.slice(0, Math.max(0, limit)), truncated: members.length > limit };
    },
    async close() {},
  };
}

/** The demo group a name or DN means, as groupMembers takes it. */
function groupNamed(group: string, data: StaticDirectoryData): string | undefined {
  const all = Object.keys(data.groupParents);
  const text = group.trim();
  if (/^cn=/i.test(text)) return all.find((g) => sameDn(groupDn(g, data.domain), text));
  const slash = text.indexOf('\\');
  if (slash >= 0 && text.slice(0, slash).toLowerCase() !== data.domain.toLowerCase()) return undefined;
  const bare = text.slice(slash + 1).toLowerCase();
  return all.find((g) => g.toLowerCase() === bare);
}
