import { PRIORITIES, STATUSES, LIMITS } from '../tickets/ticket-values';
import { SLA_FILTERS, SORT_KEYS } from '../tickets/tickets.filters';
import { INTERNAL_EVENT_KINDS } from '../tickets/tickets.queries';
import { PROBLEM_TYPES } from './problem';
import { API_BASE } from './links';
import { API_CHANNELS, JSON_BODY_LIMIT, PEOPLE_LIMIT } from './request';
import { MAX_QUERY } from '../people/people.service';

/**
 * The API described (OpenAPI 3.1, JSON Schema 2020-12): every route, parameter, body,
 * answer and error, and the webhook deliveries. Served at /api/v1/openapi.json, rendered
 * for people at /api, and the test suite checks every API answer it sees against it.
 */

type Json = Record<string, unknown>;

const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
const nullable = (schema: Json) => ({ anyOf: [schema, { type: 'null' }] });
const dateTime = { type: 'string', format: 'date-time' };
const json = (schema: Json) => ({ 'application/json': { schema } });

const PROBLEM_STATUS_TEXT: Record<number, string> = {
  400: 'The request cannot be read: bad JSON, an unknown or repeated query parameter, or forged sign-in headers.',
  401: 'No person: sign in with Windows (Negotiate/NTLM), or send a token; or the token is not valid (expired, revoked, or its person no longer holds the role it acts as).',
  403: 'The person may not do this (the same policy as the pages), a read-only token tried to write, or a session call lacked its CSRF token.',
  404: 'No such ticket or known issue.',
  412: 'The ticket changed since the ETag sent in If-Match; nothing was changed. The answer carries the current ETag.',
  413: `The body is larger than ${JSON_BODY_LIMIT.replace('kb', ' KB')}.`,
  415: 'The body is not JSON (Content-Type: application/json).',
  422: 'Fields are missing, unknown, of the wrong type or not acceptable; `errors` names each (JSON Pointer into the body).',
  428: 'If-Match is required for changes.',
  429: "This token's requests this minute reached DESKSIDE_API_RATE_LIMIT; Retry-After says when to try again.",
};

function problemResponse(status: number): Json {
  const headers: Json = {};
  if (status === 401) headers['WWW-Authenticate'] = { description: 'Negotiate and NTLM (as the transport offers) and Bearer; for a refused token, Bearer with error="invalid_token".', schema: { type: 'string' } };
  if (status === 403) headers['WWW-Authenticate'] = { description: 'Bearer error="insufficient_scope" when a read-only token tried to write.', schema: { type: 'string' } };
  if (status === 412) headers.ETag = { description: 'The ticket’s current ETag.', schema: { type: 'string' }, required: true };
  if (status === 415) headers['Accept-Post'] = { description: 'What the API accepts.', schema: { type: 'string' } };
  if (status === 429) headers['Retry-After'] = { description: 'Seconds until the token may call again.', schema: { type: 'integer', minimum: 1 }, required: true };
  return { description: PROBLEM_STATUS_TEXT[status], ...(Object.keys(headers).length ? { headers } : {}), content: { 'application/problem+json': { schema: ref('Problem') } } };
}

/** The error answers an operation can give, plus a `default` for the rest (405, 500, 503). */
function problems(...statuses: number[]): Json {
  const out: Json = {};
  for (const s of statuses) out[String(s)] = { $ref: `#/components/responses/Problem${s}` };
  out.default = { $ref: '#/components/responses/ProblemDefault' };
  return out;
}

/** Who may call: anyone (`{}`), a token, Windows authentication on the request, or the session cookie with its CSRF header. */
const ANYONE = [{}, { token: [] }, { windows: [] }, { session: [] }];
const PERSON = [{ token: [] }, { windows: [] }, { session: [] }];
const PERSON_WRITE = [{ token: [] }, { windows: [] }, { session: [], csrf: [] }];

const statusEnum = { type: 'string', enum: [...STATUSES] };
const priorityEnum = { type: 'string', enum: [...PRIORITIES] };

