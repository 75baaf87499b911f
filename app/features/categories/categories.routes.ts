import { Router } from 'express';
import type { Policy } from '../../access/policy';
import type { Database } from '../../db/database';
import { formOf } from '../../web/form';
import { requireCan } from '../../web/guards';
import { notFound } from '../../web/http-error';
import { listTeams } from '../teams/teams.queries';
import { listCategoriesWithCounts } from './categories.queries';
import { addCategory, changeCategory, readCategoryForm, type CategoryForm } from './categories.service';

/**
 * GET  /admin/categories        every category, with open-ticket counts
 * POST /admin/categories        add one
 * POST /admin/categories/:id    rename, describe, reorder, retire or restore
 */
export function categoryAdminRoutes(deps: { database: Database; policy: Policy }): Router {
  const { database, policy } = deps;
  const router = Router();
  const admins = requireCan(policy, 'admin.view');

  async function render(res: import('express').Response, status: number, extra: { newForm?: CategoryForm; newErrors?: Record<string, string>; editId?: number; editForm?: CategoryForm; editErrors?: Record<string, string>; saved?: string } = {}) {
    res.status(status).render('admin/categories', {
      title: status >= 400 ? 'Error: Categories' : 'Categories',
      categories: await listCategoriesWithCounts(database.db),
      teams: await listTeams(database.db, { activeOnly: false }),
      newForm: extra.newForm ?? { name: '', description: '', sortOrder: '', active: true, defaultTeam: '' },
      newErrors: extra.newErrors ?? {},
      editId: extra.editId,
      editForm: extra.editForm,
      editErrors: extra.editErrors ?? {},
      saved: extra.saved,
    });
  }

  router.get('/admin/categories', admins, async (req, res) => {
    await render(res, 200, { saved: req.query.saved === '1' ? 'Categories saved.' : undefined });
  });

  router.post('/admin/categories', admins, async (req, res) => {
    const form = readCategoryForm(formOf(req));
    const errors = await addCategory(database, form);
    if (Object.keys(errors).length) return render(res, 400, { newForm: form, newErrors: errors });
    res.redirect(303, '/admin/categories?saved=1');
  });

  router.post('/admin/categories/:id', admins, async (req, res) => {
    const raw = String(req.params.id);
    if (!/^\d{1,9}$/.test(raw)) throw notFound('There is no such category.');
    const id = Number(raw);
    const form = readCategoryForm(formOf(req));
    const errors = await changeCategory(database, id, form);
    if (errors === null) throw notFound('There is no such category.');
    if (Object.keys(errors).length) {
      // Keyed by the row's field ids, so the error summary links to the right input.
      const keyed = Object.fromEntries(Object.entries(errors).map(([k, v]) => [`cat-${id}-${k === 'sortOrder' ? 'order' : k === 'description' ? 'desc' : k === 'defaultTeam' ? 'team' : k}`, v]));
      return render(res, 400, { editId: id, editForm: form, editErrors: keyed });
    }
    res.redirect(303, '/admin/categories?saved=1');
  });

  return router;
}
