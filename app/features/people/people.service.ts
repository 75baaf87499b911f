import type { Database } from '../../db/database';
import type { DirectoryCache } from '../../directory/cache';
import { searchTerms, type DirectoryPerson } from '../../directory/types';
import { canonicalLogin } from '../../identity/canonical';
import { parseLogin } from '../../login';
import { ensurePerson, findPersonByKey, searchKnownPeople, type PersonRow } from '../../people/people.queries';

/** One person a search found: someone Deskside knows, or someone only the directory knows yet. */
export interface PersonMatch {
  login: string;
  name: string | null;
  email: string | null;
  department: string | null;
  title: string | null;
  source: 'known' | 'directory';
}

export interface PeopleSearch {
  query: string;
  matches: PersonMatch[];
  /** Whether Active Directory was asked: off (none configured), ok, or unavailable (known people only). */
  directory: 'off' | 'ok' | 'unavailable';
  /** More people match than are shown: type more of the name. */
  truncated: boolean;
}

export const SEARCH_LIMIT = 10;
export const MAX_QUERY = 100;

const fromRow = (p: PersonRow): PersonMatch => ({ login: p.login, name: p.display_name, email: p.email, department: p.department, title: p.title, source: 'known' });
const fromDirectory = (p: DirectoryPerson): PersonMatch => ({
  login: p.login!,
  name: p.displayName ?? null,
  email: p.email ?? null,
  department: p.department ?? null,
  title: p.title ?? null,
  source: 'directory',
});

/**
 * People by name, login or e-mail: those Deskside already knows first, then (with the
 * directory on) Active Directory's, each person once, at most `limit`.
 */
export async function searchPeople(database: Database, directory: DirectoryCache, query: string, limit = SEARCH_LIMIT): Promise<PeopleSearch> {
  const text = query.trim().slice(0, MAX_QUERY);
  const words = searchTerms(text);
  if (words.length === 0) return { query: text, matches: [], directory: directory.enabled ? 'ok' : 'off', truncated: false };
  const [known, found] = await Promise.all([searchKnownPeople(database.db, database.dialect, words, limit + 1), directory.search(text, limit + 1)]);
  const matches = known.slice(0, limit).map(fromRow);
  const seen = new Set(matches.map((m) => m.login.toLowerCase()));
  for (const p of found.people) {
    if (matches.length >= limit) break;
    if (!p.login || seen.has(p.login.toLowerCase())) continue;
    seen.add(p.login.toLowerCase());
    matches.push(fromDirectory(p));
  }
  return { query: text, matches, directory: found.state, truncated: known.length > limit || found.people.length > limit };
}

export type PersonChoice =
  | { kind: 'one'; person: PersonRow }
  | { kind: 'many'; matches: PersonMatch[] }
  | { kind: 'none'; message: string };

/**
 * The one person a typed login, e-mail or name means. A login Deskside knows, or the
 * directory confirms, is that person; otherwise a search, where an exact login or e-mail
 * match, or a single match, decides. Someone only the directory knew becomes known here.
 */
export async function resolvePerson(database: Database, directory: DirectoryCache, typed: string): Promise<PersonChoice> {
  const text = typed.trim();
  if (!text) return { kind: 'none', message: 'Enter the person’s name, login or e-mail address' };
  if (text.length > MAX_QUERY) return { kind: 'none', message: `Keep it to ${MAX_QUERY} characters or fewer` };
  const login = parseLogin(text);
  if (login) {
    const known = await findPersonByKey(database.db, login.key);
    if (known) return { kind: 'one', person: known };
    if (directory.enabled) {
      // As at sign-in: a UPN the directory knows becomes DOMAIN\account, the person IIS will name.
      const found = await canonicalLogin(directory, login);
      if (found.person && !found.person.disabled) {
        const p = found.person;
        return { kind: 'one', person: await ensurePerson(database.db, found.login.login, found.login.key, { displayName: p.displayName, email: p.email, department: p.department, title: p.title }) };
      }
      if (found.state === 'unavailable') return { kind: 'none', message: `The directory cannot be reached to check ${login.login}; try again in a minute, or choose someone who has used Deskside before` };
    }
    // A UPN and an e-mail address look alike: a miss by login may still be someone's e-mail.
    if (!text.includes('@')) return { kind: 'none', message: `Nobody with the login ${login.login} is known to Deskside${directory.enabled ? ' or the directory' : ''}` };
  }
  const result = await searchPeople(database, directory, text);
  const lower = text.toLowerCase();
  const exact = result.matches.filter((m) => m.login.toLowerCase() === lower || (m.email ?? '').toLowerCase() === lower);
  const pick = exact.length === 1 ? exact[0] : result.matches.length === 1 ? result.matches[0] : undefined;
  if (pick) {
    const key = pick.login.toLowerCase();
    const known = await findPersonByKey(database.db, key);
    return { kind: 'one', person: known ?? (await ensurePerson(database.db, pick.login, key, { displayName: pick.name, email: pick.email, department: pick.department, title: pick.title })) };
  }
  if (result.matches.length === 0) {
    const unavailable = result.directory === 'unavailable' ? ' (the directory cannot be reached, so only people who have used Deskside were searched)' : '';
    return { kind: 'none', message: `Nobody matches “${text}”${unavailable}. Try their login, such as CORP\\alice, or their e-mail address` };
  }
  return { kind: 'many', matches: result.matches };
}
