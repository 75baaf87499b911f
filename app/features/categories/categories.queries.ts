import type { Kysely } from 'kysely';
import type { DB } from '../../db/schema';

export interface CategoryRow {
  id: number;
  name: string;
  description: string | null;
  active: number;
}

/** Categories in display order; retired ones too unless `activeOnly` (old tickets still name them). */
export async function listCategories(db: Kysely<DB>, opts: { activeOnly: boolean }): Promise<CategoryRow[]> {
  let qb = db.selectFrom('categories').select(['id', 'name', 'description', 'active']);
  if (opts.activeOnly) qb = qb.where('active', '=', 1);
  return qb.orderBy('sort_order').orderBy('name').execute();
}

export interface CategoryAdminRow {
  id: number;
  name: string;
  description: string | null;
  sort_order: number;
  active: number;
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

export async function insertCategory(db: Kysely<DB>, c: { name: string; description: string | null; sortOrder: number; at: string }): Promise<void> {
  await db.insertInto('categories').values({ name: c.name, description: c.description, sort_order: c.sortOrder, active: 1, created_at: c.at }).execute();
}

export async function updateCategory(db: Kysely<DB>, id: number, c: { name: string; description: string | null; sortOrder: number; active: boolean }): Promise<boolean> {
  const r = await db.updateTable('categories').set({ name: c.name, description: c.description, sort_order: c.sortOrder, active: c.active ? 1 : 0 }).where('id', '=', id).executeTakeFirst();
  return Number(r.numUpdatedRows) === 1;
}

export async function maxSortOrder(db: Kysely<DB>): Promise<number> {
  const r = await db.selectFrom('categories').select((eb) => eb.fn.max('sort_order').as('m')).executeTakeFirst();
  return Number(r?.m ?? 0);
}
