import { Router, type Request, type Response } from 'express';
import type { Policy, TicketFacts } from '../../access/policy';
import type { Config } from '../../config/schema';
import type { Database } from '../../db/database';
import type { IdentityProvider } from '../../identity/types';
import type { Logger } from '../../logging';
import { parseLogin } from '../../login';
import type { DirectoryCache } from '../../directory/cache';
import { findPersonByKey, listPeopleByIds } from '../../people/people.queries';
import type { Csrf } from '../../web/csrf';
import { assertCan } from '../../web/guards';
import { SignInRequired } from '../../web/http-error';
import type { IdentifyDeps } from '../../web/identify';
import { isAgent, viewerOf } from '../../web/viewer';
import { getKnownIssue, knownIssuesOfTicket, listKnownIssueEvents, listKnownIssues, type KnownIssueRow } from '../known-issues/known-issues.queries';
import { describeViewer } from '../me/me.service';
import { MAX_QUERY, searchPeople } from '../people/people.service';
import { listTeams } from '../teams/teams.queries';
import type { EventListener } from '../tickets/ticket-events';
import type { TicketReadCache } from '../tickets/tickets.cache';
import { anchorOf, getTicket, hasOthersReply, listEvents, type TicketRow } from '../tickets/tickets.queries';
import { addComment, createTicket, editText, editTicket, listTicketsFor, listViewerOf, parseEdit, parseTextEdit, setOwnStatus, validateNewTicket, type EditRequest } from '../tickets/tickets.service';
import { identifyApiCaller } from './api.identify';
import { decodeCursor, encodeCursor } from './cursor';
import { API_BASE, originOf } from './links';
import { openApiDocument } from './openapi';
import { ApiProblem, bodyErrors, invalidFields, problemHandler } from './problem';
import { API_CHANNELS, bodyFields, ifMatch, PEOPLE_LIMIT, queryParams, readJsonBody } from './request';
import { iso, peopleInEvents, ticketDetail, ticketEtag, ticketSummary, type Addresses } from './representation';

export interface ApiDeps extends IdentifyDeps {
  policy: Policy;
  cache: TicketReadCache;
  ticketEvents: EventListener;
  csrf: Csrf;
  identity: IdentityProvider;
  logger: Logger;
  config: Config;
  database: Database;
  directory: DirectoryCache;
}

/** Every route, for 405s and the document's coverage test: path pattern → methods. */
export const API_ROUTES: { path: string; pattern: RegExp; methods: string[] }[] = [
  { path: '/openapi.json', pattern: /^\/openapi\.json$/, methods: ['GET'] },
  { path: '/me', pattern: /^\/me$/, methods: ['GET'] },
  { path: '/categories', pattern: /^\/categories$/, methods: ['GET'] },
  { path: '/people', pattern: /^\/people$/, methods: ['GET'] },
  { path: '/tickets', pattern: /^\/tickets$/, methods: ['GET', 'POST'] },
  { path: '/tickets/{id}', pattern: /^\/tickets\/[^/]+$/, methods: ['GET', 'PATCH'] },
  { path: '/tickets/{id}/comments', pattern: /^\/tickets\/[^/]+\/comments$/, methods: ['POST'] },
  { path: '/known-issues', pattern: /^\/known-issues$/, methods: ['GET'] },
  { path: '/known-issues/{id}', pattern: /^\/known-issues\/[^/]+$/, methods: ['GET'] },
];

const LIST_PARAMETERS = ['status', 'priority', 'category', 'assignee', 'requester', 'team', 'sla', 'q', 'sort', 'limit', 'cursor'] as const;

export const LIST_LIMIT = { default: 25, max: 100 };

/** An id from a JSON body as the services read form fields: its digits. */
const idText = (v: unknown): string | undefined => (typeof v === 'number' ? String(v) : undefined);

