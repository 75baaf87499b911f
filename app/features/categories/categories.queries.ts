import type { Kysely, Transaction } from 'kysely';
import type { DB } from '../../db/schema';

export interface CategoryRow {
  id: number;
  name: string;
  description: string | null;
  active: number;
  default_team_id: number | null;
}

/** Categories in display order; retired ones too unless `activeOnly` (old tickets still name them). */
export async function listCategories(db: Kysely<DB>, opts: { activeOnly: boolean }): Promise<CategoryRow[]> {
  let qb = db.selectFrom('categories').select(['id', 'name', 'description', 'active', 'default_team_id']);
  if (opts.activeOnly) qb = qb.where('active', '=', 1);
  return qb.orderBy('sort_order').orderBy('name').execute();
}

export interface CategoryAdminRow {
  id: number;
  name: string;
  description: string | null;
  sort_order: number;
  active: number;
  default_team_id: number | null;
  ticket_count: number;
}

export async function listCategoriesWithCounts(db: Kysely<DB>): Promise<CategoryAdminRow[]> {
  const rows = await db
    .selectFrom('categories')
    .select((eb) => [
      'categories.id',
      'categories.name',
      'categories.description',
      'categories.sort_order',
      'categories.active',
      'categories.default_team_id',
      eb.selectFrom('tickets').whereRef('tickets.category_id', '=', 'categories.id').where('tickets.active', '=', 1).select(eb.fn.countAll<number>().as('n')).as('ticket_count'),
    ])
    .orderBy('categories.sort_order')
    .orderBy('categories.name')
    .execute();
  return rows.map((r) => ({ ...r, ticket_count: Number(r.ticket_count ?? 0) }));
}

export async function findCategoryByName(db: Kysely<DB>, name: string): Promise<{ id: number; name: string } | undefined> {
  const all = await db.selectFrom('categories').select(['id', 'name']).execute();
  // Few rows; comparing here keeps "Printing" and "printing" one category on every engine.
  return all.find((c) => c.name.toLowerCase() === name.toLowerCase());
}

export async function insertCategory(db: Kysely<DB>, c: { name: string; description: string | null; sortOrder: number; at: string; defaultTeamId?: number | null }): Promise<void> {
  await db.insertInto('categories').values({ name: c.name, description: c.description, sort_order: c.sortOrder, active: 1, default_team_id: c.defaultTeamId ?? null, created_at: c.at }).execute();
}

/** The team that takes new tickets in this category, if it names one that is still active. */
export async function categoryDefaultTeam(db: Kysely<DB> | Transaction<DB>, categoryId: number): Promise<number | null> {
  const r = await db
    .selectFrom('categories')
    .innerJoin('teams', 'teams.id', 'categories.default_team_id')
    .select('teams.id')
    .where('categories.id', '=', categoryId)
    .where('teams.active', '=', 1)
    .executeTakeFirst();
  return r?.id ?? null;
}

export async function updateCategory(db: Kysely<DB>, id: number, c: { name: string; description: string | null; sortOrder: number; active: boolean; defaultTeamId?: number | null }): Promise<boolean> {
  const r = await db
    .updateTable('categories')
    .set({ name: c.name, description: c.description, sort_order: c.sortOrder, active: c.active ? 1 : 0, ...(c.defaultTeamId !== undefined ? { default_team_id: c.defaultTeamId } : {}) })
    .where('id', '=', id)
    .executeTakeFirst();
  return Number(r.numUpdatedRows) === 1;
}

export async function maxSortOrder(db: Kysely<DB>): Promise<number> {
  const r = await db.selectFrom('categories').select((eb) => eb.fn.max('sort_order').as('m')).executeTakeFirst();
  return Number(r?.m ?? 0);
}
