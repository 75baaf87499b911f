import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Config } from '../config/schema';
import type { Database } from '../db/database';
import { nowIso } from '../db/values';
import type { DirectoryCache } from '../directory/cache';
import type { Identity } from '../identity/types';
import type { Logger } from '../logging';
import { parseLogin } from '../login';
import { ensurePerson, type PersonRow } from '../people/people.queries';
import type { Keys } from '../secret';
import { randomToken, sign, tokenDigest, unsign } from '../signing';
import { clearCookie, isSecureRequest, readCookies, serialiseCookie, setCookie } from './cookies';
import { deleteSession, findLiveSession, insertSession, type SessionRow } from './sessions.queries';

/**
 * Deskside's own sign-in session. Browsers only send Windows credentials when
 * challenged, and on an anonymous-allowed site later requests arrive anonymous, so once
 * IIS (or a proxy, Kerberos, the password form) has told us who someone is, a signed
 * cookie keeps them signed in.
 *
 * The cookie holds a random token and its HMAC; the database holds only the token's
 * SHA-256, so a copy of the database cannot be turned into cookies, and signing out
 * deletes the row, so a replayed cookie is worthless afterwards.
 */
export const SESSION_COOKIE = 'deskside_session';

/** Set by "sign out": the transport's identity is ignored until the person signs in again. */
export const GUEST_COOKIE = 'deskside_guest';

export type { SessionRow } from './sessions.queries';

export interface SessionDeps {
  config: Config;
  database: Database;
  keys: Keys;
  directory: DirectoryCache;
  logger: Logger;
}

export function sessionIdOf(token: string): string {
  return tokenDigest(token);
}

interface CachedSession {
  row: SessionRow;
  /** The database's change stamp read before the row was: the row is exact while the stamp stays. */
  stamp: string;
  expiresMs: number;
}

/** Most sessions a process remembers; beyond it the oldest remembered is forgotten first. */
export const SESSION_CACHE_ENTRIES = 5_000;

const sessionCaches = new WeakMap<Database, Map<string, CachedSession>>();

/**
 * The live session a cookie names. Per process (per open database), a cookie that named a
 * live session is remembered with that row, keyed by the whole signed cookie (so a hit
 * also skips the HMAC and SHA-256: only a value that verified is ever a key), and reused
 * only while the database's change stamp is the one read before the row and the session
 * has not expired. The stamp moves with every commit by any connection (SQLite:
 * data_version, which another process's commit changes, plus total_changes for this
 * connection's own), so signing out, a changed person row or anything else written
 * anywhere makes every process read the row again on its next request. A database
 * without a stamp (SQL Server, for now) is asked every time. Decision 0019.
 */
async function readSession(deps: Pick<SessionDeps, 'database' | 'keys'>, cookie: string | undefined): Promise<SessionRow | null> {
  if (!cookie) return null;
  const database = deps.database;
  const stamp = database.changeStamp?.();
  let cache: Map<string, CachedSession> | undefined;
  if (stamp !== undefined) {
    cache = sessionCaches.get(database);
    if (!cache) sessionCaches.set(database, (cache = new Map<string, CachedSession>()));
    const hit = cache.get(cookie);
    if (hit && hit.stamp === stamp && hit.expiresMs > Date.now()) return hit.row;
  }
  const token = unsign(deps.keys.session, cookie);
  if (!token) return null;
  const row = await findLiveSession(database.db, sessionIdOf(token), nowIso());
  if (!row) {
    cache?.delete(cookie);
    return null;
  }
  if (cache && stamp !== undefined) {
    // Read before the query, so a write landing meanwhile leaves this entry at an older
    // stamp: the next request reads again, never the other way round.
    cache.delete(cookie);
    cache.set(cookie, { row: Object.freeze(row), stamp, expiresMs: new Date(row.expires_at).getTime() });
    if (cache.size > SESSION_CACHE_ENTRIES) cache.delete(cache.keys().next().value as string);
  }
  return row;
}

/**
 * The live session the request's cookie names, or null (none, unsigned, tampered,
 * expired or signed out). A cookie that names no live session is cleared.
 */
export async function resumeSession(deps: SessionDeps, req: IncomingMessage, res: ServerResponse): Promise<SessionRow | null> {
  const cookies = readCookies(req);
  const session = await readSession(deps, cookies.get(SESSION_COOKIE));
  if (!session && cookies.has(SESSION_COOKIE)) clearCookie(req, res, SESSION_COOKIE, deps.config);
  return session;
}

/** Has this browser signed out, so that the transport's identity is to be ignored? */
export function wantsToStayGuest(req: IncomingMessage): boolean {
  return readCookies(req).get(GUEST_COOKIE) === '1';
}

/**
 * The person the transport (or the password form) has just named, created the first time
 * and with their profile as the directory has it now.
 */
export async function recognise(deps: Pick<SessionDeps, 'database' | 'directory'>, who: Identity): Promise<PersonRow> {
  const login = parseLogin(who.login)!;
  const lookup = await deps.directory.get(login);
  const p = lookup.person;
  return ensurePerson(deps.database.db, who.login, who.key, {
    displayName: p?.displayName,
    email: p?.email,
    department: p?.department,
    title: p?.title,
  });
}

/**
 * Start Deskside's own session for someone the transport (IIS, a proxy, Kerberos) or the
 * password form has just recognised, replacing any session the browser had; clears the
 * "stay a guest" cookie. Returns the new session row.
 */
export async function beginSession(deps: SessionDeps, req: IncomingMessage, res: ServerResponse, who: Identity, previousSessionId: string | undefined, reqId?: string): Promise<SessionRow | null> {
  const { config, keys, logger } = deps;
  const db = deps.database.db;
  const person = await recognise(deps, who);
  if (previousSessionId) await deleteSession(db, previousSessionId);
  const token = randomToken();
  const now = Date.now();
  const maxAgeSeconds = Math.round(config.sessionHours * 3600);
  await insertSession(db, {
    id: sessionIdOf(token),
    personId: person.id,
    authType: who.authType,
    source: who.source,
    createdAt: new Date(now).toISOString(),
    expiresAt: new Date(now + maxAgeSeconds * 1000).toISOString(),
  });
  const cookieValue = sign(keys.session, token);
  setCookie(res, serialiseCookie(SESSION_COOKIE, cookieValue, { secure: isSecureRequest(req, config), maxAgeSeconds }));
  if (readCookies(req).has(GUEST_COOKIE)) clearCookie(req, res, GUEST_COOKIE, config);
  logger.info({ event: 'sign-in', login: who.login, source: who.source, authType: who.authType, reqId }, 'signed in');
  return readSession(deps, cookieValue);
}

/**
 * End the session (if any) and clear its cookie. `stayGuest`: the person asked to sign
 * out, so the transport's identity is ignored until they sign in again (IIS keeps NTLM
 * connections authenticated; without this the next request would sign them straight
 * back in).
 */
export async function endSession(deps: Pick<SessionDeps, 'config' | 'database'>, req: IncomingMessage, res: ServerResponse, sessionId: string | undefined, opts: { stayGuest: boolean }): Promise<void> {
  if (sessionId) await deleteSession(deps.database.db, sessionId);
  clearCookie(req, res, SESSION_COOKIE, deps.config);
  if (opts.stayGuest) {
    setCookie(res, serialiseCookie(GUEST_COOKIE, '1', { secure: isSecureRequest(req, deps.config), maxAgeSeconds: deps.config.sessionHours * 3600 }));
  }
}
