import type { Database } from '../../db/database';
import { nowIso } from '../../db/values';
import { cleanText, type FieldErrors } from '../shared/form-values';
import { listTeams } from '../teams/teams.queries';
import { findCategoryByName, insertCategory, maxSortOrder, updateCategory } from './categories.queries';

export interface CategoryForm {
  name: string;
  description: string;
  sortOrder: string;
  active: boolean;
  /** The team id new tickets go to, or '' for none. */
  defaultTeam: string;
}

export function readCategoryForm(body: Record<string, unknown>): CategoryForm {
  return {
    name: cleanText(body.name).replace(/\s+/g, ' '),
    description: cleanText(body.description).replace(/\s+/g, ' '),
    sortOrder: typeof body.sortOrder === 'string' ? body.sortOrder.trim() : '',
    active: body.active === 'on' || body.active === 'true',
    defaultTeam: typeof body.defaultTeam === 'string' ? body.defaultTeam.trim() : '',
  };
}

async function check(database: Database, form: CategoryForm, selfId?: number): Promise<FieldErrors> {
  const errors: FieldErrors = {};
  if (!form.name) errors.name = 'Enter a name for the category';
  else if (form.name.length > 80) errors.name = 'Keep the name to 80 characters or fewer';
  else {
    const clash = await findCategoryByName(database.db, form.name);
    if (clash && clash.id !== selfId) errors.name = `There is already a category called “${clash.name}”`;
  }
  if (form.description.length > 400) errors.description = 'Keep the description to 400 characters or fewer';
  if (form.sortOrder && !/^\d{1,6}$/.test(form.sortOrder)) errors.sortOrder = 'Position must be a whole number, e.g. 10';
  if (form.defaultTeam && form.defaultTeam !== 'none') {
    const teams = await listTeams(database.db, { activeOnly: true });
    if (!teams.some((t) => String(t.id) === form.defaultTeam)) errors.defaultTeam = 'Choose one of the listed teams';
  }
  return errors;
}

function teamOf(form: CategoryForm): number | null {
  return form.defaultTeam && form.defaultTeam !== 'none' ? Number(form.defaultTeam) : null;
}

/** A new category goes to the end of the list unless a position is given. */
export async function addCategory(database: Database, form: CategoryForm): Promise<FieldErrors> {
  const errors = await check(database, form);
  if (Object.keys(errors).length) return errors;
  const sortOrder = form.sortOrder ? Number(form.sortOrder) : (await maxSortOrder(database.db)) + 10;
  await insertCategory(database.db, { name: form.name, description: form.description || null, sortOrder, at: nowIso(), defaultTeamId: teamOf(form) });
  return {};
}

/** Rename, describe, reorder or retire. Retired categories keep their tickets but leave the new-ticket form. */
export async function changeCategory(database: Database, id: number, form: CategoryForm): Promise<FieldErrors | null> {
  const errors = await check(database, form, id);
  if (Object.keys(errors).length) return errors;
  const ok = await updateCategory(database.db, id, { name: form.name, description: form.description || null, sortOrder: form.sortOrder ? Number(form.sortOrder) : 0, active: form.active, defaultTeamId: teamOf(form) });
  return ok ? {} : null;
}
