import type { WebhookFormat } from '../../db/schema';
import { eventJson, ticketSummary, type EventNames, type PersonJson, type TicketSummaryJson } from '../api/representation';
import { STATUS_LABELS } from '../tickets/ticket-values';
import type { EventRow, TicketRow } from '../tickets/tickets.queries';

/**
 * What a webhook delivery says, fixed when it is queued (every retry sends the same bytes).
 * JSON: the API's own ticket shape (openapi.ts, `WebhookPayload`). Teams: an Adaptive Card
 * message, which both a channel's Incoming Webhook and a Workflows "when a webhook request
 * is received" flow post; people's text goes in TextRuns, which Teams shows as typed
 * (a TextBlock would read Markdown and {{DATE()}} in it, so a title could carry a link).
 */

export type WebhookEvent = 'ticket.raised' | 'ticket.changed' | 'ticket.commented';
export const WEBHOOK_EVENTS: readonly WebhookEvent[] = ['ticket.raised', 'ticket.changed', 'ticket.commented'];
export const WEBHOOK_EVENT_LABELS: Record<WebhookEvent, string> = {
  'ticket.raised': 'A ticket is raised',
  'ticket.changed': 'Its status, priority, category, assignee or team changes',
  'ticket.commented': 'Someone replies (or, for internal endpoints, adds a note)',
};

/** The field changes a webhook tells of. */
export const CHANGE_KINDS = new Set(['status', 'priority', 'category', 'assignee', 'team']);

export interface Change {
  field: string;
  from: unknown;
  to: unknown;
}

export interface PayloadInput {
  deliveryId: string;
  event: WebhookEvent | 'ping';
  occurredAt: string;
  actor: PersonJson | null;
  ticket: TicketRow | null;
  /** The events of this delivery, oldest first (internal notes only for internal endpoints). */
  events: EventRow[];
  names: EventNames;
  /** Where links point: the Deskside address the endpoint was set up with. */
  linkBase: string;
}

export interface WebhookJson {
  id: string;
  event: string;
  occurredAt: string;
  actor: PersonJson | null;
  ticket: TicketSummaryJson | null;
  changes: Change[];
  comment?: { body: string; internal: boolean };
}

export function jsonPayload(p: PayloadInput): WebhookJson {
  const at = { api: (path: string) => `${p.linkBase}/api/v1${path}`, web: (path: string) => `${p.linkBase}${path}` };
  const changes: Change[] = [];
  let comment: WebhookJson['comment'];
  for (const e of p.events) {
    if (CHANGE_KINDS.has(e.kind)) {
      const j = eventJson(e, p.names);
      changes.push({ field: e.kind, from: j.from ?? null, to: j.to ?? null });
    } else if ((e.kind === 'comment' || e.kind === 'note') && !comment) comment = { body: e.body ?? '', internal: e.kind === 'note' };
  }
  return {
    id: p.deliveryId,
    event: p.event,
    occurredAt: p.occurredAt,
    actor: p.actor,
    // Endpoints are set up by administrators for the desk: they are told the team.
    ticket: p.ticket ? ticketSummary(p.ticket, at, { team: true }) : null,
    changes,
    ...(comment ? { comment } : {}),
  };
}

const HEADLINES: Record<WebhookJson['event'], string> = {
  'ticket.raised': 'New ticket',
  'ticket.changed': 'Ticket changed',
  'ticket.commented': 'New reply',
  ping: 'Test message from Deskside',
};

function describe(value: unknown): string {
  if (value === null || value === undefined) return 'nobody';
  if (typeof value === 'string') return (STATUS_LABELS as Record<string, string>)[value] ?? value;
  const v = value as { name?: string | null; login?: string; title?: string };
  return v.name || v.login || v.title || '';
}

const run = (text: string, extra: Record<string, unknown> = {}) => ({ type: 'TextRun', text, ...extra });
const para = (...inlines: ReturnType<typeof run>[]) => ({ type: 'RichTextBlock', inlines });

/** A Teams channel card: what happened, the ticket, the changes and the reply, and a link. */
export function teamsCard(j: WebhookJson): Record<string, unknown> {
  const body: Record<string, unknown>[] = [{ type: 'TextBlock', text: HEADLINES[j.event] ?? 'Deskside', weight: 'Bolder', size: 'Medium', wrap: true }];
  const actions: Record<string, unknown>[] = [];
  if (j.ticket) {
    const t = j.ticket;
    body.push(para(run(`#${t.id} `, { weight: 'Bolder' }), run(t.title, { weight: 'Bolder' })));
    const facts = [
      { title: 'Status', value: STATUS_LABELS[t.status as keyof typeof STATUS_LABELS] ?? t.status },
      { title: 'Priority', value: t.priority },
      { title: 'Category', value: t.category.name },
    ];
    body.push({ type: 'FactSet', facts });
    body.push(para(run(`Raised by ${t.requester.name ?? t.requester.login}${t.assignee ? ` · assigned to ${t.assignee.name ?? t.assignee.login}` : ''}`, { isSubtle: true })));
    for (const c of j.changes) body.push(para(run(`${c.field[0].toUpperCase()}${c.field.slice(1)}: ${describe(c.from)} → ${describe(c.to)}`)));
    actions.push({ type: 'Action.OpenUrl', title: 'Open in Deskside', url: t.webUrl });
  }
  if (j.comment) {
    const who = j.actor ? (j.actor.name ?? j.actor.login) : 'Someone';
    body.push(para(run(`${who} ${j.comment.internal ? 'added an internal note' : 'replied'}:`, { isSubtle: true })));
    body.push(para(run(j.comment.body.length > 1500 ? `${j.comment.body.slice(0, 1500)}…` : j.comment.body)));
  }
  if (j.event === 'ping') body.push(para(run('This endpoint is set up to receive Deskside’s messages.')));
  return {
    type: 'message',
    attachments: [
      {
        contentType: 'application/vnd.microsoft.card.adaptive',
        contentUrl: null,
        content: { $schema: 'http://adaptivecards.io/schemas/adaptive-card.json', type: 'AdaptiveCard', version: '1.4', body, ...(actions.length ? { actions } : {}) },
      },
    ],
  };
}

/** The exact body of a delivery in the endpoint's format. */
export function deliveryBody(format: WebhookFormat, p: PayloadInput): string {
  const j = jsonPayload(p);
  return JSON.stringify(format === 'teams' ? teamsCard(j) : j);
}
