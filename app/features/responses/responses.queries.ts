import type { Kysely, Selectable } from 'kysely';
import type { DB, CannedResponsesTable } from '../../db/schema';

export type ResponseRow = Pick<Selectable<CannedResponsesTable>, 'id' | 'title' | 'body' | 'active'>;

/** Canned replies by title; retired ones too unless `activeOnly`. */
export async function listResponses(db: Kysely<DB>, opts: { activeOnly: boolean }): Promise<ResponseRow[]> {
  let qb = db.selectFrom('canned_responses').select(['id', 'title', 'body', 'active']);
  if (opts.activeOnly) qb = qb.where('active', '=', 1);
  return qb.orderBy('title').orderBy('id').execute();
}

export async function getResponse(db: Kysely<DB>, id: number): Promise<ResponseRow | undefined> {
  return db.selectFrom('canned_responses').select(['id', 'title', 'body', 'active']).where('id', '=', id).executeTakeFirst();
}

export async function insertResponse(db: Kysely<DB>, r: { title: string; body: string; active: boolean; at: string }): Promise<void> {
  await db.insertInto('canned_responses').values({ title: r.title, body: r.body, active: r.active ? 1 : 0, created_at: r.at, updated_at: r.at }).execute();
}

export async function updateResponse(db: Kysely<DB>, id: number, r: { title: string; body: string; active: boolean; at: string }): Promise<boolean> {
  const res = await db.updateTable('canned_responses').set({ title: r.title, body: r.body, active: r.active ? 1 : 0, updated_at: r.at }).where('id', '=', id).executeTakeFirst();
  return Number(res.numUpdatedRows) === 1;
}
