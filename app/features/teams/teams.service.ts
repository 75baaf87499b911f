import { matchEntry } from '../../access/roles';
import type { Database } from '../../db/database';
import { nowIso } from '../../db/values';
import type { DirectoryCache, LookupState } from '../../directory/cache';
import type { DirectoryGroup } from '../../directory/types';
import { parseLogin } from '../../login';
import { findPeopleByKeys, type AgentRow } from '../../people/people.queries';
import { cleanText, type FieldErrors } from '../shared/form-values';
import {
  findTeamByName,
  getTeam,
  insertTeam,
  listTeamMembers,
  listTeams,
  replaceTeamMembers,
  teamsListingLogin,
  updateTeamAtVersion,
  type TeamRow,
} from './teams.queries';

export const TEAM_LIMITS = { name: 80, description: 400, group: 400, members: 500 } as const;

/** The team form as posted; field names are the inputs' ids. */
export interface TeamForm {
  name: string;
  description: string;
  directoryGroup: string;
  /** One login per line. */
  members: string;
  active: boolean;
  version: string;
}

export function readTeamForm(body: Record<string, unknown>): TeamForm {
  return {
    name: cleanText(body.name).replace(/\s+/g, ' '),
    description: cleanText(body.description).replace(/\s+/g, ' '),
    directoryGroup: cleanText(body.directoryGroup).replace(/\s+/g, ' '),
    members: cleanText(body.members),
    active: body.active === 'on' || body.active === 'true',
    version: typeof body.version === 'string' ? body.version.trim() : '',
  };
}

export function teamFormOf(t: TeamRow, listed: { login: string }[]): TeamForm {
  return { name: t.name, description: t.description ?? '', directoryGroup: t.directory_group ?? '', members: listed.map((m) => m.login).join('\n'), active: t.active === 1, version: String(t.version) };
}

export type TeamResult =
  | { kind: 'ok'; id: number; notes: string[] }
  | { kind: 'invalid'; errors: FieldErrors }
  | { kind: 'not-found' }
  /** Someone saved the team after this form was opened; nothing was written. */
  | { kind: 'conflict' };

interface Checked {
  errors: FieldErrors;
  members: { login: string; key: string }[];
  /** Things the admin should know that do not stop the save (the directory could not be asked). */
  notes: string[];
}

async function check(database: Database, directory: DirectoryCache, form: TeamForm, selfId?: number): Promise<Checked> {
  const errors: FieldErrors = {};
  const notes: string[] = [];
  if (!form.name) errors.name = 'Enter a name for the team';
  else if (form.name.length > TEAM_LIMITS.name) errors.name = `Keep the name to ${TEAM_LIMITS.name} characters or fewer`;
  else {
    const clash = await findTeamByName(database.db, form.name);
    if (clash && clash.id !== selfId) errors.name = `There is already a team called “${clash.name}”`;
  }
  if (form.description.length > TEAM_LIMITS.description) errors.description = `Keep the description to ${TEAM_LIMITS.description} characters or fewer`;

  if (form.directoryGroup) {
    if (!directory.enabled) errors.directoryGroup = 'Deskside has no directory to read groups from; list the members by login instead';
    else if (form.directoryGroup.length > TEAM_LIMITS.group) errors.directoryGroup = `Keep the group to ${TEAM_LIMITS.group} characters or fewer`;
    else {
      const found = await directory.groupMembers(form.directoryGroup, { bypassCache: true });
      if (found.state === 'ok' && !found.group) errors.directoryGroup = `The directory has no group “${form.directoryGroup}”; give its name (like CORP\\Network Team) or its distinguished name`;
      else if (found.state !== 'ok') notes.push(`The directory could not be asked (${found.error ?? 'no answer'}), so the group “${form.directoryGroup}” was saved without checking that it exists.`);
    }
  }

  const members: { login: string; key: string }[] = [];
  const lines = form.members.split('\n').map((l) => l.trim()).filter(Boolean);
  if (lines.length > TEAM_LIMITS.members) errors.members = `List at most ${TEAM_LIMITS.members} logins; use a directory group for a larger team`;
  else {
    const bad: string[] = [];
    const seen = new Set<string>();
    for (const line of lines) {
      const login = parseLogin(line);
      if (!login) bad.push(line);
      else if (!seen.has(login.key)) {
        seen.add(login.key);
        members.push({ login: login.login, key: login.key });
      }
    }
    if (bad.length) errors.members = `${bad.length === 1 ? `“${bad[0]}” is not a login` : `${bad.slice(0, 3).map((b) => `“${b}”`).join(', ')}${bad.length > 3 ? ` and ${bad.length - 3} more` : ''} are not logins`}: write one per line, like CORP\\alice or alice@corp.example`;
  }
  return { errors, members, notes };
}

export async function addTeam(database: Database, directory: DirectoryCache, form: TeamForm): Promise<TeamResult> {
  const c = await check(database, directory, form);
  if (Object.keys(c.errors).length) return { kind: 'invalid', errors: c.errors };
  const id = await database.write(async (trx) => {
    const at = nowIso();
    const teamId = await insertTeam(trx, database.dialect, valuesOf(form), at);
    await replaceTeamMembers(trx, teamId, c.members);
    return teamId;
  });
  return { kind: 'ok', id, notes: c.notes };
}

