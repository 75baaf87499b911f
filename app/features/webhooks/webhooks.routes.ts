import { Router, type Request, type Response } from 'express';
import type { Policy } from '../../access/policy';
import type { Config } from '../../config/schema';
import type { Database } from '../../db/database';
import { formOf } from '../../web/form';
import { requireCan } from '../../web/guards';
import { notFound } from '../../web/http-error';
import { viewerOf } from '../../web/viewer';
import { originOf } from '../api/links';
import type { FieldErrors } from '../shared/form-values';
import { listTeams } from '../teams/teams.queries';
import { PRIORITIES } from '../tickets/ticket-values';
import { WEBHOOK_EVENTS, WEBHOOK_EVENT_LABELS } from './payload';
import { deliveryCounts, getWebhook, listDeliveries, listWebhooks, type WebhookRow } from './webhooks.queries';
import {
  addWebhook,
  changeWebhook,
  checkWebhook,
  formOfWebhook,
  queuePing,
  readWebhookForm,
  removeWebhook,
  retryDelivery,
  rotateWebhookSecret,
  webhookTeamChoices,
  WEBHOOK_LIMITS,
  type WebhookForm,
  type WebhookOutbox,
} from './webhooks.service';

/**
 * GET  /admin/webhooks                               the endpoints, and the form for a new one
 * POST /admin/webhooks                               add one; the answer shows its signing secret once
 * GET  /admin/webhooks/:id                           one endpoint: its settings and delivery log
 * POST /admin/webhooks/:id                           save its settings (409 on a stale version)
 * POST /admin/webhooks/:id/test                      queue a test message
 * POST /admin/webhooks/:id/secret                    a new signing secret, shown once
 * POST /admin/webhooks/:id/delete                    remove it and its log
 * POST /admin/webhooks/:id/deliveries/:delivery/retry  send a failed delivery again
 */
export function webhookRoutes(deps: { config: Config; database: Database; policy: Policy; outbox: WebhookOutbox }): Router {
  const { config, database, policy, outbox } = deps;
  const router = Router();
  const admins = requireCan(policy, 'webhooks.manage');

  const choices = {
    events: WEBHOOK_EVENTS,
    eventLabels: WEBHOOK_EVENT_LABELS,
    priorities: PRIORITIES,
    limits: WEBHOOK_LIMITS,
  };
  const blank = (req: Request): WebhookForm => ({ name: '', url: '', events: [...WEBHOOK_EVENTS], priorities: [], teams: [], format: 'json', internal: false, active: true, linkBase: originOf(req, config) });

  async function renderList(req: Request, res: Response, status: number, extra: { form?: WebhookForm; errors?: FieldErrors; created?: { id: number; name: string; secret: string }; deleted?: boolean } = {}) {
    const [hooks, counts, teams] = await Promise.all([listWebhooks(database.db), deliveryCounts(database.db), listTeams(database.db, { activeOnly: false })]);
    res.setHeader('Cache-Control', 'no-store');
    res.status(status).render('admin/webhooks', {
      title: status >= 400 ? 'Error: Webhooks' : 'Webhooks',
      hooks,
      counts,
      form: extra.form ?? blank(req),
      errors: extra.errors ?? {},
      created: extra.created,
      deleted: extra.deleted ?? false,
      teams: teams.filter((t) => t.active === 1),
      teamNames: new Map(teams.map((t) => [String(t.id), t.name])),
      ...choices,
    });
  }

  async function load(req: Request): Promise<WebhookRow> {
    const raw = String(req.params.id);
    const w = /^\d{1,9}$/.test(raw) ? await getWebhook(database.db, Number(raw)) : undefined;
    if (!w) throw notFound('There is no such webhook.');
    return w;
  }

  async function renderOne(res: Response, w: WebhookRow, status: number, extra: { form?: WebhookForm; errors?: FieldErrors; secret?: string; notice?: string; conflict?: boolean } = {}) {
    res.setHeader('Cache-Control', 'no-store');
    res.status(status).render('admin/webhook', {
      title: `${status >= 400 ? 'Error: ' : ''}Webhook: ${w.name}`,
      w,
      form: extra.form ?? formOfWebhook(w),
      errors: extra.errors ?? {},
      secret: extra.secret,
      notice: extra.notice,
      conflict: extra.conflict ?? false,
      deliveries: await listDeliveries(database.db, database.dialect, w.id, 50),
      teams: await webhookTeamChoices(database, w),
      ...choices,
    });
  }

  router.get('/admin/webhooks', admins, async (req, res) => {
    await renderList(req, res, 200, { deleted: req.query.deleted === '1' });
  });

  router.post('/admin/webhooks', admins, async (req, res) => {
    const form = readWebhookForm(formOf(req), originOf(req, config));
    const { errors, values } = checkWebhook(form, await webhookTeamChoices(database));
    if (!values) return renderList(req, res, 400, { form, errors });
    const { id, secret } = await addWebhook(database, viewerOf(res).personId!, values);
    await renderList(req, res, 201, { created: { id, name: values.name, secret } });
  });

  const NOTICES: Record<string, string> = { saved: 'Saved.', tested: 'A test message is on its way; its answer shows below in a moment (reload).', retried: 'The delivery will be sent again shortly.' };

  router.get('/admin/webhooks/:id', admins, async (req, res) => {
    const w = await load(req);
    const done = typeof req.query.done === 'string' ? NOTICES[req.query.done] : undefined;
    await renderOne(res, w, 200, { notice: done });
  });

  router.post('/admin/webhooks/:id', admins, async (req, res) => {
    const w = await load(req);
    const body = formOf(req);
    const form = readWebhookForm(body, w.link_base);
    const { errors, values } = checkWebhook(form, await webhookTeamChoices(database, w));
    if (!values) return renderOne(res, w, 400, { form, errors });
    const version = typeof body.version === 'string' && /^\d{1,9}$/.test(body.version) ? Number(body.version) : -1;
    const result = await changeWebhook(database, w.id, version, values);
    if (result.kind === 'not-found') throw notFound('There is no such webhook.');
    if (result.kind === 'conflict') return renderOne(res, result.current, 409, { form, conflict: true });
    res.redirect(303, `/admin/webhooks/${w.id}?done=saved`);
  });

  router.post('/admin/webhooks/:id/test', admins, async (req, res) => {
    const w = await load(req);
    await queuePing(database, outbox, w);
    res.redirect(303, `/admin/webhooks/${w.id}?done=tested`);
  });

  router.post('/admin/webhooks/:id/secret', admins, async (req, res) => {
    const w = await load(req);
    const secret = await rotateWebhookSecret(database, w.id);
    if (!secret) throw notFound('There is no such webhook.');
    await renderOne(res, w, 200, { secret });
  });

  router.post('/admin/webhooks/:id/delete', admins, async (req, res) => {
    const w = await load(req);
    await removeWebhook(database, w.id);
    res.redirect(303, '/admin/webhooks?deleted=1');
  });

  router.post('/admin/webhooks/:id/deliveries/:delivery/retry', admins, async (req, res) => {
    const w = await load(req);
    const raw = String(req.params.delivery);
    if (!/^\d{1,9}$/.test(raw)) throw notFound('There is no such delivery.');
    if (await retryDelivery(database, w.id, Number(raw))) outbox.notify();
    res.redirect(303, `/admin/webhooks/${w.id}?done=retried`);
  });

  return router;
}
