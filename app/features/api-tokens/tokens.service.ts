import type { Role } from '../../access/roles';
import type { Database } from '../../db/database';
import type { ApiTokenRole, ApiTokenScope } from '../../db/schema';
import { toDate } from '../../db/values';
import { randomToken, tokenDigest } from '../../signing';
import { oneLine, text, type FieldErrors } from '../shared/form-values';
import { findTokenByHash, insertToken, listTokensOf, revokeToken, takeRateSlots, type TokenRow, type TokenWithPerson } from './tokens.queries';

/**
 * Personal access tokens for the JSON API (`Authorization: Bearer dsk_…`). A token is
 * 256 random bits, shown once; the database keeps its SHA-256, as for sessions. It acts
 * for its person, never beyond `role` (requester: their own tickets; agent: the queue as
 * well), and with scope `read` only reads. Whether the person still holds that role is
 * decided on every request from the directory (cached), like a session's roles.
 */

export const TOKEN_PREFIX = 'dsk_';
const TOKEN_SHAPE = /^dsk_[A-Za-z0-9_-]{43}$/;

/** How long a new token may live, in days; a year at most. */
export const EXPIRY_CHOICES = [7, 30, 90, 180, 365] as const;
export const DEFAULT_EXPIRY_DAYS = 90;
export const TOKEN_NAME_MAX = 100;

export const SCOPE_LABELS: Record<ApiTokenScope, string> = {
  read: 'Read only',
  'read-write': 'Read and write',
};

export const ROLE_LABELS: Record<ApiTokenRole, string> = {
  requester: 'As a requester: my own tickets',
  agent: 'As an agent: the whole queue',
};

export interface TokenForm {
  name: string;
  scope: string;
  role: string;
  days: string;
}

export function readTokenForm(body: Record<string, unknown>): TokenForm {
  return { name: oneLine(body.name), scope: text(body.scope).trim(), role: text(body.role).trim() || 'requester', days: text(body.days).trim() || String(DEFAULT_EXPIRY_DAYS) };
}

export type CreateResult = { kind: 'ok'; token: string; row: TokenRow } | { kind: 'invalid'; errors: FieldErrors };

/**
 * A new token for `personId`. `roles`: what the person holds now; a token can act as an
 * agent only for an agent. The token itself is in the result and nowhere else.
 */
export async function createToken(database: Database, personId: number, roles: ReadonlySet<Role>, form: TokenForm, now = new Date()): Promise<CreateResult> {
  const errors: FieldErrors = {};
  if (!form.name) errors.name = 'Name the token after what will use it, e.g. “Nightly backup check”';
  else if (form.name.length > TOKEN_NAME_MAX) errors.name = `Keep the name to ${TOKEN_NAME_MAX} characters or fewer (it is ${form.name.length})`;
  if (form.scope !== 'read' && form.scope !== 'read-write') errors.scope = 'Choose what the token may do';
  const agent = roles.has('agent');
  if (form.role !== 'requester' && !(form.role === 'agent' && agent)) errors.role = agent ? 'Choose whose tickets the token works with' : 'Only agents can make a token that works with the queue';
  const days = Number(form.days);
  if (!(EXPIRY_CHOICES as readonly number[]).includes(days) || !/^\d+$/.test(form.days)) errors.days = `Choose how long the token lasts (a year at most)`;
  if (Object.keys(errors).length) return { kind: 'invalid', errors };
  const token = TOKEN_PREFIX + randomToken();
  const at = now.toISOString();
  const expiresAt = new Date(now.getTime() + days * 86_400_000).toISOString();
  const scope = form.scope as ApiTokenScope;
  const role = form.role as ApiTokenRole;
  const hint = token.slice(0, TOKEN_PREFIX.length + 4);
  const id = await database.write((trx) => insertToken(trx, database.dialect, { personId, name: form.name, tokenHash: tokenDigest(token), hint, scope, role, at, expiresAt }));
  return {
    kind: 'ok',
    token,
    row: { id, person_id: personId, name: form.name, hint, scope, role, created_at: at, expires_at: expiresAt, last_used_at: null, revoked_at: null, revoked_by: null },
  };
}

