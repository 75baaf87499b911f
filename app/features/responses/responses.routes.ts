import { Router, type Response } from 'express';
import type { Policy } from '../../access/policy';
import type { Database } from '../../db/database';
import { formOf } from '../../web/form';
import { assertCan, requireCan } from '../../web/guards';
import { notFound } from '../../web/http-error';
import { viewerOf } from '../../web/viewer';
import type { FieldErrors } from '../shared/form-values';
import { getTicket } from '../tickets/tickets.queries';
import { addResponse, changeResponse, fillPlaceholders, PLACEHOLDERS, placeholderValues, readResponseForm, RESPONSE_LIMITS, responseById, responsesFor, type ResponseForm } from './responses.service';

/**
 * GET  /admin/responses               admins: every canned reply
 * POST /admin/responses               add one
 * POST /admin/responses/:id           change its title, text or whether agents are offered it
 * GET  /tickets/:id/responses/:rid    agents: the reply filled in for this ticket (JSON), for the reply box's script
 */
export function responseRoutes(deps: { database: Database; policy: Policy }): Router {
  const { database, policy } = deps;
  const router = Router();
  const admins = requireCan(policy, 'responses.manage');

  async function render(res: Response, status: number, extra: { newForm?: ResponseForm; newErrors?: FieldErrors; editId?: number; editForm?: ResponseForm; editErrors?: FieldErrors; saved?: string } = {}) {
    res.status(status).render('admin/responses', {
      title: status >= 400 ? 'Error: Canned replies' : 'Canned replies',
      responses: await responsesFor(database, { activeOnly: false }),
      placeholders: PLACEHOLDERS,
      limits: RESPONSE_LIMITS,
      newForm: extra.newForm ?? { title: '', body: '', active: true },
      newErrors: extra.newErrors ?? {},
      editId: extra.editId,
      editForm: extra.editForm,
      editErrors: extra.editErrors ?? {},
      saved: extra.saved,
    });
  }

  const idParam = (raw: string, what: string) => {
    if (!/^\d{1,9}$/.test(raw)) throw notFound(`There is no such ${what}.`);
    return Number(raw);
  };

  router.get('/admin/responses', admins, async (req, res) => {
    await render(res, 200, { saved: req.query.saved === '1' ? 'Canned replies saved.' : undefined });
  });

  router.post('/admin/responses', admins, async (req, res) => {
    const form = readResponseForm(formOf(req));
    const errors = await addResponse(database, form);
    if (Object.keys(errors).length) return render(res, 400, { newForm: form, newErrors: errors });
    res.redirect(303, '/admin/responses?saved=1');
  });

  router.post('/admin/responses/:id', admins, async (req, res) => {
    const id = idParam(String(req.params.id), 'canned reply');
    const form = readResponseForm(formOf(req));
    const errors = await changeResponse(database, id, form);
    if (errors === null) throw notFound('There is no such canned reply.');
    if (Object.keys(errors).length) {
      // Keyed by the row's field ids, so the error summary links to the right input.
      const keyed = Object.fromEntries(Object.entries(errors).map(([k, v]) => [`resp-${id}-${k}`, v]));
      return render(res, 400, { editId: id, editForm: form, editErrors: keyed });
    }
    res.redirect(303, '/admin/responses?saved=1');
  });

  router.get('/tickets/:id/responses/:rid', async (req, res) => {
    // Guests are sent to sign in before any ticket is read (decision 0013).
    assertCan(policy, req, res, 'tickets.list');
    const t = await getTicket(database.db, idParam(String(req.params.id), 'ticket'));
    if (!t) throw notFound('There is no such ticket.');
    assertCan(policy, req, res, 'ticket.view', { requesterId: t.requester_id, status: t.status });
    assertCan(policy, req, res, 'responses.use');
    const r = await responseById(database, idParam(String(req.params.rid), 'canned reply'));
    if (!r || !r.active) throw notFound('There is no such canned reply.');
    res.setHeader('Cache-Control', 'no-store');
    res.json({ id: r.id, title: r.title, text: fillPlaceholders(r.body, placeholderValues(t, viewerOf(res))) });
  });

  return router;
}
