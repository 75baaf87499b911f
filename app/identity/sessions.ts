import { createHash, randomBytes } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { DB } from '../db/schema';
import { nowIso } from '../db/values';
import { sign, unsign } from '../web/cookies';
import { deleteSession, findLiveSession, insertSession, type SessionRow } from './sessions.queries';

export const SESSION_COOKIE = 'deskside_session';

/**
 * Deskside's own sign-in session. Browsers only send Windows credentials when
 * challenged, and on an anonymous-allowed site later requests arrive anonymous, so once
 * IIS (or a proxy) has told us who someone is, a signed cookie keeps them signed in.
 *
 * The cookie holds a random token and its HMAC; the database holds only the token's
 * SHA-256, so a copy of the database cannot be turned into cookies, and signing out
 * deletes the row, so a replayed cookie is worthless afterwards.
 */
export function sessionIdOf(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

export async function startSession(
  db: Kysely<DB>,
  key: Buffer,
  opts: { personId: number; authType: string; source: string; hours: number },
): Promise<{ cookieValue: string; sessionId: string; maxAgeSeconds: number }> {
  const token = randomBytes(32).toString('base64url');
  const sessionId = sessionIdOf(token);
  const now = Date.now();
  const maxAgeSeconds = Math.round(opts.hours * 3600);
  await insertSession(db, {
    id: sessionId,
    personId: opts.personId,
    authType: opts.authType,
    source: opts.source,
    createdAt: new Date(now).toISOString(),
    expiresAt: new Date(now + maxAgeSeconds * 1000).toISOString(),
  });
  return { cookieValue: sign(key, token), sessionId, maxAgeSeconds };
}

/** The live session a cookie names, or null (unsigned, tampered, expired or signed out). */
export async function readSession(db: Kysely<DB>, key: Buffer, cookie: string | undefined): Promise<SessionRow | null> {
  const token = unsign(key, cookie);
  if (!token) return null;
  return (await findLiveSession(db, sessionIdOf(token), nowIso())) ?? null;
}

export async function endSession(db: Kysely<DB>, sessionId: string): Promise<void> {
  await deleteSession(db, sessionId);
}
