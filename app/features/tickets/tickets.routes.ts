import { Router, type Request, type Response } from 'express';
import type { Policy, TicketFacts } from '../../access/policy';
import type { Config } from '../../config/schema';
import type { Database } from '../../db/database';
import type { DirectoryCache } from '../../directory/cache';
import type { DirectoryPerson } from '../../directory/types';
import { parseLogin } from '../../login';
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
import { assigneeChoices } from '../teams/teams.service';
import { ticketClocks } from '../service-levels/service-levels.service';
import { activeKnownIssues, KNOWN_ISSUE_STATUS_LABELS } from '../known-issues/known-issues.service';
import { inboundOfTicket } from '../mail/mail.queries';
import { fillPlaceholders, firstName, placeholderValues, responseById } from '../responses/responses.service';
import { viewsFor } from '../saved-views/saved-views.service';
import type { FieldErrors } from '../shared/form-values';
import { BULK_MAX, bulkChange, parseBulk } from './bulk.service';
import { LIMITS, PRIORITIES, priorityName, STATUS_HINTS, STATUS_LABELS, STATUSES } from './ticket-values';
import { FIRST_DIRECTION, listQuery, listUrl, PER_PAGE, SLA_FILTERS, SORT_CHOICES, SORT_KEYS, parseSort, sortText, type ListParams } from './tickets.filters';
import { DUE_KIND_LABELS, DUE_LABELS, dueState } from './due';
import { sendCsv } from '../../web/csv';
import type { EventListener } from './ticket-events';
import { TicketReadCache } from './tickets.cache';
import { getTicket, hasOthersReply, listEvents, type EventRow, type SortKey, type TicketListRow, type TicketRow } from './tickets.queries';
import {
  addComment,
  anchorOf,
  CHANNEL_LABELS,
  CHANNELS,
  createTicket,
  editText,
  editTicket,
  exportTickets,
  listTicketsFor,
  listViewerOf,
  neighboursFor,
  parseEdit,
  parsePosition,
  parseTextEdit,
  positionQuery,
  positionText,
  queueTabs,
  setOwnStatus,
  validateNewTicket,
  type ListPosition,
  type ListViewer,
  type NewTicketForm,
  type RequesterChoices,
  type TextForm,
} from './tickets.service';

/**
 * GET  /tickets                 the list (agents: the queue, a sortable table with tabs; requesters: their own)
 * GET  /tickets.csv             the same list, every page, as CSV
 * POST /tickets/bulk            agents: one change to the tickets ticked on the queue
 * GET  /tickets/new             new-ticket form (agents also choose the requester and the channel)
 * POST /tickets                 create (with files: multipart), then 303 to the ticket
 * GET  /tickets/:id             the ticket, its timeline, previous/next in the agent's list
 * POST /tickets/:id             agents: change fields (409 on a stale version); requesters: close/reopen
 * POST /tickets/:id/comments    reply or internal note, with files or files alone, a status and "assign to me"
 *                               (agents); insert a canned reply
 * GET  /tickets/:id/edit        title and description form
 * POST /tickets/:id/edit        save them (409 on a stale version)
 */
/** What the ticket page says after a post redirected to it (web/flash.ts); `created-for` names the requester. */
const FLASH_MESSAGES: Record<string, string | undefined> = Object.assign(Object.create(null) as Record<string, string>, {
  created: 'Your ticket has been raised. You will see replies here.',
  saved: 'Changes saved.',
  edited: 'Title and description saved.',
  commented: 'Added to the conversation.',
  'me-too': 'Your ticket has been raised and linked to the known issue. Updates about it will appear here.',
  'file-removed': 'The file has been removed.',
});