const LIST_PARAMETERS = [
  { name: 'status', in: 'query', schema: { type: 'string', enum: ['active', 'done', 'all', ...STATUSES] }, description: 'As on /tickets: `active` (new, open, pending) is the agents’ default, `all` the requesters’.' },
  { name: 'priority', in: 'query', schema: priorityEnum },
  { name: 'category', in: 'query', schema: { type: 'string', pattern: '^\\d{1,9}$' }, description: 'A category id (GET /categories).' },
  { name: 'assignee', in: 'query', schema: { type: 'string', maxLength: 320 }, description: '`me`, `none`, or a login such as `CORP\\alice`.' },
  { name: 'requester', in: 'query', schema: { type: 'string', maxLength: 320 }, description: 'Agents: `me` or a login. Requesters always see only their own tickets.' },
  { name: 'team', in: 'query', schema: { type: 'string', pattern: '^(\\d{1,9}|mine|none)$' }, description: 'A team id, `mine` (the teams the caller belongs to) or `none` (tickets in no team).' },
  { name: 'sla', in: 'query', schema: { type: 'string', enum: Object.keys(SLA_FILTERS) }, description: 'Open tickets `at-risk` of missing their next service-level target, or past it (`breached`).' },
  { name: 'q', in: 'query', schema: { type: 'string', maxLength: LIMITS.query }, description: 'Words that must all appear in the title or description (the last as a prefix).' },
  {
    name: 'sort',
    in: 'query',
    schema: { type: 'string', enum: [...SORT_KEYS.flatMap((k) => [`-${k}`, k]), 'oldest'], default: '-updated' },
    description: 'As the queue’s column headers: a key, `-` in front for descending. `-updated` (default) is recently updated first, `-priority` most urgent first, `due` the next service-level due time soonest first (none last); `id` and `created` are the same order; `oldest` means `created`.',
  },
  { name: 'limit', in: 'query', schema: { type: 'integer', minimum: 1, maximum: 100, default: 25 } },
  { name: 'cursor', in: 'query', schema: { type: 'string' }, description: 'From the previous page’s `next` link; keep the other parameters as they were.' },
];

const TICKET_ID = { name: 'id', in: 'path', required: true, schema: { type: 'string', pattern: '^\\d{1,9}$' }, description: 'The ticket number.' };

