import { Router, type Response } from 'express';
import type { Policy } from '../../access/policy';
import type { Config } from '../../config/schema';
import type { Database } from '../../db/database';
import { setFlash, takeFlash } from '../../web/flash';
import { formOf } from '../../web/form';
import { assertCan, requireCan } from '../../web/guards';
import { notFound } from '../../web/http-error';
import { isAgent, viewerOf } from '../../web/viewer';
import { getTicket } from '../tickets/tickets.queries';
import { mailOverview, notificationSettings, originalMessage, OUTBOX_TABS, parseOutboxTab, saveNotificationSettings, sendTestMessage, type MailParts } from './mail.service';

/**
 * Mounted only when mail is on (DESKSIDE_SMTP_URL):
 *
 * GET  /me/notifications             which e-mails I get
 * POST /me/notifications             save that
 * GET  /admin/mail                   the outbox (?status=queued|failed|sent|all&page=N), the mailbox's recent mail, settings
 * POST /admin/mail/test              queue a test message
 * GET  /tickets/:id/mail/:mailId     the whole e-mail a reply came in (its comment has the quoted text cut)
 */
export function mailRoutes(deps: { config: Config; database: Database; policy: Policy; mail: MailParts }): Router {
  const { config, database, policy, mail } = deps;
  const router = Router();
  const admins = requireCan(policy, 'admin.view');

  async function renderNotifications(res: Response, status: number, flash?: string) {
    const v = viewerOf(res);
    const settings = await notificationSettings(database, v.personId!);
    res.status(status).render('me/notifications', { title: 'E-mail notifications', settings, agent: isAgent(v), flash, replyByMail: Boolean(mail.config.imap) });
  }

  router.get('/me/notifications', async (req, res) => {
    assertCan(policy, req, res, 'me.notifications');
    const saved = takeFlash(req, res, config, '/me/notifications') === 'saved';
    await renderNotifications(res, 200, saved ? 'Your choices are saved.' : undefined);
  });

  router.post('/me/notifications', async (req, res) => {
    assertCan(policy, req, res, 'me.notifications');
    const v = viewerOf(res);
    await saveNotificationSettings(database, v.personId!, isAgent(v), formOf(req));
    setFlash(req, res, config, 'saved', '/me/notifications');
    res.redirect(303, '/me/notifications');
  });

  async function renderAdmin(req: import('express').Request, res: Response, status: number, extra: { testTo?: string; testError?: string } = {}) {
    const overview = await mailOverview(database, mail.config, parseOutboxTab(req.query));
    const flash = takeFlash(req, res, config, '/admin/mail');
    res.status(status).render('admin/mail', {
      title: status >= 400 ? 'Error: Mail' : 'Mail',
      o: overview,
      tabs: OUTBOX_TABS,
      testTo: extra.testTo ?? viewerOf(res).email ?? '',
      errors: extra.testError ? { 'test-to': extra.testError } : {},
      flash: flash === 'test-queued' ? 'The test message is queued. It shows below: sent, or with the SMTP server’s answer (reload to see it change).' : undefined,
    });
  }

  router.get('/admin/mail', admins, async (req, res) => {
    await renderAdmin(req, res, 200);
  });

  router.post('/admin/mail/test', admins, async (req, res) => {
    const result = await sendTestMessage(database, mail.outbox, viewerOf(res).personId!, formOf(req).to);
    if (result.kind === 'invalid') return renderAdmin(req, res, 400, { testTo: result.to, testError: result.error });
    setFlash(req, res, config, 'test-queued', '/admin/mail');
    res.redirect(303, '/admin/mail?status=all');
  });

  router.get('/tickets/:id/mail/:mailId', async (req, res) => {
    assertCan(policy, req, res, 'tickets.list');
    const [id, mailId] = [String(req.params.id), String(req.params.mailId)];
    if (!/^\d{1,9}$/.test(id) || !/^\d{1,9}$/.test(mailId)) throw notFound('There is no such e-mail.');
    const t = await getTicket(database.db, Number(id));
    if (!t) throw notFound(`There is no ticket #${id}.`);
    const facts = { requesterId: t.requester_id, status: t.status };
    assertCan(policy, req, res, 'ticket.view', facts, 'This ticket belongs to someone else.');
    const original = await originalMessage(database, t.id, Number(mailId));
    // A message kept as an internal note is as private as the note.
    if (!original || (original.event_kind !== 'comment' && !policy.can(viewerOf(res), 'ticket.view-internal', facts))) throw notFound('There is no such e-mail on this ticket.');
    res.render('tickets/mail/show', { title: `E-mail on #${t.id}`, t, original });
  });

  return router;
}