export function ticketRoutes(deps: { config: Config; database: Database; policy: Policy; cache?: TicketReadCache; attachments: AttachmentSettings; ticketEvents: EventListener; directory: DirectoryCache }): Router {
  const { config, database, policy, attachments, ticketEvents, directory } = deps;
  const cache = deps.cache ?? new TicketReadCache(database);
  const db = database.db;
  const router = Router();

  const facts = (t: TicketRow, othersReplied?: boolean): TicketFacts => ({ requesterId: t.requester_id, status: t.status, othersReplied });

  /**
   * The ticket the URL names. Guests are sent to sign in before anything is read, so the
   * answer never tells them whether a ticket exists, let alone what it says.
   */
  async function loadTicket(req: Request, res: Response): Promise<TicketRow> {
    assertCan(policy, req, res, 'tickets.list');
    const raw = String(req.params.id);
    if (!/^\d{1,9}$/.test(raw)) throw notFound('There is no ticket with that number.');
    const id = Number(raw);
    const t = await cache.ofTicket(id, 'row', () => getTicket(db, id));
    if (!t) throw notFound(`There is no ticket #${raw}.`);
    return t;
  }

  const listViewer = (v: RequestViewer): ListViewer => listViewerOf(policy, v);

  /** The list an agent came from, from a link's query or a form's hidden fields. */
  function positionOf(v: RequestViewer, t: TicketRow, source: Record<string, unknown>): ListPosition | undefined {
    if (!isAgent(v) || typeof source.from !== 'string') return undefined;
    return { from: source.from, anchor: parsePosition(t.id, source.pos) ?? anchorOf(t) };
  }
  const withPosition = (url: string, p: ListPosition | undefined, hash = '') => `${url}${p ? `${url.includes('?') ? '&' : '?'}${positionQuery(p)}` : ''}${hash}`;

  router.get('/tickets', async (req, res) => {
    assertCan(policy, req, res, 'tickets.list');
    const v = viewerOf(res);
    const agent = isAgent(v);
    const lv = listViewer(v);
    const now = new Date();
    const result = await listTicketsFor(database, cache, lv, req.query);
    if (result.kind === 'sign-in') throw new SignInRequired(req.originalUrl);
    if (result.kind === 'invalid') throw badRequest(result.message);
    const { params, defaults } = result;
    const url = (change: Partial<ListParams>) => listUrl(params, change, defaults);
    const common = {
      params,
      defaults,
      rows: result.rows,
      total: result.total,
      totalExact: result.totalExact,
      pages: result.pages,
      offset: result.offset,
      categories: result.categories,
      agents: result.agents,
      statuses: STATUSES,
      statusLabels: STATUS_LABELS,
      priorities: PRIORITIES,
      priorityName,
      listNotices: result.notices,
      url,
    };
    if (!agent) {
      return res.render('tickets/index', { ...common, title: v.anonymous ? 'Tickets' : 'My tickets', sorts: SORT_CHOICES, seesAll: lv.seesAll });
    }
    const [saved, teams] = await Promise.all([cache.ofPerson(v.personId!, 'saved-views', () => viewsFor(database, v.personId!)), cache.teams()]);
    const tabs = await queueTabs(database, cache, lv, result, saved);
    const order = parseSort(params.sort)!;
    // A header links to its column sorted in its natural direction, or reversed when it is already the sort.
    const sortHeader = (key: SortKey) => {
      const active = order.key === key || (key === 'id' && order.key === 'created' && !params.cols.includes('created'));
      const nextDesc = active ? !order.desc : FIRST_DIRECTION[key] === 'desc';
      return { href: url({ sort: sortText({ key, desc: nextDesc }), page: 1 }), ariaSort: active ? (order.desc ? 'descending' : 'ascending') : undefined };
    };
    const from = listQuery(params, {}, defaults);
    const savedId = typeof req.query.saved === 'string' ? Number(req.query.saved) : undefined;
    const flash = savedId ? `Saved the view “${saved.find((s) => s.id === savedId)?.name ?? ''}”.` : req.query.deleted === '1' ? 'The view has been deleted.' : undefined;
    res.render('tickets/queue', {
      ...common,
      title: 'Ticket queue',
      wide: true,
      tabs,
      currentView: tabs.find((t) => t.current && t.saved)?.saved,
      sortHeader,
      sortKeys: SORT_KEYS,
      perChoices: PER_PAGE,
      from,
      ticketHref: (id: number) => `/tickets/${id}?from=${encodeURIComponent(from)}`,
      bulkMax: BULK_MAX,
      flash,
      teams,
      slaFilters: SLA_FILTERS,
      due: (r: TicketListRow) => dueState(r, now),
      dueLabels: DUE_LABELS,
      dueKindLabels: DUE_KIND_LABELS,
      // Every page of this list, in its order: the same address without the page.
      csvHref: `/tickets.csv${(() => {
        const qs = listQuery(params, { page: 1, per: LIMITS.pageSize, cols: [] }, defaults);
        return qs ? `?${qs}` : '';
      })()}`,
    });
  });

  router.get('/tickets.csv', async (req, res) => {
    assertCan(policy, req, res, 'tickets.list');
    const out = await exportTickets(database, listViewer(viewerOf(res)), req.query);
    if (out.kind === 'sign-in') throw new SignInRequired(req.originalUrl);
    if (out.kind === 'invalid') throw badRequest(out.message);
    await sendCsv(res, out.fileName, out.header, out.rows);
  });

  router.post('/tickets/bulk', async (req, res) => {
    assertCan(policy, req, res, 'tickets.bulk');
    const v = viewerOf(res);
    const body = formOf(req);
    const from = typeof body.from === 'string' && body.from.length <= 2000 ? body.from : '';
    const actor = { personId: v.personId!, isAgent: true };
    const parsed = await parseBulk(database, body, actor);
    const back = from ? `/tickets?${from}` : '/tickets';
    if (!parsed.request) {
      return res.status(400).render('tickets/bulk', { title: 'Error: Change several tickets', errors: parsed.errors, outcome: null, back });
    }
    const outcome = await bulkChange(database, actor, (f) => policy.can(v, 'ticket.edit', f), parsed.request, ticketEvents);
    res.render('tickets/bulk', { title: 'Change several tickets', errors: {}, outcome, back });
  });

  /** The new-ticket form, with the active known issues above it: one of them may be the person's problem. */
  async function renderNew(res: Response, status: number, form: NewTicketForm, errors: FieldErrors, choices?: RequesterChoices) {
    const v = viewerOf(res);
    const [categories, knownIssues] = await Promise.all([listCategories(db, { activeOnly: true }), activeKnownIssues(database)]);
    res.status(status).render('tickets/new', {
      title: status >= 400 ? 'Error: New ticket' : 'New ticket',
      form,
      errors,
      choices: choices ?? [],
      categories,
      knownIssues,
      knownIssueStatusLabels: KNOWN_ISSUE_STATUS_LABELS,
      priorities: PRIORITIES,
      channels: CHANNELS,
      channelLabels: CHANNEL_LABELS,
      forOthers: policy.can(v, 'ticket.create-for-others'),
      limits: LIMITS,
    });
  }

  router.get('/tickets/new', async (req, res) => {
    assertCan(policy, req, res, 'ticket.create');
    const forOthers = policy.can(viewerOf(res), 'ticket.create-for-others');
    const requester = forOthers && typeof req.query.requester === 'string' ? req.query.requester.slice(0, 320) : '';
    await renderNew(res, 200, { title: '', description: '', category: '', priority: 'normal', requester, channel: forOthers ? 'phone' : 'web' }, {});
  });

  router.post('/tickets', async (req, res) => {
    assertCan(policy, req, res, 'ticket.create');
    const v = viewerOf(res);
    const upload = await readUploads(req, res, attachments);
    try {
      const body = formOf(req);
      const forOthers = policy.can(v, 'ticket.create-for-others');
      // Someone who may not raise tickets for others never gets one raised for someone else.
      if (!forOthers && (body.requester !== undefined || body.requester_pick !== undefined || body.channel !== undefined)) throw badRequest('Only helpdesk agents can raise a ticket for someone else or say how it reached the desk.');
      const { form, errors, values, choices } = await validateNewTicket(database, body, forOthers && directory ? { forOthers: { directory, selfId: v.personId! } } : {});
      if (!values || Object.keys(upload.errors).length) {
        await upload.discard();
        return await renderNew(res, 400, form, { ...errors, ...upload.errors }, choices);
      }
      const id = await createTicket(database, v.personId!, values, ticketEvents, upload.files);
      setFlash(req, res, config, values.requesterId ? 'created-for' : 'created', `/tickets/${id}`);
      res.redirect(303, `/tickets/${id}`);
    } finally {
      await upload.discard();
    }
  });

  interface Composer {
    /** Which box the draft belongs to. */
    mode: 'reply' | 'note';
    body: string;
    errors: FieldErrors;
    /** A reply or note that met newer activity: it, shown above the kept draft, and what the post asked for. */
    conflict?: { newEvents: EventRow[]; status: string; assignee: string };
    /** The "assign to me" box as the person left it. */
    assignMe?: boolean;
  }

  async function renderTicket(req: Request, res: Response, t: TicketRow, extra: { status?: number; editErrors?: FieldErrors; composer?: Composer; position?: ListPosition } = {}) {
    const v = viewerOf(res);
    const agent = isAgent(v);
    const includeInternal = policy.can(v, 'ticket.view-internal', facts(t));
    const events = await cache.ofTicket(t.id, `events:${includeInternal}`, () => listEvents(db, t.id, { includeInternal }));
    const othersReplied = events.some((e) => e.kind === 'comment' && e.actor_id !== t.requester_id);
    const f = facts(t, othersReplied);
    const canEdit = policy.can(v, 'ticket.edit', f);
    const position = extra.position ?? positionOf(v, t, req.query);
    const seesSide = policy.can(v, 'tickets.list-all');
    const login = parseLogin(t.requester_login);
    const [categories, agents, names, responses, nav, open, person, knownIssues, files, mailed, teams] = await Promise.all([
      cache.categories(),
      canEdit ? cache.agents() : Promise.resolve([]),
      eventNames(events),
      policy.can(v, 'responses.use') ? cache.cannedResponses() : Promise.resolve([]),
      position ? neighboursFor(database, listViewer(v), position) : Promise.resolve(undefined),
      // Six, so that five remain once this ticket is left out.
      seesSide ? cache.openTicketsOf(t.requester_id, 6) : Promise.resolve([]),
      seesSide && directory?.enabled && login ? directory.get(login).then((o) => o.person, () => null) : Promise.resolve(null as DirectoryPerson | null),
      cache.ofTicket(t.id, 'known-issues', () => knownIssuesOfTicket(db, t.id)),
      policy.can(v, 'ticket.files', f) ? cache.ofTicket(t.id, `files:${includeInternal}`, () => listAttachments(db, t.id, { includeInternal })) : Promise.resolve([]),
      // Replies that came by e-mail, and where the whole message is.
      config.mail?.imap ? inboundOfTicket(db, t.id) : Promise.resolve([]),
      cache.teams(),
    ]);
    // The ticket's team first in the assignee list.
    const assignees = canEdit ? await assigneeChoices(database, directory, agents, teams.find((x) => x.id === t.team_id)) : { team: [], others: [] };
    // Agents see the service-level clocks and how each due time was worked out.
    const clocks = includeInternal ? await ticketClocks(database, await cache.slaPolicy(), t.id, new Date()) : [];
    const flashCode = takeFlash(req, res, config, `/tickets/${t.id}`) ?? '';
    const flash = flashCode === 'created-for' ? `Ticket raised for ${t.requester_name || t.requester_login}.` : FLASH_MESSAGES[flashCode];
    const composer: Composer = extra.composer ?? { mode: 'reply', body: '', errors: {} };
    res.status(extra.status ?? 200).render('tickets/show', {
      title: `${extra.status && extra.status >= 400 ? 'Error: ' : ''}#${t.id} ${t.title}`,
      wide: agent,
      t,
      f,
      events,
      names,
      categories,
      agents,
      assignees,
      teams,
      clocks,
      canEdit,
      statuses: STATUSES,
      statusLabels: STATUS_LABELS,
      statusHints: STATUS_HINTS,
      priorities: PRIORITIES,
      priorityName,
      channelLabels: CHANNEL_LABELS,
      editErrors: extra.editErrors ?? {},
      composer,
      // What this page shows: a reply posted from it checks for anything newer.
      seen: events.length ? events[events.length - 1].id : 0,
      requesterFirstName: firstName(t.requester_name, t.requester_login),
      responses,
      nav,
      position,
      positionFields: position ? { from: position.from, pos: positionText(position.anchor) } : null,
      side: seesSide ? { others: open.filter((o) => o.id !== t.id).slice(0, 5), person, directoryOn: Boolean(directory?.enabled) } : null,
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
    const [categories, teams] = await Promise.all([cache.categories(), events.some((e) => e.kind === 'team') ? cache.teams() : Promise.resolve([])]);
    return {
      person: new Map(people.map((p) => [String(p.id), p.display_name ?? p.login])),
      category: new Map(categories.map((c) => [String(c.id), c.name])),
      team: new Map(teams.map((x) => [String(x.id), x.name])),
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
    const position = positionOf(v, t, body);
    if (body.action === 'close' || body.action === 'reopen') {
      assertCan(policy, req, res, body.action === 'close' ? 'ticket.close' : 'ticket.reopen', facts(t));
      await setOwnStatus(database, actor, t.id, body.action, ticketEvents);
      setFlash(req, res, config, 'saved', `/tickets/${t.id}`);
      return res.redirect(303, withPosition(`/tickets/${t.id}`, position));
    }
    assertCan(policy, req, res, 'ticket.edit', facts(t), 'Only helpdesk agents can change a ticket’s status, priority, category or assignee.');
    const parsed = await parseEdit(database, body, t.assignee_id, t.team_id);
    if (!parsed.request) return renderTicket(req, res, t, { status: 400, editErrors: parsed.errors, position });
    const result = await editTicket(database, actor, t.id, parsed.request, ticketEvents);
    if (result.kind === 'not-found') throw notFound();
    if (result.kind === 'conflict') {
      const [categories, agents, names, fresh, teams] = await Promise.all([cache.categories(), cache.agents(), eventNames(result.theirEvents), getTicket(db, t.id), cache.teams()]);
      res.status(409).setHeader('Cache-Control', 'no-store');
      return res.render('tickets/conflict', {
        title: 'Someone else changed this first',
        status: 409,
        message: 'Someone else changed this ticket after you opened it.',
        t: fresh ?? t,
        conflict: result,
        categories,
        agents,
        teams,
        names,
        statusLabels: STATUS_LABELS,
        positionFields: position ? { from: position.from, pos: positionText(position.anchor) } : null,
      });
    }
    setFlash(req, res, config, 'saved', `/tickets/${t.id}`);
    res.redirect(303, withPosition(`/tickets/${t.id}`, position));
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
      const position = positionOf(v, t, body);
      const mode = internal ? 'note' : 'reply';
      const draft = typeof body.body === 'string' ? body.body : '';
      const assignMe = body.assignee === 'me';
      if (Object.keys(upload.errors).length) {
        await upload.discard();
        return await renderTicket(req, res, t, { status: 400, position, composer: { mode, body: draft, assignMe, errors: upload.errors } });
      }
      if (body.insert !== undefined) {
        // Without script, "Insert" posts the draft and the chosen reply and gets the page back with both.
        await upload.discard();
        assertCan(policy, req, res, 'responses.use');
        const raw = typeof body.response === 'string' ? body.response : '';
        const r = /^\d{1,9}$/.test(raw) ? await responseById(database, Number(raw)) : undefined;
        if (!r || !r.active) return await renderTicket(req, res, t, { status: 400, position, composer: { mode, body: draft, assignMe, errors: { response: 'Choose one of the listed canned replies' } } });
        const filled = fillPlaceholders(r.body, placeholderValues(t, v));
        const joined = draft.trim() ? `${draft.replace(/\s+$/, '')}\n\n${filled}` : filled;
        return await renderTicket(req, res, t, { position, composer: { mode, body: joined, assignMe, errors: {} } });
      }
      const actor = { personId: v.personId!, isAgent: isAgent(v) };
      const result = await addComment(database, actor, t.id, { body: body.body, internal: body.internal, status: body.status, assignee: body.assignee, seen: body.seen }, ticketEvents, upload.files);
      if (result.kind === 'invalid') return await renderTicket(req, res, t, { status: 400, position, composer: { mode, body: result.body, assignMe, errors: result.errors } });
      if (result.kind === 'changed') {
        res.setHeader('Cache-Control', 'no-store');
        const fresh = (await getTicket(db, t.id)) ?? t;
        const conflict = { newEvents: result.newEvents, status: typeof body.status === 'string' ? body.status : '', assignee: assignMe ? 'me' : '' };
        return await renderTicket(req, res, fresh, { status: 409, position, composer: { mode, body: result.body, assignMe, errors: {}, conflict } });
      }
      setFlash(req, res, config, 'commented', `/tickets/${t.id}`);
      res.redirect(303, withPosition(`/tickets/${t.id}`, position, '#latest'));
    } finally {
      await upload.discard();
    }
  });

  async function textFacts(v: RequestViewer, t: TicketRow): Promise<TicketFacts> {
    // Only a requester's right depends on replies; agents may always edit.
    const mine = !v.anonymous && v.personId === t.requester_id && !isAgent(v);
    return facts(t, mine ? await hasOthersReply(db, database.dialect, t.id, t.requester_id) : true);
  }

  function renderEdit(res: Response, t: TicketRow, status: number, form: TextForm, errors: FieldErrors, conflict?: { theirEvents: EventRow[] }) {
    return eventNames(conflict?.theirEvents ?? []).then((names) =>
      res.status(status).render('tickets/edit', {
        title: `${status >= 400 ? 'Error: ' : ''}Edit #${t.id}`,
        t,
        form,
        errors,
        conflict,
        names,
        limits: LIMITS,
      }),
    );
  }

  router.get('/tickets/:id/edit', async (req, res) => {
    const t = await loadTicket(req, res);
    const v = viewerOf(res);
    assertCan(policy, req, res, 'ticket.view', facts(t), 'This ticket belongs to someone else.');
    assertCan(policy, req, res, 'ticket.edit-text', await textFacts(v, t), 'You can change your ticket’s summary and description until the helpdesk has replied; after that, add a reply instead.');
    await renderEdit(res, t, 200, { version: String(t.version), title: t.title, description: t.description }, {});
  });

  router.post('/tickets/:id/edit', async (req, res) => {
    const t = await loadTicket(req, res);
    const v = viewerOf(res);
    assertCan(policy, req, res, 'ticket.view', facts(t), 'This ticket belongs to someone else.');
    assertCan(policy, req, res, 'ticket.edit-text', await textFacts(v, t), 'You can change your ticket’s summary and description until the helpdesk has replied; after that, add a reply instead.');
    const parsed = parseTextEdit(formOf(req));
    if (!parsed.request) return renderEdit(res, t, 400, parsed.form, parsed.errors);
    const result = await editText(database, { personId: v.personId!, isAgent: isAgent(v) }, t.id, parsed.request, ticketEvents);
    if (result.kind === 'not-found') throw notFound();
    if (result.kind === 'conflict') {
      res.setHeader('Cache-Control', 'no-store');
      const fresh = (await getTicket(db, t.id)) ?? t;
      // The draft is kept; the form now carries the current version, so saving again is "save anyway".
      return renderEdit(res, fresh, 409, { ...parsed.form, version: String(result.current.version) }, {}, { theirEvents: result.theirEvents });
    }
    setFlash(req, res, config, 'edited', `/tickets/${t.id}`);
    res.redirect(303, `/tickets/${t.id}`);
  });

  return router;
}
