import type { CategoryRow } from '../categories/categories.queries';
import { toDate } from '../../db/values';
import { priorityName } from '../tickets/ticket-values';
import { INTERNAL_EVENT_KINDS, type EventRow, type TicketListRow, type TicketRow } from '../tickets/tickets.queries';

/**
 * What the API says about tickets, people and events: one shape each, described in the
 * OpenAPI document (openapi.ts) and used by the webhook payloads too. Plain functions of
 * rows; nothing here decides who may see what (the routes ask the policy first).
 */

export interface PersonJson {
  id: number;
  login: string;
  name: string | null;
}

export interface TicketSummaryJson {
  id: number;
  title: string;
  status: string;
  priority: string;
  category: { id: number; name: string };
  requester: PersonJson;
  assignee: PersonJson | null;
  /** Only for those who see the queue (the ticket page shows them the team alone). */
  team?: TeamRef | null;
  createdAt: string;
  updatedAt: string;
  commentCount: number;
  /** This ticket in the API. */
  url: string;
  /** This ticket's page, for people. */
  webUrl: string;
}

export interface EventJson {
  id: number;
  kind: string;
  at: string;
  actor: PersonJson | null;
  /** Replies, internal notes and known-issue updates. */
  body?: string;
  internal: boolean;
  /** Field changes: the value before and after (a person, category or team as an object). */
  from?: string | PersonJson | CategoryRef | TeamRef | null;
  to?: string | PersonJson | CategoryRef | TeamRef | KnownIssueRef | null;
}

export interface CategoryRef {
  id: number;
  name: string;
}

export interface TeamRef {
  id: number;
  name: string;
}

export interface KnownIssueRef {
  id: number;
  title: string;
}

export interface TicketJson extends TicketSummaryJson {
  description: string;
  /** How it reached the desk: web, phone, walk-in or email. */
  channel: string;
  resolvedAt: string | null;
  version: number;
  /** Only for those the policy lets see the requester's contact details. */
  requesterContact?: { email: string | null; department: string | null };
  knownIssues: { id: number; title: string; status: string }[];
  timeline: EventJson[];
}

export const iso = (v: string | Date | null): string | null => (v === null ? null : toDate(v)!.toISOString());

export function person(id: number | null, login: string | null, name: string | null): PersonJson | null {
  return id === null || login === null ? null : { id, login, name };
}

/** The API and page addresses of a ticket, from the caller's origin. */
export interface Addresses {
  api(path: string): string;
  web(path: string): string;
}

/** `team`: whether to tell the ticket's team (policy `tickets.list-all`, as the ticket page). */
export function ticketSummary(row: TicketListRow, at: Addresses, opts: { team: boolean }): TicketSummaryJson {
  return {
    id: row.id,
    title: row.title,
    status: row.status,
    priority: priorityName(row.priority),
    category: { id: row.category_id, name: row.category_name },
    requester: person(row.requester_id, row.requester_login, row.requester_name)!,
    assignee: person(row.assignee_id, row.assignee_login, row.assignee_name),
    ...(opts.team ? { team: row.team_id === null ? null : { id: row.team_id, name: row.team_name ?? '' } } : {}),
    createdAt: iso(row.created_at)!,
    updatedAt: iso(row.updated_at)!,
    commentCount: Number(row.comment_count),
    url: at.api(`/tickets/${row.id}`),
    webUrl: at.web(`/tickets/${row.id}`),
  };
}

/** Names for the ids events hold (assignees, categories, teams), as the ticket page shows them. */
export interface EventNames {
  people: Map<number, { login: string; name: string | null }>;
  categories: CategoryRow[];
  teams: { id: number; name: string }[];
}

function personRef(id: string | null, names: EventNames): PersonJson | null {
  if (id === null || !/^\d+$/.test(id)) return null;
  const p = names.people.get(Number(id));
  return p ? { id: Number(id), login: p.login, name: p.name } : { id: Number(id), login: '', name: null };
}

function categoryRef(id: string | null, names: EventNames): CategoryRef | null {
  if (id === null) return null;
  const c = names.categories.find((x) => String(x.id) === id);
  return { id: Number(id), name: c?.name ?? '' };
}

function teamRef(id: string | null, names: EventNames): TeamRef | null {
  if (id === null || !/^\d+$/.test(id)) return null;
  const t = names.teams.find((x) => String(x.id) === id);
  return { id: Number(id), name: t?.name ?? '' };
}

const INTERNAL_KINDS = new Set<string>(INTERNAL_EVENT_KINDS);

export function eventJson(e: EventRow, names: EventNames): EventJson {
  const out: EventJson = {
    id: e.id,
    kind: e.kind,
    at: iso(e.created_at)!,
    actor: person(e.actor_id, e.actor_login, e.actor_name),
    internal: INTERNAL_KINDS.has(e.kind),
  };
  switch (e.kind) {
    case 'comment':
    case 'note':
    case 'issue-update':
      out.body = e.body ?? '';
      break;
    case 'status':
    case 'priority':
    case 'title':
    case 'sla':
      out.from = e.from_value;
      out.to = e.to_value;
      break;
    case 'description':
      // The event keeps the text as it was before the change.
      out.from = e.body ?? '';
      break;
    case 'created':
      // How it reached the desk, when not through the web form.
      if (e.to_value) out.to = e.to_value;
      break;
    case 'team':
      out.from = teamRef(e.from_value, names);
      out.to = teamRef(e.to_value, names);
      break;
    case 'assignee':
      out.from = personRef(e.from_value, names);
      out.to = personRef(e.to_value, names);
      break;
    case 'category':
      out.from = categoryRef(e.from_value, names);
      out.to = categoryRef(e.to_value, names);
      break;
    case 'issue-linked':
      out.to = { id: Number(e.to_value), title: e.from_value ?? '' };
      break;
  }
  return out;
}

/** Person ids the events name (assignee changes), to look their names up once. */
export function peopleInEvents(events: EventRow[]): number[] {
  const ids = new Set<number>();
  for (const e of events) {
    if (e.kind !== 'assignee') continue;
    for (const v of [e.from_value, e.to_value]) if (v !== null && /^\d+$/.test(v)) ids.add(Number(v));
  }
  return [...ids];
}

export function ticketDetail(
  row: TicketRow,
  parts: { events: EventRow[]; names: EventNames; knownIssues: { id: number; title: string; status: string }[]; contact: boolean; team: boolean },
  at: Addresses,
): TicketJson {
  return {
    ...ticketSummary(row, at, { team: parts.team }),
    description: row.description,
    channel: row.channel,
    resolvedAt: iso(row.resolved_at),
    version: row.version,
    ...(parts.contact ? { requesterContact: { email: row.requester_email, department: row.requester_department } } : {}),
    knownIssues: parts.knownIssues.map((k) => ({ id: k.id, title: k.title, status: k.status })),
    timeline: parts.events.map((e) => eventJson(e, parts.names)),
  };
}

/** The ETag of a ticket: its version, which every change to its fields moves on (replies do not). */
export function ticketEtag(version: number): string {
  return `"${version}"`;
}
