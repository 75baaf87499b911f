import { Router, type Response } from 'express';
import type { Policy } from '../../access/policy';
import type { Database } from '../../db/database';
import { formOf } from '../../web/form';
import { requireCan } from '../../web/guards';
import { viewerOf } from '../../web/viewer';
import { listCategories } from '../categories/categories.queries';
import type { FieldErrors } from '../shared/form-values';
import { PRIORITIES } from '../tickets/ticket-values';
import { WEEKDAYS } from './calendar';
import { fieldId, loadServiceLevelForm, readServiceLevelForm, saveServiceLevels, SPANS_PER_DAY, type ServiceLevelForm } from './service-levels.service';

/**
 * GET  /admin/service-levels   the business calendar and the targets, as one form
 * POST /admin/service-levels   save them (409 when someone else saved first)
 */
export function serviceLevelAdminRoutes(deps: { database: Database; policy: Policy }): Router {
  const { database, policy } = deps;
  const router = Router();
  const admins = requireCan(policy, 'admin.view');

  async function render(res: Response, status: number, extra: { form?: ServiceLevelForm; errors?: FieldErrors; saved?: boolean; conflict?: boolean } = {}) {
    const [form, categories] = await Promise.all([extra.form ? Promise.resolve(extra.form) : loadServiceLevelForm(database), listCategories(database.db, { activeOnly: false })]);
    res.status(status).render('admin/service-levels', {
      title: status >= 400 ? 'Error: Service levels' : 'Service levels',
      form,
      errors: extra.errors ?? {},
      saved: extra.saved ?? false,
      conflict: extra.conflict ?? false,
      categories,
      priorities: PRIORITIES,
      weekdays: WEEKDAYS,
      dayNames: { mon: 'Monday', tue: 'Tuesday', wed: 'Wednesday', thu: 'Thursday', fri: 'Friday', sat: 'Saturday', sun: 'Sunday' },
      spans: SPANS_PER_DAY,
      fieldId,
    });
  }

  router.get('/admin/service-levels', admins, async (req, res) => {
    await render(res, 200, { saved: req.query.saved === '1' });
  });

  router.post('/admin/service-levels', admins, async (req, res) => {
    const form = readServiceLevelForm(formOf(req));
    const categories = await listCategories(database.db, { activeOnly: false });
    const result = await saveServiceLevels(database, viewerOf(res).personId!, form, categories);
    if (result.kind === 'invalid') return render(res, 400, { form, errors: result.errors });
    // Saved by someone else meanwhile: show theirs, say so; re-applying would undo it.
    if (result.kind === 'conflict') return render(res, 409, { conflict: true });
    res.redirect(303, '/admin/service-levels?saved=1');
  });

  return router;
}
