import type { Kysely } from 'kysely';
import type { DB } from '../db/schema';

export interface SessionRow {
  id: string;
  person_id: number;
  auth_type: string;
  source: string;
  expires_at: string | Date;
  login: string;
  login_key: string;
  display_name: string | null;
  email: string | null;
  is_agent: number;
}

export async function insertSession(
  db: Kysely<DB>,
  row: { id: string; personId: number; authType: string; source: string; createdAt: string; expiresAt: string },
): Promise<void> {
  await db
    .insertInto('sessions')
    .values({ id: row.id, person_id: row.personId, auth_type: row.authType, source: row.source, created_at: row.createdAt, expires_at: row.expiresAt })
    .execute();
}

export async function findLiveSession(db: Kysely<DB>, id: string, nowIso: string): Promise<SessionRow | undefined> {
  return db
    .selectFrom('sessions')
    .innerJoin('people', 'people.id', 'sessions.person_id')
    .select([
      'sessions.id',
      'sessions.person_id',
      'sessions.auth_type',
      'sessions.source',
      'sessions.expires_at',
      'people.login',
      'people.login_key',
      'people.display_name',
      'people.email',
      'people.is_agent',
    ])
    .where('sessions.id', '=', id)
    .where('sessions.expires_at', '>', nowIso)
    .executeTakeFirst();
}

export async function deleteSession(db: Kysely<DB>, id: string): Promise<void> {
  await db.deleteFrom('sessions').where('id', '=', id).execute();
}

export async function deleteExpiredSessions(db: Kysely<DB>, nowIso: string): Promise<number> {
  const r = await db.deleteFrom('sessions').where('expires_at', '<=', nowIso).executeTakeFirst();
  return Number(r.numDeletedRows ?? 0);
}
