import { Router, type Request, type Response } from 'express';
import type { Policy } from '../../access/policy';
import type { Config } from '../../config/schema';
import type { Database } from '../../db/database';
import { setFlash, takeFlash } from '../../web/flash';
import { formOf } from '../../web/form';
import { assertCan, requireCan } from '../../web/guards';
import { badRequest, HttpError, notFound } from '../../web/http-error';
import { viewerOf } from '../../web/viewer';
import { listCategories } from '../categories/categories.queries';
import type { EventListener } from '../tickets/ticket-events';
import type { FieldErrors } from '../shared/form-values';
import { getKnownIssue, listKnownIssueEvents, listKnownIssues, listLinkedTickets, ownLinkedTicket, type KnownIssueRow } from './known-issues.queries';
import {
  changeKnownIssue,
  checkKnownIssue,
  excerpt,
  KNOWN_ISSUE_LIMITS,
  KNOWN_ISSUE_STATUS_LABELS,
  KNOWN_ISSUE_STATUSES,
  linkTicket,
  meToo,
  postKnownIssueUpdate,
  publishKnownIssue,
  readKnownIssueForm,
  readVersion,
  type KnownIssueForm,
} from './known-issues.service';

const FLASH_MESSAGES: Record<string, string | undefined> = Object.assign(Object.create(null) as Record<string, string>, {
  published: 'Published. Everyone who can browse Deskside sees it now.',
  saved: 'Changes saved.',
  update: 'Update published, and added to every linked ticket.',
  linked: 'Ticket linked. Its requester will see this known issue’s updates on their ticket.',
});

interface PageExtras {
  status?: number;
  editForm?: KnownIssueForm;
  editErrors?: FieldErrors;
  updateBody?: string;
  updateErrors?: FieldErrors;
  linkValue?: string;
  linkErrors?: FieldErrors;
}

/**
 * GET  /known-issues                 what the desk has published (everyone who may browse)
 * GET  /known-issues/new             agents: the form to publish one
 * POST /known-issues                 agents: publish
 * GET  /known-issues/:id             one known issue and its public updates
 * POST /known-issues/:id             agents: title, summary, status (with version; 409 when stale)
 * POST /known-issues/:id/updates     agents: a public update, copied into every linked ticket
 * POST /known-issues/:id/tickets     agents: link a ticket (`ticket`)
 * POST /known-issues/:id/me-too      signed-in people: raise a ticket linked to it, in one click
 */
