import { Router, type Request, type Response } from 'express';
import type { Policy, TicketFacts } from '../../access/policy';
import type { Config } from '../../config/schema';
import type { Database } from '../../db/database';
import { setFlash, takeFlash } from '../../web/flash';
import { formOf } from '../../web/form';
import { assertCan } from '../../web/guards';
import { badRequest, notFound, SignInRequired } from '../../web/http-error';
import { isAgent, viewerOf, type RequestViewer } from '../../web/viewer';
import { listPeopleByIds } from '../../people/people.queries';
import { listAttachments } from '../attachments/attachments.queries';
import type { AttachmentSettings } from '../attachments/attachments.service';
import { readUploads } from '../attachments/uploads';
import { listCategories } from '../categories/categories.queries';
import { knownIssuesOfTicket } from '../known-issues/known-issues.queries';
import { inboundOfTicket } from '../mail/mail.queries';
import { activeKnownIssues, KNOWN_ISSUE_STATUS_LABELS } from '../known-issues/known-issues.service';
import { LIMITS, PRIORITIES, priorityName, STATUS_HINTS, STATUS_LABELS, STATUSES } from './ticket-values';
import { listUrl, SORTS, type ListParams } from './tickets.filters';
import { TicketReadCache } from './tickets.cache';
import type { EventListener } from './ticket-events';
import { getTicket, listEvents, type EventRow, type TicketRow } from './tickets.queries';
import { addComment, createTicket, editTicket, listTicketsFor, parseEdit, setOwnStatus, validateNewTicket, type FieldErrors, type NewTicketForm } from './tickets.service';

/**
 * GET  /tickets                 the list (agents: the queue; requesters: their own)
 * GET  /tickets/new             new-ticket form
 * POST /tickets                 create (with files: multipart), then 303 to the ticket
 * GET  /tickets/:id             the ticket and its timeline
 * POST /tickets/:id             agents: change fields (409 on a stale version); requesters: close/reopen
 * POST /tickets/:id/comments    reply, or (agents) internal note, with files or files alone
 */
/** What the ticket page says after a post redirected to it (web/flash.ts). */
const FLASH_MESSAGES: Record<string, string | undefined> = Object.assign(Object.create(null) as Record<string, string>, {
  created: 'Your ticket has been raised. You will see replies here.',
  saved: 'Changes saved.',
  commented: 'Added to the conversation.',
  'me-too': 'Your ticket has been raised and linked to the known issue. Updates about it will appear here.',
  'file-removed': 'The file has been removed.',
});