export type TokenState = 'active' | 'expired' | 'revoked';

export function tokenState(t: Pick<TokenRow, 'revoked_at' | 'expires_at'>, now = new Date()): TokenState {
  if (t.revoked_at !== null) return 'revoked';
  return toDate(t.expires_at)!.getTime() <= now.getTime() ? 'expired' : 'active';
}

export type Authentication = { kind: 'ok'; token: TokenWithPerson } | { kind: 'invalid'; reason: 'malformed' | 'unknown' | Exclude<TokenState, 'active'> };

/** The live token a request's `Authorization: Bearer …` names. */
export async function authenticate(database: Database, presented: string, now = new Date()): Promise<Authentication> {
  if (!TOKEN_SHAPE.test(presented)) return { kind: 'invalid', reason: 'malformed' };
  const token = await findTokenByHash(database.db, tokenDigest(presented));
  if (!token) return { kind: 'invalid', reason: 'unknown' };
  const state = tokenState(token, now);
  if (state === 'expired' || state === 'revoked') return { kind: 'invalid', reason: state };
  return { kind: 'ok', token };
}

export type RateVerdict = { ok: true } | { ok: false; retryAfterSeconds: number };

const MINUTE = 60_000;

interface Held {
  window: number;
  /** Requests this process reserved in the token's row and has not used yet. */
  left: number;
  /** The row had no room left this window. */
  full: boolean;
  reserving?: Promise<void>;
}

/** Per database (tests run several apps in one process), per token: what this process holds. */
const heldBy = new WeakMap<Database, Map<number, Held>>();

/**
 * How many requests a process reserves at once: a tenth of a second's worth at the limit,
 * at most 10, so a busy token costs one write per ten requests instead of one each. A
 * process may end a minute holding up to `chunk - 1` unused, so with P processes the
 * limit is met between `perMinute - P × (chunk - 1)` and `perMinute`; a small limit
 * (under 120 a minute) is reserved one at a time and so is exact.
 */
export function rateChunk(perMinute: number): number {
  return Math.max(1, Math.min(10, Math.floor(perMinute / 60)));
}

/**
 * Count a request against the token's per-minute limit (DESKSIDE_API_RATE_LIMIT), shared
 * by every process through the token's row (which also records when it was last used).
 */
export async function takeRequest(database: Database, tokenId: number, perMinute: number, now = Date.now()): Promise<RateVerdict> {
  const window = Math.floor(now / MINUTE);
  let byToken = heldBy.get(database);
  if (!byToken) heldBy.set(database, (byToken = new Map<number, Held>()));
  let h = byToken.get(tokenId);
  if (!h || h.window !== window) {
    if (byToken.size > 10_000) for (const [id, old] of byToken) if (old.window !== window) byToken.delete(id);
    byToken.set(tokenId, (h = { window, left: 0, full: false }));
  }
  const held = h;
  const chunk = rateChunk(perMinute);
  const at = new Date(now).toISOString();
  for (;;) {
    if (held.left > 0) {
      held.left--;
      return { ok: true };
    }
    if (held.full) return { ok: false, retryAfterSeconds: Math.max(1, Math.ceil(((window + 1) * MINUTE - now) / 1000)) };
    // One reservation at a time per token; requests arriving meanwhile wait for it and share it.
    held.reserving ??= (async () => {
      for (const n of chunk > 1 ? [chunk, 1] : [1]) {
        if (await database.write((trx) => takeRateSlots(trx, tokenId, window, n, perMinute, at))) {
          held.left += n;
          return;
        }
      }
      held.full = true;
    })().finally(() => {
      held.reserving = undefined;
    });
    await held.reserving;
  }
}

export async function tokensOf(database: Database, personId: number): Promise<TokenRow[]> {
  return listTokensOf(database.db, personId);
}

/** Revoke a token; `ownerId`: only if it is theirs. Whether it was live and now is not. */
export async function revoke(database: Database, tokenId: number, byPersonId: number, ownerId?: number): Promise<boolean> {
  return database.write((trx) => revokeToken(trx, tokenId, byPersonId, new Date().toISOString(), ownerId));
}
