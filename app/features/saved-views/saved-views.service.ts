import type { Database } from '../../db/database';
import { nowIso } from '../../db/values';
import { oneLine, text, type FieldErrors } from '../shared/form-values';
import { FilterError, parseListParams, queryObject, viewQuery } from '../tickets/tickets.filters';
import { deleteView, getView, insertView, listViewsFor, type SavedViewRow } from './saved-views.queries';

export const VIEW_LIMITS = { name: 60, query: 1000, perPerson: 20 } as const;

/** Who is saving or deleting: the owner, and whether they may share with every agent. */
export interface ViewActor {
  personId: number;
  canShare: boolean;
}

export interface ViewForm {
  name: string;
  /** The list's query string, as the queue page had it. */
  query: string;
  shared: boolean;
}

export function readViewForm(body: Record<string, unknown>): ViewForm {
  return { name: oneLine(body.name), query: text(body.query).trim().replace(/^\?/, ''), shared: body.shared === 'on' || body.shared === 'true' };
}

export function viewsFor(database: Database, personId: number): Promise<SavedViewRow[]> {
  return listViewsFor(database.db, personId);
}

export type SaveResult = { kind: 'ok'; id: number; query: string } | { kind: 'invalid'; errors: FieldErrors };

/**
 * Save the list's filters and sort under a name. The query is checked as the queue would
 * check it and kept in its canonical form (no page or page size), so the tab shows as
 * current whenever the queue shows that list. Names are unique per person, ignoring case.
 */
export async function saveView(database: Database, actor: ViewActor, form: ViewForm): Promise<SaveResult> {
  const errors: FieldErrors = {};
  if (!form.name) errors.name = 'Give the view a name, for example “Printers this week”';
  else if (form.name.length > VIEW_LIMITS.name) errors.name = `Keep the name to ${VIEW_LIMITS.name} characters or fewer (it is ${form.name.length})`;
  if (form.shared && !actor.canShare) errors.shared = 'Only administrators can share a view with every agent';
  let query = '';
  const defaults = { status: 'active' as const };
  if (form.query.length > VIEW_LIMITS.query) errors.query = 'These filters are too long to save';
  else {
    try {
      query = viewQuery(parseListParams(queryObject(form.query), defaults), defaults);
    } catch (err) {
      if (!(err instanceof FilterError)) throw err;
      errors.query = `These filters cannot be saved: ${err.message}`;
    }
  }
  const existing = await listViewsFor(database.db, actor.personId);
  const own = existing.filter((v) => v.owner_id === actor.personId);
  if (form.name && own.some((v) => v.name.toLowerCase() === form.name.toLowerCase())) errors.name = `You already have a view called “${form.name}”`;
  else if (own.length >= VIEW_LIMITS.perPerson) errors.name = `You have ${VIEW_LIMITS.perPerson} saved views, the most there can be; delete one first`;
  if (Object.keys(errors).length) return { kind: 'invalid', errors };
  const id = await insertView(database.db, database.dialect, { ownerId: actor.personId, name: form.name, query, shared: form.shared, at: nowIso() });
  return { kind: 'ok', id, query };
}

/** Owners delete their views; a shared view may also be deleted by anyone who may share. */
export async function removeView(database: Database, actor: ViewActor, id: number): Promise<'ok' | 'not-found' | 'forbidden'> {
  const v = await getView(database.db, id);
  if (!v) return 'not-found';
  if (v.owner_id !== actor.personId && !(v.shared === 1 && actor.canShare)) return v.shared === 1 ? 'forbidden' : 'not-found';
  return (await deleteView(database.db, id)) ? 'ok' : 'not-found';
}
