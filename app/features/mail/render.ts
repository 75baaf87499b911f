import ejs from 'ejs';
import path from 'node:path';
import type { MailAudience } from '../../db/schema';
import { APP_ROOT } from '../../paths';
import type { EventRow, TicketRow } from '../tickets/tickets.queries';
import { isStatus, priorityName, STATUS_LABELS } from '../tickets/ticket-values';

/**
 * What a notification says, worked out here and written out by two templates per kind of
 * mail (views/mail/*.text.ejs and *.html.ejs). The HTML escapes everything a person wrote;
 * the text part is plain text and needs no escaping (it is never read as HTML).
 */

export interface MailItem {
  kind: 'created' | 'comment' | 'status' | 'assignee' | 'issue-update' | 'attached';
  /** Who did it, as people know them. */
  who: string;
  /** What they wrote (a reply, an update, the new ticket's description). */
  body?: string;
  /** status: the new status, as pages name it. */
  statusLabel?: string;
  assigneeName?: string;
  knownIssueUrl?: string;
  /** attached: the files' names, as they are on the ticket. */
  files?: string[];
}

export interface TicketMailView {
  audience: MailAudience;
  headline: string;
  ticket: { id: number; title: string; url: string; status: string; priority: string; category: string; requester: string };
  items: MailItem[];
  /** Why this person gets it, and where to stop it. */
  why: string;
  preferencesUrl: string;
  /** The desk's mailbox is read: answering the mail adds to the ticket. */
  replyByMail: boolean;
}

export interface RenderedMail {
  text: string;
  html: string;
}

const VIEWS = path.join(APP_ROOT, 'views', 'mail');

const name = (displayName: string | null | undefined, login: string | null | undefined) => displayName || login || 'Someone';

/** A person's multi-line text as HTML: escaped, line breaks kept (Outlook ignores white-space: pre-wrap). */
export function htmlText(text: string): string {
  return ejs.escapeXML(text).replace(/\r?\n/g, '<br>\n');
}

function headlineFor(audience: MailAudience, first: MailItem, ticketId: number): string {
  const n = `#${ticketId}`;
  switch (audience) {
    case 'requester':
      if (first.kind === 'created') return `We have your request: its number is ${n}`;
      if (first.kind === 'comment') return `${first.who} replied to your ticket ${n}`;
      if (first.kind === 'status') return `Your ticket ${n} is ${first.statusLabel?.toLowerCase() ?? 'done'}`;
      if (first.kind === 'issue-update') return `News about the known issue behind your ticket ${n}`;
      if (first.kind === 'attached') return `${first.who} added files to your ticket ${n}`;
      return `Your ticket ${n} has changed`;
    case 'assignee':
      if (first.kind === 'assignee') return `${first.who} assigned ticket ${n} to you`;
      if (first.kind === 'comment') return `${first.who} replied on ticket ${n}`;
      if (first.kind === 'attached') return `${first.who} added files to ticket ${n}`;
      return `Ticket ${n} has changed`;
    case 'agent':
      return `${first.who} raised a new ticket: ${n}`;
  }
}

const WHY: Record<MailAudience, string> = {
  requester: 'You get this e-mail because you raised this ticket.',
  assignee: 'You get this e-mail because this ticket is assigned to you.',
  agent: 'You get this e-mail because you asked to hear of every new ticket.',
};

/**
 * The view of a ticket notification from the ticket, the events it tells of (as loaded:
 * already only those this recipient may see) and the names of people they mention.
 */
export function ticketMailView(input: {
  audience: MailAudience;
  ticket: TicketRow;
  events: EventRow[];
  personNames: Map<string, string>;
  publicUrl: string;
  replyByMail: boolean;
}): TicketMailView | null {
  const { audience, ticket: t, publicUrl } = input;
  const items: MailItem[] = [];
  for (const e of input.events) {
    const who = e.actor_id ? name(e.actor_name, e.actor_login) : 'Deskside';
    switch (e.kind) {
      case 'created':
        items.push({ kind: 'created', who, body: t.description });
        break;
      case 'comment':
        items.push({ kind: 'comment', who, body: e.body ?? '' });
        break;
      case 'status':
        items.push({ kind: 'status', who, statusLabel: isStatus(e.to_value) ? STATUS_LABELS[e.to_value] : (e.to_value ?? '') });
        break;
      case 'assignee':
        items.push({ kind: 'assignee', who, assigneeName: e.to_value ? (input.personNames.get(e.to_value) ?? 'an agent') : 'nobody' });
        break;
      case 'issue-update':
        items.push({ kind: 'issue-update', who, body: e.body ?? '', knownIssueUrl: e.to_value ? `${publicUrl}/known-issues/${e.to_value}` : undefined });
        break;
      case 'attached': {
        // One line for the files one person sent together.
        const last = items[items.length - 1];
        if (last?.kind === 'attached' && last.who === who) last.files!.push(e.from_value ?? 'a file');
        else items.push({ kind: 'attached', who, files: [e.from_value ?? 'a file'] });
        break;
      }
      // Anything else (never a note: those are not loaded for mail) says nothing here.
    }
  }
  if (items.length === 0) return null;
  return {
    audience,
    headline: headlineFor(audience, items[0], t.id),
    ticket: {
      id: t.id,
      title: t.title,
      url: `${publicUrl}/tickets/${t.id}`,
      status: STATUS_LABELS[t.status] ?? t.status,
      priority: priorityName(t.priority),
      category: t.category_name,
      requester: name(t.requester_name, t.requester_login),
    },
    items,
    why: WHY[audience],
    preferencesUrl: `${publicUrl}/me/notifications`,
    replyByMail: input.replyByMail,
  };
}

/** The text part's "escape": values as they are (templates only ever print strings and numbers). */
function plain(value: unknown): string {
  return typeof value === 'string' ? value : typeof value === 'number' ? String(value) : '';
}

function renderFile(file: string, data: object, text: boolean): Promise<string> {
  // The text part is not HTML: <%= %> there writes what people wrote as it is.
  const opts: ejs.Options = text ? { cache: true, escape: plain } : { cache: true };
  return ejs.renderFile(path.join(VIEWS, file), { ...data, htmlText }, opts);
}

/** Both parts of a mail from its templates (`ticket`, `test`). */
export async function renderMail(template: 'ticket' | 'test', data: object): Promise<RenderedMail> {
  const [text, html] = await Promise.all([renderFile(`${template}.text.ejs`, data, true), renderFile(`${template}.html.ejs`, data, false)]);
  return { text: text.replace(/\n{3,}/g, '\n\n').trim() + '\n', html };
}
