import type { Kysely } from 'kysely';
import { insertIfAbsent } from '../../db/portable';
import type { DB } from '../../db/schema';

/**
 * Leases on background work (table worker_leases): one holder at a time per name, until
 * the lease expires or its holder lets go. A holder that dies simply lets it expire.
 * Each call is one statement, safe when processes on several servers race for it.
 */

/** Take the lease, or extend it if `holder` has it already; true when `holder` now has it. */
export async function claimLease(db: Kysely<DB>, name: string, holder: string, now: Date, ttlMs: number): Promise<boolean> {
  const until = new Date(now.getTime() + ttlMs).toISOString();
  const taken = await db
    .updateTable('worker_leases')
    .set({ holder, expires_at: until })
    .where('name', '=', name)
    .where((eb) => eb.or([eb('expires_at', '<', now.toISOString()), eb('holder', '=', holder)]))
    .executeTakeFirst();
  if (Number(taken.numUpdatedRows) === 1) return true;
  // No row yet (the first claim on this database), or someone else holds it.
  return insertIfAbsent(db, 'worker_leases', { name, holder, expires_at: until }, 'name');
}

/** Let go of the lease early (work done), if `holder` still has it. */
export async function releaseLease(db: Kysely<DB>, name: string, holder: string, now: Date): Promise<void> {
  await db.updateTable('worker_leases').set({ expires_at: now.toISOString() }).where('name', '=', name).where('holder', '=', holder).execute();
}