export function ticketRoutes(deps: { config: Config; database: Database; policy: Policy; cache?: TicketReadCache; attachments: AttachmentSettings; ticketEvents: EventListener }): Router {
  const { config, database, policy, attachments, ticketEvents } = deps;
  const cache = deps.cache ?? new TicketReadCache(database);
  const db = database.db;
  const router = Router();

  const facts = (t: TicketRow): TicketFacts => ({ requesterId: t.requester_id, status: t.status });

  /**
   * The ticket the URL names. Guests are sent to sign in before anything is read, so the
   * answer never tells them whether a ticket exists, let alone what it says.
   */
  async function loadTicket(req: Request, res: Response): Promise<TicketRow> {
    assertCan(policy, req, res, 'tickets.list');
    const raw = String(req.params.id);
    if (!/^\d{1,9}$/.test(raw)) throw notFound('There is no ticket with that number.');
    const t = await getTicket(db, Number(raw));
    if (!t) throw notFound(`There is no ticket #${raw}.`);
    return t;
  }

  router.get('/tickets', async (req, res) => {
    assertCan(policy, req, res, 'tickets.list');
    const v = viewerOf(res);
    const agent = isAgent(v);
    const result = await listTicketsFor(database, cache, { anonymous: v.anonymous, personId: v.personId, agent, seesAll: policy.can(v, 'tickets.list-all') }, req.query);
    if (result.kind === 'sign-in') throw new SignInRequired(req.originalUrl);
    if (result.kind === 'invalid') throw badRequest(result.message);
    const { params, defaults } = result;
    res.render('tickets/index', {
      title: agent ? 'Ticket queue' : v.anonymous ? 'Tickets' : 'My tickets',
      params,
      defaults,
      rows: result.rows,
      total: result.total,
      totalExact: result.totalExact,
      pages: result.pages,
      offset: result.offset,
      categories: result.categories,
      agents: result.agents,
      sorts: SORTS,
      statuses: STATUSES,
      statusLabels: STATUS_LABELS,
      priorities: PRIORITIES,
      priorityName,
      seesAll: policy.can(v, 'tickets.list-all'),
      isAgentView: agent,
      listNotices: result.notices,
      url: (change: Partial<ListParams>) => listUrl(params, change, defaults),
    });
  });

  /** The new-ticket form, with the active known issues above it: one of them may be the person's problem. */
  async function renderNew(res: Response, status: number, form: NewTicketForm, errors: FieldErrors): Promise<void> {
    const [categories, knownIssues] = await Promise.all([listCategories(db, { activeOnly: true }), activeKnownIssues(database)]);
    res.status(status).render('tickets/new', {
      title: status >= 400 ? 'Error: New ticket' : 'New ticket',
      form,
      errors,
      categories,
      priorities: PRIORITIES,
      limits: LIMITS,
      knownIssues,
      knownIssueStatusLabels: KNOWN_ISSUE_STATUS_LABELS,
    });
  }

  router.get('/tickets/new', async (req, res) => {
    assertCan(policy, req, res, 'ticket.create');
    await renderNew(res, 200, { title: '', description: '', category: '', priority: 'normal' }, {});
  });

  router.post('/tickets', async (req, res) => {
    assertCan(policy, req, res, 'ticket.create');
    const v = viewerOf(res);
    const upload = await readUploads(req, res, attachments);
    try {
      const { form, errors, values } = await validateNewTicket(database, formOf(req));
      if (!values || Object.keys(upload.errors).length) {
        await upload.discard();
        await renderNew(res, 400, form, { ...errors, ...upload.errors });
        return;
      }
      const id = await createTicket(database, v.personId!, values, ticketEvents, upload.files);
      setFlash(req, res, config, 'created', `/tickets/${id}`);
      res.redirect(303, `/tickets/${id}`);
    } finally {
      await upload.discard();
    }
  });

  async function renderTicket(req: Request, res: Response, t: TicketRow, extra: { status?: number; editErrors?: FieldErrors; commentErrors?: FieldErrors; commentBody?: string; internalChecked?: boolean } = {}) {
    const v = viewerOf(res);
    const f = facts(t);
    const includeInternal = policy.can(v, 'ticket.view-internal', f);
    const events = await listEvents(db, t.id, { includeInternal });
    const canEdit = policy.can(v, 'ticket.edit', f);
    const [categories, agents, names, knownIssues, files, mailed] = await Promise.all([
      cache.categories(),
      canEdit ? cache.agents() : Promise.resolve([]),
      eventNames(events),
      knownIssuesOfTicket(db, t.id),
      policy.can(v, 'ticket.files', f) ? listAttachments(db, t.id, { includeInternal }) : Promise.resolve([]),
      // Replies that came by e-mail, and where the whole message is.
      config.mail?.imap ? inboundOfTicket(db, t.id) : Promise.resolve([]),
    ]);
    const flash = FLASH_MESSAGES[takeFlash(req, res, config, `/tickets/${t.id}`) ?? ''];
    res.status(extra.status ?? 200).render('tickets/show', {
      title: `${extra.status && extra.status >= 400 ? 'Error: ' : ''}#${t.id} ${t.title}`,
      t,
      f,
      events,
      names,
      categories,
      agents,
      canEdit,
      statuses: STATUSES,
      statusLabels: STATUS_LABELS,
      statusHints: STATUS_HINTS,
      priorities: PRIORITIES,
      priorityName,
      editErrors: extra.editErrors ?? {},
      commentErrors: extra.commentErrors ?? {},
      commentBody: extra.commentBody ?? '',
      internalChecked: extra.internalChecked ?? false,
      flash,
      limits: LIMITS,
      knownIssues,
      knownIssueStatusLabels: KNOWN_ISSUE_STATUS_LABELS,
      files,
      viaMail: new Map(mailed.filter((m) => m.event_id !== null).map((m) => [m.event_id, m])),
    });
  }

  async function eventNames(events: EventRow[]) {
    const ids = new Set<number>();
    for (const e of events) {
      if (e.kind === 'assignee') {
        if (e.from_value) ids.add(Number(e.from_value));
        if (e.to_value) ids.add(Number(e.to_value));
      }
    }
    const people = ids.size ? await listPeopleByIds(db, [...ids]) : [];
    const categories = await cache.categories();
    return {
      person: new Map(people.map((p) => [String(p.id), p.display_name ?? p.login])),
      category: new Map(categories.map((c) => [String(c.id), c.name])),
    };
  }

  router.get('/tickets/:id', async (req, res) => {
    const t = await loadTicket(req, res);
    assertCan(policy, req, res, 'ticket.view', facts(t), 'This ticket belongs to someone else. You can see your own tickets under “My tickets”.');
    await renderTicket(req, res, t);
  });

  router.post('/tickets/:id', async (req, res) => {
    const t = await loadTicket(req, res);
    const v = viewerOf(res);
    const body = formOf(req);
    assertCan(policy, req, res, 'ticket.view', facts(t), 'This ticket belongs to someone else.');
    const actor = { personId: v.personId!, isAgent: isAgent(v) };
    if (body.action === 'close' || body.action === 'reopen') {
      assertCan(policy, req, res, body.action === 'close' ? 'ticket.close' : 'ticket.reopen', facts(t));
      await setOwnStatus(database, actor, t.id, body.action, ticketEvents);
      setFlash(req, res, config, 'saved', `/tickets/${t.id}`);
      return res.redirect(303, `/tickets/${t.id}`);
    }
    assertCan(policy, req, res, 'ticket.edit', facts(t), 'Only helpdesk agents can change a ticket’s status, priority, category or assignee.');
    const parsed = await parseEdit(database, body, t.assignee_id);
    if (!parsed.request) return renderTicket(req, res, t, { status: 400, editErrors: parsed.errors });
    const result = await editTicket(database, actor, t.id, parsed.request, ticketEvents);
    if (result.kind === 'not-found') throw notFound();
    if (result.kind === 'conflict') {
      const [categories, agents, names, fresh] = await Promise.all([
        cache.categories(),
        cache.agents(),
        eventNames(result.theirEvents),
        getTicket(db, t.id),
      ]);
      res.status(409).setHeader('Cache-Control', 'no-store');
      return res.render('tickets/conflict', {
        title: 'Someone else changed this first',
        status: 409,
        message: 'Someone else changed this ticket after you opened it.',
        t: fresh ?? t,
        conflict: result,
        categories,
        agents,
        names,
        statusLabels: STATUS_LABELS,
      });
    }
    setFlash(req, res, config, 'saved', `/tickets/${t.id}`);
    res.redirect(303, `/tickets/${t.id}`);
  });

  router.post('/tickets/:id/comments', async (req, res) => {
    const t = await loadTicket(req, res);
    const v: RequestViewer = viewerOf(res);
    // Whether it is a note is in the body: may they reply at all, before it is read.
    assertCan(policy, req, res, 'ticket.comment', facts(t), 'You can only reply to your own tickets.');
    const upload = await readUploads(req, res, attachments);
    try {
      const body = formOf(req);
      const internal = body.internal === 'on' || body.internal === 'true';
      assertCan(policy, req, res, internal ? 'ticket.note' : 'ticket.comment', facts(t), 'You can only reply to your own tickets.');
      if (Object.keys(upload.errors).length) {
        await upload.discard();
        return await renderTicket(req, res, t, { status: 400, commentErrors: upload.errors, commentBody: typeof body.body === 'string' ? body.body : '', internalChecked: internal });
      }
      const result = await addComment(database, { personId: v.personId!, isAgent: isAgent(v) }, t.id, { body: body.body, internal: body.internal }, ticketEvents, upload.files);
      if (result.kind === 'invalid') return await renderTicket(req, res, t, { status: 400, commentErrors: result.errors, commentBody: result.body, internalChecked: internal });
      setFlash(req, res, config, 'commented', `/tickets/${t.id}`);
      res.redirect(303, `/tickets/${t.id}#latest`);
    } finally {
      await upload.discard();
    }
  });

  return router;
}