/**
 * The JSON API, mounted at /api/v1 before the pages' body parser, identity and CSRF check:
 * it identifies its callers itself (api.identify.ts) and answers every error as problem
 * details. Each handler is the pages' own path through the same policy and services:
 *
 * GET   /openapi.json             this API, described (OpenAPI 3.1)
 * GET   /me                       who is calling, and how they were recognised
 * GET   /categories               the categories (signed-in people)
 * GET   /people?q=                agents: people by name, login or e-mail (known, then the directory's)
 * GET   /tickets                  the list, with /tickets' filters and sort; cursor pages
 * POST  /tickets                  raise a ticket (agents: for a caller, by phone or walk-in)
 * GET   /tickets/{id}             a ticket and its timeline as the caller may see it; ETag
 * PATCH /tickets/{id}             status, priority, category, assignee, team, title, description; If-Match required
 * POST  /tickets/{id}/comments    a reply, or (agents) an internal note; agents may set the status with it
 * GET   /known-issues             what the desk publishes (guests too, with DESKSIDE_ANONYMOUS=browse)
 * GET   /known-issues/{id}        one, with its public updates
 */
export function apiRoutes(deps: ApiDeps): Router {
  const { config, database, policy, cache, ticketEvents } = deps;
  const db = database.db;
  const router = Router();
  const documentText = JSON.stringify(openApiDocument());

  router.use((_req, res, next) => {
    // Answers depend on who asks; nothing here may be stored by a cache in between.
    res.setHeader('Cache-Control', 'no-store');
    next();
  });

  // Before identification: the description is the same for everyone and costs no database read.
  router.get('/openapi.json', (_req, res) => {
    res.type('application/json').send(documentText);
  });

  router.use(identifyApiCaller(deps));
  // An address or method the API does not have is answered before any body is read.
  router.use((req, _res, next) => {
    const route = API_ROUTES.find((r) => r.pattern.test(req.path));
    if (!route) return next(new ApiProblem('not-found', `There is no ${req.path.slice(0, 200)} in this API; GET ${API_BASE}/openapi.json lists what there is.`));
    const allow = route.methods.includes('GET') ? [...route.methods, 'HEAD'] : route.methods;
    if (!allow.includes(req.method)) return next(new ApiProblem('method-not-allowed', `${req.method} is not allowed here; use ${allow.join(', ')}.`, { headers: { Allow: allow.join(', ') } }));
    next();
  });
  router.use(readJsonBody);

  const addresses = (req: Request): Addresses => {
    const origin = originOf(req, config);
    return { api: (p) => `${origin}${API_BASE}${p}`, web: (p) => `${origin}${p}` };
  };
  const facts = (t: TicketRow): TicketFacts => ({ requesterId: t.requester_id, status: t.status });

  /** As the ticket page: guests are sent to sign in before anything is read; others see their own (agents: any). */
  async function loadTicket(req: Request, res: Response): Promise<TicketRow> {
    assertCan(policy, req, res, 'tickets.list');
    const raw = String(req.params.id);
    const t = /^\d{1,9}$/.test(raw) ? await getTicket(db, Number(raw)) : undefined;
    if (!t) throw new ApiProblem('not-found', `There is no ticket ${raw.slice(0, 20)}.`);
    assertCan(policy, req, res, 'ticket.view', facts(t), 'This ticket belongs to someone else.');
    return t;
  }

  /** The ticket as the caller may see it, with its ETag set. */
  async function sendTicket(req: Request, res: Response, id: number, status = 200): Promise<void> {
    const t = await getTicket(db, id);
    if (!t) throw new ApiProblem('not-found', `There is no ticket ${id}.`);
    const v = viewerOf(res);
    const f = facts(t);
    const events = await listEvents(db, t.id, { includeInternal: policy.can(v, 'ticket.view-internal', f) });
    const ids = peopleInEvents(events);
    const [people, categories, knownIssues, teams] = await Promise.all([
      ids.length ? listPeopleByIds(db, ids) : Promise.resolve([]),
      cache.categories(),
      knownIssuesOfTicket(db, t.id),
      events.some((e) => e.kind === 'team') ? listTeams(db, { activeOnly: false }) : Promise.resolve([]),
    ]);
    const names = { people: new Map(people.map((p) => [p.id, { login: p.login, name: p.display_name }])), categories, teams };
    res.status(status).setHeader('ETag', ticketEtag(t.version));
    if (status === 201) res.setHeader('Location', addresses(req).api(`/tickets/${t.id}`));
    res.json(ticketDetail(t, { events, names, knownIssues, contact: policy.can(v, 'ticket.view-contact', f), team: policy.can(v, 'tickets.list-all') }, addresses(req)));
  }

  router.get('/me', (req, res) => {
    const v = viewerOf(res);
    res.json({
      ...describeViewer(v),
      personId: v.personId,
      via: v.anonymous ? null : (v.via ?? null),
      token: v.apiToken ? { id: v.apiToken.id, name: v.apiToken.name, scope: v.apiToken.scope, role: v.apiToken.role, expiresAt: v.apiToken.expiresAt.toISOString() } : null,
      // Only for the session cookie: what a page's script sends in X-CSRF-Token.
      csrfToken: v.via === 'session' ? deps.csrf.tokenFor(req, res) : null,
    });
  });

  router.get('/categories', async (req, res) => {
    assertCan(policy, req, res, 'tickets.list');
    queryParams(req, []);
    const categories = await cache.categories();
    res.json({ items: categories.map((c) => ({ id: c.id, name: c.name, description: c.description, active: c.active === 1 })) });
  });

  router.get('/people', async (req, res) => {
    assertCan(policy, req, res, 'people.search');
    const { q = '' } = queryParams(req, ['q']);
    if (q.length > MAX_QUERY) throw new ApiProblem('invalid-parameters', `Search for at most ${MAX_QUERY} characters.`, { errors: [{ parameter: 'q', detail: `At most ${MAX_QUERY} characters` }] });
    // The people page's search: people Deskside knows, then (with the directory on) Active Directory's.
    const found = await searchPeople(database, deps.directory, q, PEOPLE_LIMIT);
    res.json({ items: found.matches, directory: found.directory, truncated: found.truncated });
  });

  router.get('/tickets', async (req, res) => {
    assertCan(policy, req, res, 'tickets.list');
    const params = queryParams(req, LIST_PARAMETERS);
    const { limit: limitText, cursor: cursorText, ...filters } = params;
    const limit = limitText === undefined ? LIST_LIMIT.default : /^\d{1,3}$/.test(limitText) ? Number(limitText) : NaN;
    if (!(limit >= 1 && limit <= LIST_LIMIT.max)) throw new ApiProblem('invalid-parameters', `limit must be a whole number from 1 to ${LIST_LIMIT.max}.`, { errors: [{ parameter: 'limit', detail: `1 to ${LIST_LIMIT.max}` }] });
    const cursor = cursorText === undefined ? undefined : decodeCursor(cursorText);
    const v = viewerOf(res);
    const result = await listTicketsFor(database, cache, listViewerOf(policy, v), filters, { limit, after: cursor?.anchor });
    if (result.kind === 'sign-in') throw new SignInRequired(req.originalUrl);
    if (result.kind === 'invalid') throw new ApiProblem('invalid-parameters', result.message);
    const sort = String(result.params.sort);
    if (cursor && cursor.sort !== sort) {
      throw new ApiProblem('invalid-parameters', 'The cursor belongs to another sort order; keep the sort of the list it came from.', { errors: [{ parameter: 'cursor', detail: 'Another sort order' }] });
    }
    const at = addresses(req);
    let next: string | null = null;
    const last = result.rows[result.rows.length - 1];
    if (last && result.rows.length === limit) {
      const q = new URLSearchParams({ ...params, cursor: encodeCursor(sort, anchorOf(last)) });
      next = at.api(`/tickets?${q.toString()}`);
      res.setHeader('Link', `<${next}>; rel="next"`);
    }
    const team = policy.can(v, 'tickets.list-all');
    res.json({ items: result.rows.map((r) => ticketSummary(r, at, { team })), total: result.total, totalExact: result.totalExact, limit, next, notices: result.notices });
  });

  router.post('/tickets', async (req, res) => {
    assertCan(policy, req, res, 'ticket.create');
    const v = viewerOf(res);
    const body = bodyFields(req, { title: 'string', description: 'string', category: 'integer', priority: 'string', requester: 'string', channel: 'string' });
    // As on the new-ticket form: only agents say whom a ticket is for and how it came in.
    const forOthers = policy.can(v, 'ticket.create-for-others');
    if (!forOthers && (body.requester !== undefined || body.channel !== undefined)) {
      throw new ApiProblem('forbidden', 'Only helpdesk agents can raise a ticket for someone else or say how it reached the desk.');
    }
    if (body.channel !== undefined && !(API_CHANNELS as readonly unknown[]).includes(body.channel)) {
      throw invalidFields([{ pointer: '/channel', detail: `One of ${API_CHANNELS.join(', ')} (e-mail arrives through the desk's mailbox)` }]);
    }
    const { errors, values, choices } = await validateNewTicket(
      database,
      { ...body, category: idText(body.category), channel: body.channel ?? 'web' },
      forOthers ? { forOthers: { directory: deps.directory, selfId: v.personId! } } : {},
    );
    if (!values) {
      const fields = bodyErrors(errors);
      // A name that fits several people: say who, so the caller can send one of their logins.
      if (choices?.length) for (const f of fields) if (f.pointer === '/requester') f.detail = `${f.detail}: ${choices.map((c) => c.login).join(', ')}`;
      throw invalidFields(fields);
    }
    const id = await createTicket(database, v.personId!, values, ticketEvents);
    await sendTicket(req, res, id, 201);
  });

  router.get('/tickets/:id', async (req, res) => {
    queryParams(req, []);
    const t = await loadTicket(req, res);
    await sendTicket(req, res, t.id);
  });

  router.patch('/tickets/:id', async (req, res) => {
    const t = await loadTicket(req, res);
    const v = viewerOf(res);
    const body = bodyFields(req, { status: 'string', priority: 'string', category: 'integer', assignee: 'string-or-null', team: 'integer-or-null', title: 'string', description: 'string' });
    const match = ifMatch(req);
    const stale = () =>
      new ApiProblem('precondition-failed', 'Someone changed this ticket after you read it. GET it again, check the change still makes sense, and send it with the new ETag.', {
        headers: { ETag: ticketEtag(t.version) },
      });
    if (!match.any && !match.versions.includes(t.version)) throw stale();
    const actor = { personId: v.personId!, isAgent: isAgent(v) };
    const textChange = body.title !== undefined || body.description !== undefined;
    let text: { title: string; description: string } | undefined;
    if (textChange) {
      // The ticket page's rule: agents always; the requester until someone else has replied.
      const othersReplied = actor.isAgent ? true : await hasOthersReply(db, database.dialect, t.id, t.requester_id);
      assertCan(policy, req, res, 'ticket.edit-text', { ...facts(t), othersReplied }, 'You can change your ticket’s title and description until the helpdesk has replied; after that, add a reply instead.');
      const parsed = parseTextEdit({ version: String(t.version), title: body.title ?? t.title, description: body.description ?? t.description });
      if (!parsed.request) throw invalidFields(bodyErrors(parsed.errors));
      text = { title: parsed.request.title, description: parsed.request.description };
    }
    if (!policy.can(v, 'ticket.edit', facts(t))) {
      // A requester may close their own ticket, or reopen it, or (above) edit its text, as on its pages; nothing else.
      const others = Object.keys(body).filter((k) => k !== 'status' && k !== 'title' && k !== 'description');
      if (others.length) throw new ApiProblem('forbidden', `Only helpdesk agents can change a ticket’s ${others.join(', ')}.`);
      if (text && body.status !== undefined && body.status !== t.status) {
        throw invalidFields([{ pointer: '/status', detail: 'Close or reopen the ticket in a PATCH of its own, without title or description' }]);
      }
      if (text) {
        const result = await editText(database, actor, t.id, { version: t.version, ...text }, ticketEvents);
        if (result.kind === 'not-found') throw new ApiProblem('not-found', `There is no ticket ${t.id}.`);
        if (result.kind === 'conflict') throw stale();
        return sendTicket(req, res, t.id);
      }
      if (body.status === undefined || body.status === t.status) return sendTicket(req, res, t.id);
      const action = body.status === 'closed' ? 'close' : body.status === 'open' ? 'reopen' : undefined;
      if (!action) throw new ApiProblem('forbidden', 'You can close your ticket ("closed") or reopen it ("open"); other statuses are for agents.');
      assertCan(policy, req, res, action === 'close' ? 'ticket.close' : 'ticket.reopen', facts(t));
      if (!(await setOwnStatus(database, actor, t.id, action, ticketEvents, t.version))) throw stale();
      return sendTicket(req, res, t.id);
    }
    const form: Record<string, unknown> = { version: String(t.version), status: body.status, priority: body.priority, category: idText(body.category) };
    if (body.team !== undefined) form.team = body.team === null ? 'none' : idText(body.team);
    if (body.assignee === null) form.assignee = 'none';
    else if (typeof body.assignee === 'string') {
      const login = parseLogin(body.assignee);
      const person = login ? await findPersonByKey(db, login.key) : undefined;
      if (!person) throw invalidFields([{ pointer: '/assignee', detail: login ? `Nobody with the login ${login.login} has used Deskside` : 'Give a login such as CORP\\alice, or null to unassign' }]);
      form.assignee = String(person.id);
    }
    const parsed = await parseEdit(database, form, t.assignee_id, t.team_id);
    if (!parsed.request) throw invalidFields(bodyErrors(parsed.errors));
    // Fields and text together: one change at one version, one transaction.
    const request: EditRequest = { ...parsed.request, ...text };
    const result = await editTicket(database, actor, t.id, request, ticketEvents);
    if (result.kind === 'not-found') throw new ApiProblem('not-found', `There is no ticket ${t.id}.`);
    if (result.kind === 'conflict') throw stale();
    await sendTicket(req, res, t.id);
  });

  router.post('/tickets/:id/comments', async (req, res) => {
    const t = await loadTicket(req, res);
    const v = viewerOf(res);
    const body = bodyFields(req, { body: 'string', internal: 'boolean', status: 'string', assignee: 'string' });
    const internal = body.internal === true;
    assertCan(policy, req, res, internal ? 'ticket.note' : 'ticket.comment', facts(t), internal ? 'Only agents can write internal notes.' : 'You can only reply to your own tickets.');
    // The workbench's "Send and resolve" and "assign to me": the reply and its changes in one transaction.
    if ((body.status !== undefined || body.assignee !== undefined) && !policy.can(v, 'ticket.edit', facts(t))) {
      throw new ApiProblem('forbidden', 'Only helpdesk agents can change the status or take the ticket with a reply.');
    }
    const result = await addComment(database, { personId: v.personId!, isAgent: isAgent(v) }, t.id, { body: body.body, internal: internal ? 'true' : undefined, status: body.status, assignee: body.assignee }, ticketEvents);
    if (result.kind === 'invalid') throw invalidFields(bodyErrors(result.errors));
    await sendTicket(req, res, t.id, 201);
  });

  const knownIssueJson = (k: KnownIssueRow, at: Addresses) => ({
    id: k.id,
    title: k.title,
    summary: k.summary,
    status: k.status,
    active: k.active === 1,
    createdAt: iso(k.created_at)!,
    updatedAt: iso(k.updated_at)!,
    resolvedAt: iso(k.resolved_at),
    url: at.api(`/known-issues/${k.id}`),
    webUrl: at.web(`/known-issues/${k.id}`),
  });

  router.get('/known-issues', async (req, res) => {
    assertCan(policy, req, res, 'known-issues.view');
    queryParams(req, []);
    const at = addresses(req);
    const issues = await listKnownIssues(db, database.dialect, { activeOnly: false, limit: 100 });
    res.json({ items: issues.map((k) => knownIssueJson(k, at)) });
  });

  router.get('/known-issues/:id', async (req, res) => {
    assertCan(policy, req, res, 'known-issues.view');
    queryParams(req, []);
    const raw = String(req.params.id);
    const k = /^\d{1,9}$/.test(raw) ? await getKnownIssue(db, Number(raw)) : undefined;
    if (!k) throw new ApiProblem('not-found', `There is no known issue ${raw.slice(0, 20)}.`);
    const events = await listKnownIssueEvents(db, k.id, { includePrivate: false });
    res.json({
      ...knownIssueJson(k, addresses(req)),
      updates: events.map((e) => ({ id: e.id, kind: e.kind, at: iso(e.created_at)!, body: e.body, from: e.from_value, to: e.to_value })),
    });
  });

  router.use(problemHandler({ config, logger: deps.logger, challenges: () => deps.identity.challenges() }));
  return router;
}
