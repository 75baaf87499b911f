import type { DirectoryCache } from '../directory/cache';
import type { DirectoryPerson } from '../directory/types';
import { parseLogin, type Login } from '../login';

/**
 * The login Deskside keeps for someone named by a Kerberos principal or typed into the
 * password form. IIS reports `CORP\alice` (LOGON_USER), config lists `CORP\alice` in
 * DESKSIDE_AGENTS, and the people table is keyed on it: so when the directory knows the
 * person, `alice@CORP.EXAMPLE` becomes `NETBIOS\sAMAccountName`, the same person as under
 * IIS. Without a directory (or when it cannot be asked) the login stays as given.
 */
export async function canonicalLogin(directory: DirectoryCache, login: Login): Promise<{ login: Login; person: DirectoryPerson | null; state: string }> {
  if (!directory.enabled) return { login, person: null, state: 'off' };
  const outcome = await directory.get(login);
  const person = outcome.person;
  const netbios = directory.directory?.status?.().domain;
  if (person?.account && netbios) {
    const downlevel = parseLogin(`${netbios}\\${person.account}`);
    if (downlevel) return { login: downlevel, person, state: outcome.state };
  }
  return { login, person, state: outcome.state };
}

/** A Kerberos principal (`alice@CORP.EXAMPLE`) as a login (`alice@corp.example`), or null. */
export function principalToLogin(principal: string): Login | null {
  // Service and host principals (`HTTP/web@REALM`) are never people.
  if (principal.includes('/')) return null;
  return parseLogin(principal);
}
