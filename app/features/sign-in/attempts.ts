import type { Kysely } from 'kysely';
import type { DB } from '../../db/schema';
import { dialectOf, insertReturningId } from '../../db/portable';
import { toDate } from '../../db/values';

export interface AttemptLimit {
  /** `account:corp\alice`, `address:10.1.2.3` */
  subject: string;
  /** Attempts allowed within the window (successful ones are forgotten). */
  max: number;
}

export type Reservation = { ok: true; ids: number[] } | { ok: false; subject: string; retryAt: Date };

/**
 * Rate limits for password sign-in, shared by every process and server through the
 * database. An attempt is *reserved* before the password is checked: a row per subject,
 * then the rows up to and including ours are counted. Rows are numbered in insertion
 * order, so of N simultaneous attempts exactly the first `max` proceed, however the
 * requests interleave (a count-then-insert would let them all through). A refused
 * attempt removes its rows; a successful one removes the account's rows (and its own
 * address row), so only failures count against anyone.
 */
export class SignInAttempts {
  constructor(
    private readonly db: Kysely<DB>,
    private readonly windowMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  async reserve(limits: AttemptLimit[]): Promise<Reservation> {
    const now = this.now();
    const cutoff = new Date(now - this.windowMs).toISOString();
    const at = new Date(now).toISOString();
    const dialect = dialectOf(this.db);
    await this.db.deleteFrom('sign_in_attempts').where('attempted_at', '<=', cutoff).execute();
    const ids: number[] = [];
    for (const l of limits) ids.push(await insertReturningId(this.db.insertInto('sign_in_attempts').values({ subject: l.subject, attempted_at: at }), dialect));
    for (let i = 0; i < limits.length; i++) {
      const rows = await this.db
        .selectFrom('sign_in_attempts')
        .select(['id', 'attempted_at'])
        .where('subject', '=', limits[i].subject)
        .where('attempted_at', '>', cutoff)
        .where('id', '<=', ids[i])
        .orderBy('id')
        .execute();
      if (rows.length > limits[i].max) {
        await this.release(ids);
        const others = rows.filter((r) => r.id !== ids[i]).map((r) => toDate(r.attempted_at)!.getTime()).sort((a, b) => a - b);
        // Enough of the earlier attempts must age out for one more to fit.
        const k = others.length - limits[i].max;
        return { ok: false, subject: limits[i].subject, retryAt: new Date((others[k] ?? now) + this.windowMs) };
      }
    }
    return { ok: true, ids };
  }

  /** Forget these attempts (refused before trying, or succeeded). */
  async release(ids: number[]): Promise<void> {
    if (ids.length) await this.db.deleteFrom('sign_in_attempts').where('id', 'in', ids).execute();
  }

  /** After a correct password: the account's earlier failures no longer count. */
  async succeeded(ids: number[], accountSubject: string): Promise<void> {
    await this.release(ids);
    await this.db.deleteFrom('sign_in_attempts').where('subject', '=', accountSubject).execute();
  }
}