const schemas: Record<string, Json> = {
  Problem: {
    type: 'object',
    description: 'RFC 9457 problem details.',
    required: ['type', 'title', 'status', 'detail'],
    properties: {
      type: { type: 'string', format: 'uri', description: 'Where this kind of problem is explained (/api#problem-…).' },
      title: { type: 'string', enum: [...new Set(Object.values(PROBLEM_TYPES).map((p) => p.title))] },
      status: { type: 'integer', enum: [...new Set(Object.values(PROBLEM_TYPES).map((p) => p.status))] },
      detail: { type: 'string' },
      instance: { type: 'string' },
      errors: { type: 'array', minItems: 1, items: ref('ProblemField') },
      requestId: { type: 'string', description: 'The request id in Deskside’s log (also in X-Request-Id).' },
    },
    additionalProperties: false,
  },
  ProblemField: {
    type: 'object',
    required: ['detail'],
    properties: {
      detail: { type: 'string' },
      pointer: { type: 'string', description: 'JSON Pointer into the body (`/title`); empty for the body as a whole.' },
      parameter: { type: 'string', description: 'A query parameter.' },
      header: { type: 'string', description: 'A request header.' },
    },
    additionalProperties: false,
  },
  Person: {
    type: 'object',
    required: ['id', 'login', 'name'],
    properties: { id: { type: 'integer' }, login: { type: 'string', description: '`DOMAIN\\account`' }, name: nullable({ type: 'string' }) },
    additionalProperties: false,
  },
  CategoryRef: { type: 'object', required: ['id', 'name'], properties: { id: { type: 'integer' }, name: { type: 'string' } }, additionalProperties: false },
  KnownIssueRef: { type: 'object', required: ['id', 'title'], properties: { id: { type: 'integer' }, title: { type: 'string' } }, additionalProperties: false },
  TeamRef: { type: 'object', required: ['id', 'name'], properties: { id: { type: 'integer' }, name: { type: 'string' } }, additionalProperties: false },
  Category: {
    type: 'object',
    required: ['id', 'name', 'description', 'active'],
    properties: { id: { type: 'integer' }, name: { type: 'string' }, description: nullable({ type: 'string' }), active: { type: 'boolean', description: 'Offered when raising a ticket; retired ones stay on old tickets.' } },
    additionalProperties: false,
  },
  TicketSummary: {
    type: 'object',
    required: ['id', 'title', 'status', 'priority', 'category', 'requester', 'assignee', 'createdAt', 'updatedAt', 'commentCount', 'url', 'webUrl'],
    properties: {
      id: { type: 'integer' },
      title: { type: 'string' },
      status: statusEnum,
      priority: priorityEnum,
      category: ref('CategoryRef'),
      requester: ref('Person'),
      assignee: nullable(ref('Person')),
      team: { ...nullable(ref('TeamRef')), description: 'For agents (those who see the queue), as on the ticket page; null: in no team.' },
      createdAt: dateTime,
      updatedAt: dateTime,
      commentCount: { type: 'integer', minimum: 0, description: 'Public replies.' },
      url: { type: 'string', format: 'uri' },
      webUrl: { type: 'string', format: 'uri', description: 'The ticket’s page.' },
    },
  },
  Ticket: {
    allOf: [ref('TicketSummary')],
    type: 'object',
    required: ['description', 'channel', 'resolvedAt', 'version', 'knownIssues', 'timeline'],
    properties: {
      description: { type: 'string' },
      channel: { type: 'string', enum: ['web', 'phone', 'walk-in', 'email'], description: 'How it reached the desk.' },
      resolvedAt: nullable(dateTime),
      version: { type: 'integer', minimum: 1, description: 'Moves on with every change to the ticket’s fields (not with replies); the ETag is this number in quotes.' },
      requesterContact: {
        type: 'object',
        description: 'For agents and the requester.',
        required: ['email', 'department'],
        properties: { email: nullable({ type: 'string' }), department: nullable({ type: 'string' }) },
        additionalProperties: false,
      },
      knownIssues: {
        type: 'array',
        items: { type: 'object', required: ['id', 'title', 'status'], properties: { id: { type: 'integer' }, title: { type: 'string' }, status: { type: 'string' } }, additionalProperties: false },
      },
      timeline: { type: 'array', items: ref('Event'), description: 'Oldest first; internal notes only for agents.' },
    },
    unevaluatedProperties: false,
  },
  Event: {
    type: 'object',
    required: ['id', 'kind', 'at', 'actor', 'internal'],
    properties: {
      id: { type: 'integer' },
      kind: {
        type: 'string',
        enum: ['created', 'comment', 'note', 'status', 'priority', 'category', 'assignee', 'team', 'title', 'description', 'sla', 'issue-linked', 'issue-update', 'attached', 'note-attached', 'detached', 'note-detached'],
      },
      at: dateTime,
      actor: nullable(ref('Person')),
      internal: { type: 'boolean', description: `Only agents see it (${INTERNAL_EVENT_KINDS.join(', ')}).` },
      body: { type: 'string', description: 'Replies, notes and known-issue updates.' },
      from: {
        anyOf: [{ type: 'string' }, { type: 'null' }, ref('Person'), ref('CategoryRef'), ref('TeamRef')],
        description: 'Before a change: a status or priority name, a person (assignee), a category, a team, the old title or description; for `sla`, which target was missed.',
      },
      to: {
        anyOf: [{ type: 'string' }, { type: 'null' }, ref('Person'), ref('CategoryRef'), ref('TeamRef'), ref('KnownIssueRef')],
        description: 'After a change; for `issue-linked`, the known issue; for `created`, the channel when not the web; for `sla`, the due time it missed.',
      },
    },
    additionalProperties: false,
  },
  TicketList: {
    type: 'object',
    required: ['items', 'total', 'totalExact', 'limit', 'next', 'notices'],
    properties: {
      items: { type: 'array', items: { ...ref('TicketSummary'), unevaluatedProperties: false } },
      total: { type: 'integer', minimum: 0, description: 'Tickets matching the filters; may be a recent figure at scale.' },
      totalExact: { type: 'boolean', description: 'false: `total` is “about”.' },
      limit: { type: 'integer' },
      next: { ...nullable({ type: 'string', format: 'uri' }), description: 'The next page (also in the Link header); null on the last one.' },
      notices: { type: 'array', items: { type: 'string' }, description: 'What to know about the filters (an unknown login, a search without words).' },
    },
    additionalProperties: false,
  },
  NewTicket: {
    type: 'object',
    required: ['title', 'description', 'category'],
    properties: {
      title: { type: 'string', maxLength: LIMITS.title, description: 'One line.' },
      description: { type: 'string', maxLength: LIMITS.description },
      category: { type: 'integer', description: 'An active category’s id.' },
      priority: { ...priorityEnum, default: 'normal' },
      requester: { type: 'string', maxLength: 100, description: 'Agents: whom the ticket is for, by login, e-mail or name (people Deskside knows, then the directory); absent or empty: the caller.' },
      channel: { type: 'string', enum: [...API_CHANNELS], default: 'web', description: 'Agents: how it reached the desk. E-mail comes in through the desk’s mailbox.' },
    },
    additionalProperties: false,
  },
  TicketChanges: {
    type: 'object',
    description:
      'Only the fields to change, all at the one version If-Match names. Agents: any of them. Requesters: `status` `closed` (their own ticket) or `open` (reopen a resolved or closed one), ' +
      'or `title` and `description` until someone else has replied (in a PATCH of their own).',
    properties: {
      status: statusEnum,
      priority: priorityEnum,
      category: { type: 'integer' },
      assignee: { ...nullable({ type: 'string' }), description: 'An agent’s login (`CORP\\carol`), or null to unassign.' },
      team: { ...nullable({ type: 'integer' }), description: 'An active team’s id, or null for none.' },
      title: { type: 'string', maxLength: LIMITS.title, description: 'One line.' },
      description: { type: 'string', maxLength: LIMITS.description },
    },
    additionalProperties: false,
  },
  NewComment: {
    type: 'object',
    required: ['body'],
    properties: {
      body: { type: 'string', maxLength: LIMITS.comment },
      internal: { type: 'boolean', default: false, description: 'Agents: an internal note the requester never sees.' },
      status: { ...statusEnum, description: 'Agents: the status to set with it (the ticket page’s “Send and resolve”).' },
      assignee: { type: 'string', enum: ['me'], description: 'Agents: take the ticket with it.' },
    },
    additionalProperties: false,
  },
  Me: {
    type: 'object',
    required: ['anonymous', 'login', 'displayName', 'roles', 'groups', 'authType', 'source', 'personId', 'via', 'token', 'csrfToken'],
    properties: {
      anonymous: { type: 'boolean' },
      login: nullable({ type: 'string' }),
      displayName: nullable({ type: 'string' }),
      roles: { type: 'array', items: { type: 'string', enum: ['requester', 'agent', 'admin'] }, description: 'As this request may use them (a token’s role caps them).' },
      groups: { type: 'array', items: { type: 'string' } },
      authType: nullable({ type: 'string' }),
      source: nullable({ type: 'string' }),
      personId: nullable({ type: 'integer' }),
      via: { ...nullable({ type: 'string', enum: ['token', 'transport', 'session'] }), description: 'How this request was recognised.' },
      token: nullable({
        type: 'object',
        required: ['id', 'name', 'scope', 'role', 'expiresAt'],
        properties: { id: { type: 'integer' }, name: { type: 'string' }, scope: { type: 'string', enum: ['read', 'read-write'] }, role: { type: 'string', enum: ['requester', 'agent'] }, expiresAt: dateTime },
        additionalProperties: false,
      }),
      csrfToken: { ...nullable({ type: 'string' }), description: 'With the session cookie: the value for X-CSRF-Token.' },
    },
    additionalProperties: false,
  },
  PersonMatch: {
    type: 'object',
    required: ['login', 'name', 'email', 'department', 'title', 'source'],
    properties: {
      login: { type: 'string', description: '`DOMAIN\\account`: what `requester` and `assignee` take.' },
      name: nullable({ type: 'string' }),
      email: nullable({ type: 'string' }),
      department: nullable({ type: 'string' }),
      title: nullable({ type: 'string' }),
      source: { type: 'string', enum: ['known', 'directory'], description: '`known`: has used Deskside; `directory`: found in Active Directory only.' },
    },
    additionalProperties: false,
  },
  PeopleSearch: {
    type: 'object',
    required: ['items', 'directory', 'truncated'],
    properties: {
      items: { type: 'array', items: ref('PersonMatch') },
      directory: { type: 'string', enum: ['off', 'ok', 'unavailable'], description: 'Whether Active Directory was searched too (`unavailable`: only people Deskside knows were).' },
      truncated: { type: 'boolean', description: 'More people match than are listed: type more of the name.' },
    },
    additionalProperties: false,
  },
  KnownIssue: {
    type: 'object',
    required: ['id', 'title', 'summary', 'status', 'active', 'createdAt', 'updatedAt', 'resolvedAt', 'url', 'webUrl'],
    properties: {
      id: { type: 'integer' },
      title: { type: 'string' },
      summary: { type: 'string' },
      status: { type: 'string', enum: ['investigating', 'identified', 'monitoring', 'resolved'] },
      active: { type: 'boolean' },
      createdAt: dateTime,
      updatedAt: dateTime,
      resolvedAt: nullable(dateTime),
      url: { type: 'string', format: 'uri' },
      webUrl: { type: 'string', format: 'uri' },
    },
  },
  KnownIssueDetail: {
    allOf: [ref('KnownIssue')],
    type: 'object',
    required: ['updates'],
    properties: {
      updates: {
        type: 'array',
        description: 'Its public history, oldest first.',
        items: {
          type: 'object',
          required: ['id', 'kind', 'at', 'body', 'from', 'to'],
          properties: { id: { type: 'integer' }, kind: { type: 'string' }, at: dateTime, body: nullable({ type: 'string' }), from: nullable({ type: 'string' }), to: nullable({ type: 'string' }) },
          additionalProperties: false,
        },
      },
    },
    unevaluatedProperties: false,
  },
  WebhookPayload: {
    type: 'object',
    description: 'What a JSON webhook receives. Verify X-Deskside-Signature before trusting it.',
    required: ['id', 'event', 'occurredAt', 'actor', 'ticket', 'changes'],
    properties: {
      id: { type: 'string', description: 'The delivery’s id, the same on every retry (also in X-Deskside-Delivery): drop a second copy.' },
      event: { type: 'string', enum: ['ticket.raised', 'ticket.changed', 'ticket.commented', 'ping'] },
      occurredAt: dateTime,
      actor: nullable(ref('Person')),
      ticket: nullable({ ...ref('TicketSummary'), unevaluatedProperties: false }),
      changes: {
        type: 'array',
        items: { type: 'object', required: ['field', 'from', 'to'], properties: { field: { type: 'string' }, from: {}, to: {} }, additionalProperties: false },
        description: 'For ticket.changed (and a reply that also changed the status): each field, before and after.',
      },
      comment: {
        type: 'object',
        required: ['body', 'internal'],
        properties: { body: { type: 'string' }, internal: { type: 'boolean', description: 'Only ever true for endpoints marked internal.' } },
        additionalProperties: false,
      },
    },
    additionalProperties: false,
  },
};

