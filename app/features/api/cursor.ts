import type { ListAnchor } from '../tickets/tickets.queries';
import { iso } from './representation';
import { ApiProblem } from './problem';

/**
 * The `cursor` of `GET /api/v1/tickets`: where the last page ended (the last ticket's sort
 * keys) and the sort it was for, base64url JSON. Opaque to callers; not a secret (it only
 * names a place in a list the caller may read anyway).
 */
export function encodeCursor(sort: string, last: { id: number; updated_at: string | Date; priority: number }): string {
  return Buffer.from(JSON.stringify([sort, last.id, typeof last.updated_at === 'string' ? last.updated_at : iso(last.updated_at), last.priority])).toString('base64url');
}

/** The anchor and the sort a cursor was made for (the caller compares the sort with the list's). */
export function decodeCursor(text: string): { sort: string; anchor: ListAnchor } {
  const bad = (detail: string) => new ApiProblem('invalid-parameters', detail, { errors: [{ parameter: 'cursor', detail }] });
  let parsed: unknown;
  try {
    parsed = text.length <= 400 && /^[A-Za-z0-9_-]+$/.test(text) ? JSON.parse(Buffer.from(text, 'base64url').toString('utf8')) : undefined;
  } catch {
    parsed = undefined;
  }
  if (!Array.isArray(parsed) || parsed.length !== 4) throw bad('Not a cursor this API gave; use the next link as it is.');
  const [s, id, updatedAt, priority] = parsed as unknown[];
  if (typeof id !== 'number' || !Number.isSafeInteger(id) || typeof updatedAt !== 'string' || Number.isNaN(Date.parse(updatedAt)) || typeof priority !== 'number' || !Number.isSafeInteger(priority)) {
    throw bad('Not a cursor this API gave; use the next link as it is.');
  }
  if (typeof s !== 'string') throw bad('Not a cursor this API gave; use the next link as it is.');
  return { sort: s, anchor: { id, updatedAt, priority } };
}
