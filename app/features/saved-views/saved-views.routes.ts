import { Router, type Response } from 'express';
import type { Policy } from '../../access/policy';
import type { Database } from '../../db/database';
import { formOf } from '../../web/form';
import { assertCan, requireCan } from '../../web/guards';
import { HttpError, notFound } from '../../web/http-error';
import { viewerOf } from '../../web/viewer';
import type { FieldErrors } from '../shared/form-values';
import { readViewForm, removeView, saveView, VIEW_LIMITS, type ViewForm } from './saved-views.service';

/**
 * POST /views               agents: save the queue's filters and sort as a named tab (admins may share it)
 * POST /views/:id/delete    the owner (or, for a shared view, an admin) removes it
 */
export function savedViewRoutes(deps: { database: Database; policy: Policy }): Router {
  const { database, policy } = deps;
  const router = Router();
  const agents = requireCan(policy, 'views.save');

  const actorOf = (res: Response) => {
    const v = viewerOf(res);
    return { personId: v.personId!, canShare: policy.can(v, 'views.share') };
  };

  function renderForm(res: Response, form: ViewForm, errors: FieldErrors) {
    res.status(400).render('views/new', { title: 'Error: Save a view', form, errors, limits: VIEW_LIMITS });
  }

  router.post('/views', agents, async (req, res) => {
    const form = readViewForm(formOf(req));
    if (form.shared) assertCan(policy, req, res, 'views.share', undefined, 'Only administrators can share a view with every agent.');
    const result = await saveView(database, actorOf(res), form);
    if (result.kind === 'invalid') return renderForm(res, form, result.errors);
    res.redirect(303, `/tickets?${result.query ? `${result.query}&` : ''}saved=${result.id}`);
  });

  router.post('/views/:id/delete', agents, async (req, res) => {
    const raw = String(req.params.id);
    if (!/^\d{1,9}$/.test(raw)) throw notFound('There is no such saved view.');
    const outcome = await removeView(database, actorOf(res), Number(raw));
    if (outcome === 'not-found') throw notFound('There is no such saved view (it may have been deleted already).');
    if (outcome === 'forbidden') throw new HttpError(403, 'forbidden: views.delete', 'Only administrators can delete a view shared with every agent.');
    res.redirect(303, '/tickets?deleted=1');
  });

  return router;
}