const responses: Record<string, Json> = {
  ...Object.fromEntries(Object.keys(PROBLEM_STATUS_TEXT).map((s): [string, Json] => [`Problem${s}`, problemResponse(Number(s))])),
  ProblemDefault: { description: 'Any other problem: 405 (with Allow), 500, 503.', content: { 'application/problem+json': { schema: ref('Problem') } } },
};

const etagHeader = { ETag: { description: 'The ticket’s version, for If-Match.', schema: { type: 'string', pattern: '^"\\d+"$' }, required: true } };
const ticketAnswer = (description: string, extra: Json = {}) => ({ description, headers: { ...etagHeader, ...extra }, content: json(ref('Ticket')) });
const list = (item: Json) => ({ type: 'object', required: ['items'], properties: { items: { type: 'array', items: item } }, additionalProperties: false });

const paths: Json = {
  '/openapi.json': {
    get: { operationId: 'getOpenApi', summary: 'This document', security: ANYONE, responses: { 200: { description: 'OpenAPI 3.1', content: json({ type: 'object' }) }, ...problems() } },
  },
  '/me': {
    get: { operationId: 'getMe', summary: 'Who is calling, and how they were recognised', security: ANYONE, responses: { 200: { description: 'The caller (a guest too)', content: json(ref('Me')) }, ...problems(400, 401, 429) } },
  },
  '/categories': {
    get: { operationId: 'listCategories', summary: 'Categories, in the form’s order', security: PERSON, responses: { 200: { description: 'Every category', content: json(list(ref('Category'))) }, ...problems(400, 401, 429) } },
  },
  '/people': {
    get: {
      operationId: 'searchPeople',
      summary: 'Agents: find people by name, login or e-mail (those Deskside knows, then Active Directory’s)',
      security: PERSON,
      parameters: [{ name: 'q', in: 'query', schema: { type: 'string', maxLength: MAX_QUERY }, description: 'Words; each must appear in the name or login, or start the e-mail address.' }],
      responses: { 200: { description: `Up to ${PEOPLE_LIMIT} people`, content: json(ref('PeopleSearch')) }, ...problems(400, 401, 403, 429) },
    },
  },
  '/tickets': {
    get: {
      operationId: 'listTickets',
      summary: 'Tickets: agents see the queue, requesters their own',
      description: 'The filters and sort of the /tickets page. Pages follow `next` (or the Link header) until it is null.',
      security: PERSON,
      parameters: LIST_PARAMETERS,
      responses: {
        200: { description: 'One page', headers: { Link: { description: '`<…>; rel="next"` while there is a next page.', schema: { type: 'string' } } }, content: json(ref('TicketList')) },
        ...problems(400, 401, 429),
      },
    },
    post: {
      operationId: 'raiseTicket',
      summary: 'Raise a ticket',
      security: PERSON_WRITE,
      requestBody: { required: true, content: json(ref('NewTicket')) },
      responses: {
        201: ticketAnswer('Raised', { Location: { description: 'The new ticket.', schema: { type: 'string', format: 'uri' }, required: true } }),
        ...problems(400, 401, 403, 413, 415, 422, 429),
      },
    },
  },
  '/tickets/{id}': {
    parameters: [TICKET_ID],
    get: { operationId: 'getTicket', summary: 'A ticket and its timeline as the caller may see it', security: PERSON, responses: { 200: ticketAnswer('The ticket'), ...problems(400, 401, 403, 404, 429) } },
    patch: {
      operationId: 'changeTicket',
      summary: 'Change status, priority, category, assignee, team, title or description',
      security: PERSON_WRITE,
      parameters: [{ name: 'If-Match', in: 'header', required: true, schema: { type: 'string' }, description: 'The ETag from GET (`"3"`), or `*` to apply to whatever version it is.' }],
      requestBody: { required: true, content: { 'application/json': { schema: ref('TicketChanges') }, 'application/merge-patch+json': { schema: ref('TicketChanges') } } },
      responses: { 200: ticketAnswer('Changed (or nothing to change)'), ...problems(400, 401, 403, 404, 412, 413, 415, 422, 428, 429) },
    },
  },
  '/tickets/{id}/comments': {
    parameters: [TICKET_ID],
    post: {
      operationId: 'addComment',
      summary: 'Reply, or (agents) add an internal note',
      description: 'A requester’s reply to a ticket waiting on them (pending) reopens it, as on the page. An agent’s `status` or `assignee` is applied with the reply, in one change.',
      security: PERSON_WRITE,
      requestBody: { required: true, content: json(ref('NewComment')) },
      responses: { 201: ticketAnswer('Added; the ticket with its timeline'), ...problems(400, 401, 403, 404, 413, 415, 422, 429) },
    },
  },
  '/known-issues': {
    get: {
      operationId: 'listKnownIssues',
      summary: 'What the desk publishes: active first, then recently resolved',
      description: 'Guests may read them when DESKSIDE_ANONYMOUS=browse.',
      security: ANYONE,
      responses: { 200: { description: 'Up to 100', content: json(list({ ...ref('KnownIssue'), unevaluatedProperties: false })) }, ...problems(400, 401, 429) },
    },
  },
  '/known-issues/{id}': {
    parameters: [{ name: 'id', in: 'path', required: true, schema: { type: 'string', pattern: '^\\d{1,9}$' } }],
    get: { operationId: 'getKnownIssue', summary: 'A known issue and its public updates', security: ANYONE, responses: { 200: { description: 'The known issue', content: json(ref('KnownIssueDetail')) }, ...problems(400, 401, 404, 429) } },
  },
};