export function knownIssueRoutes(deps: { config: Config; database: Database; policy: Policy; ticketEvents: EventListener }): Router {
  const { config, database, policy, ticketEvents } = deps;
  const router = Router();
  const canView = requireCan(policy, 'known-issues.view');
  const canManage = requireCan(policy, 'known-issues.manage');

  async function load(req: Request): Promise<KnownIssueRow> {
    const raw = String(req.params.id);
    const k = /^\d{1,9}$/.test(raw) ? await getKnownIssue(database.db, Number(raw)) : undefined;
    if (!k) throw notFound('There is no such known issue. It may have been a mistyped address.');
    return k;
  }

  const formOfIssue = (k: KnownIssueRow): KnownIssueForm => ({ title: k.title, summary: k.summary, status: k.status, category: k.category_id === null ? '' : String(k.category_id) });

  async function renderIssue(req: Request, res: Response, k: KnownIssueRow, extra: PageExtras = {}): Promise<void> {
    const v = viewerOf(res);
    const manage = policy.can(v, 'known-issues.manage');
    const [events, linked, own, categories] = await Promise.all([
      listKnownIssueEvents(database.db, k.id, { includePrivate: manage }),
      policy.can(v, 'known-issues.see-tickets') ? listLinkedTickets(database.db, k.id) : Promise.resolve([]),
      v.anonymous ? Promise.resolve(undefined) : ownLinkedTicket(database.db, database.dialect, k.id, v.personId!),
      manage ? listCategories(database.db, { activeOnly: true }) : Promise.resolve([]),
    ]);
    const errors = { ...extra.editErrors, ...extra.updateErrors, ...extra.linkErrors };
    res.status(extra.status ?? 200).render('known-issues/show', {
      title: `${Object.keys(errors).length ? 'Error: ' : ''}${k.title}`,
      k,
      events,
      linked,
      own,
      categories,
      manage,
      errors,
      editForm: extra.editForm ?? formOfIssue(k),
      editErrors: extra.editErrors ?? {},
      updateBody: extra.updateBody ?? '',
      updateErrors: extra.updateErrors ?? {},
      linkValue: extra.linkValue ?? '',
      linkErrors: extra.linkErrors ?? {},
      flash: FLASH_MESSAGES[takeFlash(req, res, config, `/known-issues/${k.id}`) ?? ''],
      statuses: KNOWN_ISSUE_STATUSES,
      statusLabels: KNOWN_ISSUE_STATUS_LABELS,
      limits: KNOWN_ISSUE_LIMITS,
    });
  }

  async function renderNew(res: Response, status: number, form: KnownIssueForm, errors: FieldErrors): Promise<void> {
    res.status(status).render('known-issues/new', {
      title: status >= 400 ? 'Error: Publish a known issue' : 'Publish a known issue',
      form,
      errors,
      categories: await listCategories(database.db, { activeOnly: true }),
      statuses: KNOWN_ISSUE_STATUSES.filter((s) => s !== 'resolved'),
      statusLabels: KNOWN_ISSUE_STATUS_LABELS,
      limits: KNOWN_ISSUE_LIMITS,
    });
  }

  const done = (req: Request, res: Response, k: { id: number }, code: string, hash = '') => {
    setFlash(req, res, config, code, `/known-issues/${k.id}`);
    res.redirect(303, `/known-issues/${k.id}${hash}`);
  };

  router.get('/known-issues', canView, async (_req, res) => {
    const issues = (await listKnownIssues(database.db, database.dialect, { activeOnly: false, limit: 100 })).map((k) => ({ ...k, excerpt: excerpt(k.summary, 280) }));
    res.render('known-issues/index', {
      title: 'Known issues',
      active: issues.filter((k) => k.active === 1),
      resolved: issues.filter((k) => k.active !== 1).slice(0, 20),
      statusLabels: KNOWN_ISSUE_STATUS_LABELS,
    });
  });

  router.get('/known-issues/new', canManage, async (_req, res) => {
    await renderNew(res, 200, { title: '', summary: '', status: 'investigating', category: '' }, {});
  });

  router.post('/known-issues', canManage, async (req, res) => {
    const form = readKnownIssueForm(formOf(req));
    const { errors, values } = await checkKnownIssue(database, form);
    if (!values) return renderNew(res, 400, form, errors);
    const id = await publishKnownIssue(database, viewerOf(res).personId!, values);
    done(req, res, { id }, 'published');
  });

  router.get('/known-issues/:id', canView, async (req, res) => {
    await renderIssue(req, res, await load(req));
  });

  router.post('/known-issues/:id', canManage, async (req, res) => {
    const k = await load(req);
    const body = formOf(req);
    const form = readKnownIssueForm(body);
    const version = readVersion(body);
    const { errors, values } = await checkKnownIssue(database, form);
    if (version === null) throw badRequest('This form is missing the known issue’s version; reload the page and try again.');
    if (!values) return renderIssue(req, res, k, { status: 400, editForm: form, editErrors: errors });
    const result = await changeKnownIssue(database, viewerOf(res).personId!, k.id, { version, values, resolveTickets: body.resolveTickets === 'on' }, ticketEvents);
    if (result.kind === 'not-found') throw notFound();
    if (result.kind === 'conflict') {
      res.setHeader('Cache-Control', 'no-store');
      return res.status(409).render('known-issues/conflict', {
        title: 'Someone else changed this first',
        k: result.current,
        yours: form,
        events: await listKnownIssueEvents(database.db, k.id, { includePrivate: true }),
        statusLabels: KNOWN_ISSUE_STATUS_LABELS,
        resolveTickets: body.resolveTickets === 'on',
      });
    }
    done(req, res, k, 'saved');
  });

  router.post('/known-issues/:id/updates', canManage, async (req, res) => {
    const k = await load(req);
    const result = await postKnownIssueUpdate(database, viewerOf(res).personId!, k.id, { body: formOf(req).body }, ticketEvents);
    if (result.kind === 'not-found') throw notFound();
    if (result.kind === 'invalid') return renderIssue(req, res, k, { status: 400, updateBody: result.body, updateErrors: result.errors });
    done(req, res, k, 'update', '#latest');
  });

  router.post('/known-issues/:id/tickets', canManage, async (req, res) => {
    const k = await load(req);
    const ticket = formOf(req).ticket;
    const result = await linkTicket(database, viewerOf(res).personId!, k.id, { ticket }, ticketEvents);
    const typed = typeof ticket === 'string' ? ticket.slice(0, 20) : '';
    if (result.kind === 'not-found') throw notFound();
    if (result.kind === 'invalid') return renderIssue(req, res, k, { status: 400, linkValue: typed, linkErrors: { ticket: result.error } });
    if (result.kind === 'no-ticket') return renderIssue(req, res, k, { status: 400, linkValue: typed, linkErrors: { ticket: `There is no ticket #${typed.replace(/^#/, '')}` } });
    if (result.kind === 'already') return renderIssue(req, res, k, { status: 400, linkValue: typed, linkErrors: { ticket: `Ticket #${typed.replace(/^#/, '')} is already linked to this known issue` } });
    done(req, res, k, 'linked');
  });

  router.post('/known-issues/:id/me-too', async (req, res) => {
    assertCan(policy, req, res, 'ticket.create');
    const k = await load(req);
    const result = await meToo(database, viewerOf(res).personId!, k.id, ticketEvents);
    switch (result.kind) {
      case 'not-found':
        throw notFound();
      case 'resolved':
        throw new HttpError(409, 'known issue resolved', 'This known issue has been resolved. If you still have the problem, raise a new ticket and describe it.');
      case 'no-category':
        throw new HttpError(409, 'no active category', 'Tickets cannot be raised right now: an administrator needs to add a category first.');
      case 'existing':
        return res.redirect(303, `/tickets/${result.ticketId}`);
      case 'created':
        setFlash(req, res, config, 'me-too', `/tickets/${result.ticketId}`);
        return res.redirect(303, `/tickets/${result.ticketId}`);
    }
  });

  return router;
}
