import type { Kysely, Selectable } from 'kysely';
import type { DialectName } from '../../db/dialect';
import { insertReturningId } from '../../db/portable';
import type { DB, SavedViewsTable } from '../../db/schema';

export type SavedViewRow = Pick<Selectable<SavedViewsTable>, 'id' | 'owner_id' | 'name' | 'query' | 'shared'>;

const COLUMNS = ['id', 'owner_id', 'name', 'query', 'shared'] as const;

/** The views an agent has as tabs: their own, then those shared with every agent; oldest first. */
export async function listViewsFor(db: Kysely<DB>, ownerId: number): Promise<SavedViewRow[]> {
  return db
    .selectFrom('saved_views')
    .select(COLUMNS)
    .where((eb) => eb.or([eb('owner_id', '=', ownerId), eb('shared', '=', 1)]))
    .orderBy('shared')
    .orderBy('id')
    .execute();
}

export async function getView(db: Kysely<DB>, id: number): Promise<SavedViewRow | undefined> {
  return db.selectFrom('saved_views').select(COLUMNS).where('id', '=', id).executeTakeFirst();
}

export async function insertView(db: Kysely<DB>, dialect: DialectName, v: { ownerId: number; name: string; query: string; shared: boolean; at: string }): Promise<number> {
  return insertReturningId(db.insertInto('saved_views').values({ owner_id: v.ownerId, name: v.name, query: v.query, shared: v.shared ? 1 : 0, created_at: v.at }), dialect);
}

export async function deleteView(db: Kysely<DB>, id: number): Promise<boolean> {
  const r = await db.deleteFrom('saved_views').where('id', '=', id).executeTakeFirst();
  return Number(r.numDeletedRows) === 1;
}
