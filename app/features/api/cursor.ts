import { NO_DUE } from '../../db/values';
import type { ListAnchor } from '../tickets/tickets.queries';
import { ApiProblem } from './problem';

/**
 * The `cursor` of `GET /api/v1/tickets`: where the last page ended (the last ticket's sort
 * keys, as the queue's previous/next and the CSV export seek from them) and the sort it
 * was for, base64url JSON. Opaque to callers; not a secret (it only names a place in a
 * list the caller may read anyway).
 */
export function encodeCursor(sort: string, last: ListAnchor): string {
  const due = last.dueAt && last.dueAt !== NO_DUE ? last.dueAt : null;
  return Buffer.from(JSON.stringify([sort, last.id, last.updatedAt, last.priority, due])).toString('base64url');
}

const isInstant = (v: unknown): v is string => typeof v === 'string' && v.length <= 40 && !Number.isNaN(Date.parse(v));

/** The anchor and the sort a cursor was made for (the caller compares the sort with the list's). */
export function decodeCursor(text: string): { sort: string; anchor: ListAnchor } {
  const bad = () => {
    const detail = 'Not a cursor this API gave; use the next link as it is.';
    return new ApiProblem('invalid-parameters', detail, { errors: [{ parameter: 'cursor', detail }] });
  };
  let parsed: unknown;
  try {
    parsed = text.length <= 400 && /^[A-Za-z0-9_-]+$/.test(text) ? JSON.parse(Buffer.from(text, 'base64url').toString('utf8')) : undefined;
  } catch {
    parsed = undefined;
  }
  if (!Array.isArray(parsed) || parsed.length !== 5) throw bad();
  const [s, id, updatedAt, priority, due] = parsed as unknown[];
  if (typeof s !== 'string' || typeof id !== 'number' || !Number.isSafeInteger(id) || !isInstant(updatedAt) || typeof priority !== 'number' || !Number.isSafeInteger(priority)) throw bad();
  if (due !== null && !isInstant(due)) throw bad();
  return { sort: s, anchor: { id, updatedAt, priority, dueAt: due ?? NO_DUE } };
}
