import type { Kysely, Selectable, Transaction } from 'kysely';
import type { DialectName } from '../../db/dialect';
import { insertReturningId, paged } from '../../db/portable';
import type { ApiTokenRole, ApiTokenScope, ApiTokensTable, DB } from '../../db/schema';

type Q = Kysely<DB> | Transaction<DB>;

export type TokenRow = Omit<Selectable<ApiTokensTable>, 'token_hash' | 'rate_window' | 'rate_count'>;

/** A token with the person it acts for: what a request carrying it is identified by. */
export interface TokenWithPerson extends TokenRow {
  login: string;
  login_key: string;
  display_name: string | null;
  email: string | null;
  is_agent: number;
}

/** A token as the admin page lists it, with whose it is and who revoked it. */
export interface TokenListRow extends TokenRow {
  login: string;
  display_name: string | null;
  revoked_by_login: string | null;
}

const TOKEN_COLUMNS = [
  'api_tokens.id',
  'api_tokens.person_id',
  'api_tokens.name',
  'api_tokens.hint',
  'api_tokens.scope',
  'api_tokens.role',
  'api_tokens.created_at',
  'api_tokens.expires_at',
  'api_tokens.last_used_at',
  'api_tokens.revoked_at',
  'api_tokens.revoked_by',
] as const;

export interface NewToken {
  personId: number;
  name: string;
  tokenHash: string;
  hint: string;
  scope: ApiTokenScope;
  role: ApiTokenRole;
  at: string;
  expiresAt: string;
}

export async function insertToken(db: Q, dialect: DialectName, t: NewToken): Promise<number> {
  return insertReturningId(
    db.insertInto('api_tokens').values({
      person_id: t.personId,
      name: t.name,
      token_hash: t.tokenHash,
      hint: t.hint,
      scope: t.scope,
      role: t.role,
      created_at: t.at,
      expires_at: t.expiresAt,
      last_used_at: null,
      revoked_at: null,
      revoked_by: null,
    }),
    dialect,
  );
}

/** The token with this hash and its person, whatever its state (the caller checks expiry and revocation). */
export async function findTokenByHash(db: Q, tokenHash: string): Promise<TokenWithPerson | undefined> {
  return db
    .selectFrom('api_tokens')
    .innerJoin('people', 'people.id', 'api_tokens.person_id')
    .select([...TOKEN_COLUMNS, 'people.login', 'people.login_key', 'people.display_name', 'people.email', 'people.is_agent'])
    .where('api_tokens.token_hash', '=', tokenHash)
    .executeTakeFirst();
}

/** One person's tokens, newest first. */
export async function listTokensOf(db: Q, personId: number): Promise<TokenRow[]> {
  return db.selectFrom('api_tokens').select(TOKEN_COLUMNS).where('api_tokens.person_id', '=', personId).orderBy('api_tokens.id', 'desc').execute();
}

/** Everyone's tokens, newest first, a page at a time. */
export async function listAllTokens(db: Q, dialect: DialectName, limit: number, offset: number): Promise<TokenListRow[]> {
  return paged(
    db
      .selectFrom('api_tokens')
      .innerJoin('people', 'people.id', 'api_tokens.person_id')
      .leftJoin('people as revoker', 'revoker.id', 'api_tokens.revoked_by')
      .select([...TOKEN_COLUMNS, 'people.login', 'people.display_name', 'revoker.login as revoked_by_login'])
      .orderBy('api_tokens.id', 'desc'),
    dialect,
    limit,
    offset,
  ).execute();
}

export async function countTokens(db: Q): Promise<number> {
  const r = await db.selectFrom('api_tokens').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirst();
  return Number(r?.n ?? 0);
}

/** Revoke a token not yet revoked; `ownerId` limits it to that person's tokens. Returns whether it did. */
export async function revokeToken(db: Q, id: number, by: number, at: string, ownerId?: number): Promise<boolean> {
  let qb = db.updateTable('api_tokens').set({ revoked_at: at, revoked_by: by }).where('id', '=', id).where('revoked_at', 'is', null);
  if (ownerId !== undefined) qb = qb.where('person_id', '=', ownerId);
  const r = await qb.executeTakeFirst();
  return Number(r.numUpdatedRows) === 1;
}

/**
 * Reserve `n` requests of the token's per-minute limit and note when it was used, in one
 * statement: it succeeds only while the count for `window` plus `n` stays within `max` (or
 * a new window has begun), so however many processes race, at most `max` requests a minute
 * are reserved. Returns whether the reservation was made.
 */
export async function takeRateSlots(db: Q, id: number, window: number, n: number, max: number, at: string): Promise<boolean> {
  const r = await db
    .updateTable('api_tokens')
    .set((eb) => ({
      rate_count: eb.case().when('rate_window', '=', window).then(eb('rate_count', '+', n)).else(n).end(),
      rate_window: window,
      last_used_at: at,
    }))
    .where('id', '=', id)
    .where((eb) => eb.or([eb('rate_window', '<>', window), eb('rate_count', '<=', max - n)]))
    .executeTakeFirst();
  return Number(r.numUpdatedRows) === 1;
}
