import type { Kysely, Selectable } from 'kysely';
import type { DialectName } from '../db/dialect';
import { insertIfAbsent, paged, textLike } from '../db/portable';
import type { DB, PeopleTable } from '../db/schema';
import { nowIso } from '../db/values';

/** The person columns pages and services read: one list, so every query returns the same shape. */
export const PERSON_COLUMNS = ['id', 'login', 'login_key', 'display_name', 'email', 'department', 'title'] as const;

export type PersonRow = Pick<Selectable<PeopleTable>, (typeof PERSON_COLUMNS)[number]>;

export interface PersonProfile {
  displayName?: string | null;
  email?: string | null;
  department?: string | null;
  title?: string | null;
}

export async function findPersonByKey(db: Kysely<DB>, key: string): Promise<PersonRow | undefined> {
  return db
    .selectFrom('people')
    .select(PERSON_COLUMNS)
    .where('login_key', '=', key)
    .executeTakeFirst();
}

export async function findPersonById(db: Kysely<DB>, id: number): Promise<PersonRow | undefined> {
  return db
    .selectFrom('people')
    .select(PERSON_COLUMNS)
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
    .select(PERSON_COLUMNS)
    .where('id', 'in', ids)
    .execute();
}

/** Someone Deskside has seen with the agent role: the assignee list. */
export type AgentRow = Pick<Selectable<PeopleTable>, 'id' | 'login' | 'display_name'>;

export async function listAgents(db: Kysely<DB>): Promise<AgentRow[]> {
  return db.selectFrom('people').select(['id', 'login', 'display_name']).where('is_agent', '=', 1).orderBy('display_name').orderBy('login').execute();
}

/** Whether Deskside last saw this person as an agent (the people table's flag). */
export async function agentFlagOf(db: Kysely<DB>, personId: number): Promise<number> {
  const row = await db.selectFrom('people').select('is_agent').where('id', '=', personId).executeTakeFirst();
  return row?.is_agent ?? 0;
}

/** Keep the assignee list true to what the directory says about this person now. */
export async function setAgentFlag(db: Kysely<DB>, personId: number, isAgent: boolean): Promise<void> {
  await db.updateTable('people').set({ is_agent: isAgent ? 1 : 0 }).where('id', '=', personId).execute();
}

/**
 * People Deskside knows whose name contains, login contains or e-mail starts with every
 * word; by name. Reads the whole people table (tens of thousands of rows at most), so it
 * serves an agent's search, never a list page.
 */
export async function searchKnownPeople(db: Kysely<DB>, dialect: DialectName, words: string[], limit: number): Promise<PersonRow[]> {
  if (words.length === 0) return [];
  let qb = db.selectFrom('people').select(PERSON_COLUMNS);
  for (const w of words) {
    qb = qb.where((eb) => eb.or([textLike('display_name', w, 'contains'), textLike('login_key', w.toLowerCase(), 'contains'), textLike('email', w, 'starts')]));
  }
  return paged(qb.orderBy('display_name').orderBy('login_key'), dialect, limit, 0).execute();
}

/** The people with these login keys (those who have signed in), with their agent flag. */
export async function findPeopleByKeys(db: Kysely<DB>, keys: string[]): Promise<(PersonRow & { is_agent: number })[]> {
  const unique = [...new Set(keys)];
  const out: (PersonRow & { is_agent: number })[] = [];
  // Chunked under SQL Server's parameter limit: a directory group may have thousands of members.
  for (let i = 0; i < unique.length; i += 1000) {
    out.push(...(await db.selectFrom('people').select([...PERSON_COLUMNS, 'is_agent']).where('login_key', 'in', unique.slice(i, i + 1000)).execute()));
  }
  return out;
}