const deliveryHeaders = [
  { name: 'X-Deskside-Event', in: 'header', required: true, schema: { type: 'string' } },
  { name: 'X-Deskside-Delivery', in: 'header', required: true, schema: { type: 'string' }, description: 'The same on every retry of one delivery.' },
  { name: 'X-Deskside-Timestamp', in: 'header', required: true, schema: { type: 'string', pattern: '^\\d+$' }, description: 'Seconds since 1970 when this try was sent; refuse ones more than 5 minutes off.' },
  { name: 'X-Deskside-Signature', in: 'header', required: true, schema: { type: 'string', pattern: '^sha256=[0-9a-f]{64}$' }, description: '`sha256=` and the hex HMAC-SHA256, keyed with the endpoint’s secret, of the timestamp, a full stop, and the body’s bytes.' },
];

const webhook = (event: string, summary: string) => ({
  post: {
    operationId: `webhook-${event}`,
    summary,
    parameters: deliveryHeaders,
    requestBody: { required: true, content: { 'application/json': { schema: ref('WebhookPayload') } } },
    responses: { '2XX': { description: 'Taken. Anything else, or no answer in DESKSIDE_WEBHOOK_TIMEOUT_SECONDS, is a failed try: 408, 429 and 5xx are retried with backoff, others are not.' } },
  },
});