export async function changeTeam(database: Database, directory: DirectoryCache, id: number, form: TeamForm): Promise<TeamResult> {
  if (!(await getTeam(database.db, id))) return { kind: 'not-found' };
  const c = await check(database, directory, form, id);
  if (!/^\d{1,9}$/.test(form.version)) c.errors.version = 'This form is missing the team’s version; reload the page and try again';
  if (Object.keys(c.errors).length) return { kind: 'invalid', errors: c.errors };
  const ok = await database.write(async (trx) => {
    if (!(await updateTeamAtVersion(trx, id, Number(form.version), valuesOf(form), nowIso()))) return false;
    await replaceTeamMembers(trx, id, c.members);
    return true;
  });
  return ok ? { kind: 'ok', id, notes: c.notes } : { kind: 'conflict' };
}

function valuesOf(form: TeamForm) {
  return { name: form.name, description: form.description || null, directoryGroup: form.directoryGroup || null, active: form.active };
}

/** One member of a team as the team page shows them. */
export interface TeamMember {
  login: string;
  displayName: string | null;
  /** In the directory group, listed by login, or both. */
  via: 'group' | 'listed' | 'both';
  /** Their Deskside person, once they have signed in. */
  personId: number | null;
  isAgent: boolean;
}

export interface TeamMembership {
  members: TeamMember[];
  /** How the directory answered for the team's group ('off' when the team has none). */
  directory: LookupState;
  /** The group has more members than Deskside reads. */
  truncated: boolean;
  groupMissing: boolean;
  error?: string;
}

/**
 * Everyone in the team: the directory group's members (nested groups included; the last
 * known answer during an outage) and the logins it lists, matched to Deskside's people.
 */
export async function teamMembership(database: Database, directory: DirectoryCache, team: TeamRow): Promise<TeamMembership> {
  const byKey = new Map<string, { login: string; displayName: string | null; via: TeamMember['via']; keys: string[] }>();
  let state: LookupState = 'off';
  let truncated = false;
  let groupMissing = false;
  let error: string | undefined;
  if (team.directory_group) {
    const found = await directory.groupMembers(team.directory_group);
    state = found.state;
    error = found.error;
    groupMissing = found.state !== 'unavailable' && found.state !== 'off' && !found.group;
    truncated = found.group?.truncated ?? false;
    for (const m of found.group?.members ?? []) {
      const login = parseLogin(m.login ?? '');
      if (!login) continue;
      // People may sign in as DOMAIN\account or by UPN; either names this member.
      const upn = m.upn ? parseLogin(m.upn) : null;
      byKey.set(login.key, { login: login.login, displayName: m.displayName ?? null, via: 'group', keys: upn ? [login.key, upn.key] : [login.key] });
    }
  }
  for (const m of await listTeamMembers(database.db, [team.id])) {
    const known = byKey.get(m.login_key);
    if (known) known.via = 'both';
    else byKey.set(m.login_key, { login: m.login, displayName: null, via: 'listed', keys: [m.login_key] });
  }
  const people = await findPeopleByKeys(database.db, [...byKey.values()].flatMap((m) => m.keys));
  const personOf = new Map(people.map((p) => [p.login_key, p]));
  const members = [...byKey.values()]
    .map((m): TeamMember => {
      const p = m.keys.map((k) => personOf.get(k)).find(Boolean);
      return { login: m.login, displayName: m.displayName ?? p?.display_name ?? null, via: m.via, personId: p?.id ?? null, isAgent: p?.is_agent === 1 };
    })
    .sort((a, b) => (a.displayName ?? a.login).localeCompare(b.displayName ?? b.login));
  return { members, directory: state, truncated, groupMissing, error };
}

/**
 * The teams a person is in, from what is already known about them: their groups (the
 * directory's answer for this request, nested included) and the logins teams list.
 */
export async function teamIdsOf(database: Database, person: { key: string; groups: DirectoryGroup[] }): Promise<number[]> {
  const [teams, listed] = await Promise.all([listTeams(database.db, { activeOnly: true }), teamsListingLogin(database.db, person.key)]);
  const ids = new Set(listed);
  for (const t of teams) if (t.directory_group && matchEntry(t.directory_group, { key: person.key, groups: person.groups })) ids.add(t.id);
  return teams.filter((t) => ids.has(t.id)).map((t) => t.id);
}

/** The assignee list with the ticket's team first: its members who are agents, then everyone else. */
export async function assigneeChoices(database: Database, directory: DirectoryCache, agents: AgentRow[], team: TeamRow | undefined): Promise<{ team: AgentRow[]; others: AgentRow[] }> {
  if (!team) return { team: [], others: agents };
  const membership = await teamMembership(database, directory, team);
  const ids = new Set(membership.members.map((m) => m.personId).filter((id): id is number => id !== null));
  return { team: agents.filter((a) => ids.has(a.id)), others: agents.filter((a) => !ids.has(a.id)) };
}
