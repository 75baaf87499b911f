import { Router, type Request, type Response } from 'express';
import type { Policy, TicketFacts } from '../../access/policy';
import type { Config } from '../../config/schema';
import type { Database } from '../../db/database';
import type { Logger } from '../../logging';
import { BlobNotFoundError } from '../../storage/blob-store';
import { setFlash } from '../../web/flash';
import { assertCan } from '../../web/guards';
import { HttpError, notFound } from '../../web/http-error';
import { viewerOf } from '../../web/viewer';
import { getTicket, type TicketRow } from '../tickets/tickets.queries';
import { getAttachment, type AttachmentRow } from './attachments.queries';
import type { EventListener } from '../tickets/ticket-events';
import { removeAttachment, showsInline, type AttachmentSettings } from './attachments.service';
import { decideServe } from './serve';
import { sendBlob } from './send';

/**
 * GET|HEAD /tickets/:id/attachments/:attachmentId/:name   the file (?inline=1: an image shown in place)
 * GET      /tickets/:id/attachments/:attachmentId         about the file; agents may remove it from here
 * POST     /tickets/:id/attachments/:attachmentId/remove  agents: remove it (event kept, bytes kept until the retention passes)
 *
 * A file is for whoever may see its ticket, guests never; a file that came with an
 * internal note is for agents only (to anyone else it does not exist).
 */
export function attachmentRoutes(deps: { config: Config; database: Database; policy: Policy; attachments: AttachmentSettings; logger: Logger; ticketEvents: EventListener }): Router {
  const { config, database, policy, attachments, logger, ticketEvents } = deps;
  const router = Router();
  const facts = (t: TicketRow): TicketFacts => ({ requesterId: t.requester_id, status: t.status });

  /** Guests are asked to sign in before anything is looked up; then the ticket's policy decides. */
  async function load(req: Request, res: Response): Promise<{ t: TicketRow; a: AttachmentRow }> {
    assertCan(policy, req, res, 'files.view');
    const [id, attachmentId] = [String(req.params.id), String(req.params.attachmentId)];
    if (!/^\d{1,9}$/.test(id) || !/^\d{1,9}$/.test(attachmentId)) throw notFound('There is no such file.');
    const t = await getTicket(database.db, Number(id));
    if (!t) throw notFound(`There is no ticket #${id}.`);
    assertCan(policy, req, res, 'ticket.files', facts(t), 'This ticket belongs to someone else, and so do its files.');
    const a = await getAttachment(database.db, t.id, Number(attachmentId));
    if (!a || (a.internal && !policy.can(viewerOf(res), 'ticket.view-internal', facts(t)))) throw notFound('There is no such file on this ticket.');
    return { t, a };
  }

  const gone = (a: AttachmentRow) => new HttpError(410, `attachment ${a.id} was removed`, `“${a.name}” was removed from this ticket by a helpdesk agent.`);

  async function serve(req: Request, res: Response) {
    const { t, a } = await load(req, res);
    if (a.removed_at) throw gone(a);
    if (String(req.params.name) !== a.name) return res.redirect(302, fileUrl(t.id, a, req.query.inline === '1'));
    const decision = decideServe(
      { method: req.method, range: req.get('range'), ifNoneMatch: req.get('if-none-match'), ifRange: req.get('if-range') },
      { sha256: a.sha256, size: a.size, name: a.name, type: { contentType: a.content_type, inline: showsInline(a) } },
      // Like every signed-in page (web/locals.ts): a file on a ticket is kept in no cache, not even the browser's.
      { inline: req.query.inline === '1', maxAgeSeconds: 0 },
    );
    try {
      await sendBlob(res, attachments.store, a.sha256, decision);
    } catch (err) {
      if (!(err instanceof BlobNotFoundError)) throw err;
      logger.error({ attachment: a.id, ticket: t.id, sha256: a.sha256, reqId: res.locals.reqId }, 'an attachment row points at bytes the store does not have');
      throw new HttpError(404, `bytes of attachment ${a.id} missing`, `The contents of “${a.name}” cannot be found. Ask the helpdesk to attach it again.`);
    }
  }
  router.get('/tickets/:id/attachments/:attachmentId/:name', serve);

  router.get('/tickets/:id/attachments/:attachmentId', async (req, res) => {
    const { t, a } = await load(req, res);
    res.render('tickets/attachments/show', { title: `${a.name} · #${t.id}`, t, a, f: facts(t), inline: showsInline(a), url: fileUrl(t.id, a), retentionDays: Math.ceil(attachments.retentionMs / 86_400_000) });
  });

  router.post('/tickets/:id/attachments/:attachmentId/remove', async (req, res) => {
    const { t, a } = await load(req, res);
    assertCan(policy, req, res, 'ticket.remove-file', facts(t), 'Only helpdesk agents can remove files.');
    const result = await removeAttachment(database, { personId: viewerOf(res).personId! }, t.id, a.id, ticketEvents);
    if (result.kind === 'not-found') throw notFound('There is no such file on this ticket.');
    // Removed by someone else a moment earlier is just as removed.
    setFlash(req, res, config, 'file-removed', `/tickets/${t.id}`);
    res.redirect(303, `/tickets/${t.id}#ticket-files`);
  });

  return router;
}

/** Where a file is served: its name at the end, so browsers and people see what they get. */
export function fileUrl(ticketId: number, a: Pick<AttachmentRow, 'id' | 'name'>, inline = false): string {
  return `/tickets/${ticketId}/attachments/${a.id}/${encodeURIComponent(a.name)}${inline ? '?inline=1' : ''}`;
}