export function openApiDocument(): Json {
  return {
    openapi: '3.1.0',
    jsonSchemaDialect: 'https://json-schema.org/draft/2020-12/schema',
    info: {
      title: 'Deskside API',
      version: '1',
      description:
        'The helpdesk as JSON, on the same identity as the pages: a personal access token (`Authorization: Bearer dsk_…`, made at /me/tokens), ' +
        'or Windows authentication on the request itself (`Invoke-RestMethod -UseDefaultCredentials`, `curl --negotiate -u :`), ' +
        'or the browser session with its CSRF token in `X-CSRF-Token`. The same rules as the pages decide what each person may see and do. ' +
        'Errors are RFC 9457 problem details; unknown fields and parameters are refused.',
    },
    servers: [{ url: API_BASE }],
    security: PERSON,
    paths,
    webhooks: {
      ticketRaised: webhook('ticket.raised', 'A ticket was raised'),
      ticketChanged: webhook('ticket.changed', 'A ticket’s status, priority, category, assignee or team changed'),
      ticketCommented: webhook('ticket.commented', 'A reply (or, for internal endpoints, a note) was added'),
    },
    components: {
      schemas,
      responses,
      securitySchemes: {
        token: { type: 'http', scheme: 'bearer', description: 'A personal access token from /me/tokens (read, or read and write; acting as a requester or an agent).' },
        windows: { type: 'http', scheme: 'negotiate', description: 'Windows authentication on the request: IIS (iisnode), a trusted reverse proxy, or Deskside’s own Kerberos.' },
        session: { type: 'apiKey', in: 'cookie', name: 'deskside_session', description: 'The browser’s sign-in session.' },
        csrf: { type: 'apiKey', in: 'header', name: 'X-CSRF-Token', description: 'With the session cookie, for anything but a read (GET /me gives it).' },
      },
    },
  };
}
