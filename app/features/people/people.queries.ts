import type { Kysely } from 'kysely';
import { insertIfAbsent } from '../../db/portable';
import { nowIso } from '../../db/values';
import type { DB } from '../../db/schema';

export interface PersonRow {
  id: number;
  login: string;
  login_key: string;
  display_name: string | null;
  email: string | null;
  department: string | null;
  title: string | null;
}

export interface PersonProfile {
  displayName?: string | null;
  email?: string | null;
  department?: string | null;
  title?: string | null;
}

export async function findPersonByKey(db: Kysely<DB>, key: string): Promise<PersonRow | undefined> {
  return db
    .selectFrom('people')
    .select(['id', 'login', 'login_key', 'display_name', 'email', 'department', 'title'])
    .where('login_key', '=', key)
    .executeTakeFirst();
}

export async function findPersonById(db: Kysely<DB>, id: number): Promise<PersonRow | undefined> {
  return db
    .selectFrom('people')
    .select(['id', 'login', 'login_key', 'display_name', 'email', 'department', 'title'])
    .where('id', '=', id)
    .executeTakeFirst();
}

/**
 * The person's row, created the first time they are recognised. Profile fields are
 * only written when the directory supplied them and they differ, so the common case
 * (a known person) is one indexed read.
 */
export async function ensurePerson(db: Kysely<DB>, login: string, key: string, profile: PersonProfile = {}): Promise<PersonRow> {
  const existing = await findPersonByKey(db, key);
  const now = nowIso();
  if (existing) {
    const changes: Partial<Record<'display_name' | 'email' | 'department' | 'title', string | null>> = {};
    const put = (col: 'display_name' | 'email' | 'department' | 'title', v: string | null | undefined) => {
      if (v !== undefined && v !== null && v !== existing[col]) changes[col] = v;
    };
    put('display_name', profile.displayName);
    put('email', profile.email);
    put('department', profile.department);
    put('title', profile.title);
    if (Object.keys(changes).length === 0) return existing;
    await db.updateTable('people').set({ ...changes, updated_at: now }).where('id', '=', existing.id).execute();
    return { ...existing, ...changes };
  }
  // Another process may recognise the same person at the same moment: the insert is a
  // no-op for whichever comes second, and both read back the one row.
  await insertIfAbsent(
    db,
    'people',
    {
      login,
      login_key: key,
      display_name: profile.displayName ?? null,
      email: profile.email ?? null,
      department: profile.department ?? null,
      title: profile.title ?? null,
      is_agent: 0,
      created_at: now,
      updated_at: now,
    },
    'login_key',
  );
  const created = await findPersonByKey(db, key);
  if (!created) throw new Error(`person ${key} vanished after insert`);
  return created;
}

export async function listPeopleByIds(db: Kysely<DB>, ids: number[]): Promise<PersonRow[]> {
  if (ids.length === 0) return [];
  return db
    .selectFrom('people')
    .select(['id', 'login', 'login_key', 'display_name', 'email', 'department', 'title'])
    .where('id', 'in', ids)
    .execute();
}
