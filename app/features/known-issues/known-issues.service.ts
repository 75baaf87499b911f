import type { Transaction } from 'kysely';
import type { TicketStatus } from '../../access/policy';
import type { Database } from '../../db/database';
import type { DialectName } from '../../db/dialect';
import type { DB, KnownIssueStatus } from '../../db/schema';
import { nowIso, toDate } from '../../db/values';
import { listCategories } from '../categories/categories.queries';
import { cleanText, hasErrors, oneLine, text, type FieldErrors } from '../shared/form-values';
import { isActive, LIMITS } from '../tickets/ticket-values';
import { recordEvents, type EventListener } from '../tickets/ticket-events';
import { getTicketForUpdate, updateTicketAtVersion, type NewEvent } from '../tickets/tickets.queries';
import { insertNewTicket } from '../tickets/tickets.service';
import { afterTicketChanged, shapeOf } from '../tickets/ticket-effects';
import {
  getKnownIssue,
  insertKnownIssue,
  insertKnownIssueEvents,
  insertLink,
  isLinked,
  linkedTicketsForUpdate,
  listKnownIssues,
  ownLinkedTicket,
  touchKnownIssue,
  updateKnownIssueAtVersion,
  type KnownIssueChanges,
  type KnownIssueRow,
  type NewKnownIssueEvent,
} from './known-issues.queries';

export const KNOWN_ISSUE_STATUSES: readonly KnownIssueStatus[] = ['investigating', 'identified', 'monitoring', 'resolved'];

export const KNOWN_ISSUE_STATUS_LABELS: Record<KnownIssueStatus, string> = {
  investigating: 'Investigating',
  identified: 'Cause identified',
  monitoring: 'Fix in place, monitoring',
  resolved: 'Resolved',
};

export const KNOWN_ISSUE_LIMITS = { title: 120, summary: 4000, update: 4000 } as const;

function isKnownIssueStatus(v: string): v is KnownIssueStatus {
  return (KNOWN_ISSUE_STATUSES as readonly string[]).includes(v);
}

/** A summary as one short line for lists: whitespace folded, cut at a word before `max` characters. */
export function excerpt(text: string, max = 160): string {
  const line = text.replace(/\s+/g, ' ').trim();
  if (line.length <= max) return line;
  return `${line.slice(0, max - 1).replace(/\s+\S*$/, '')}…`;
}

/** The known issues still open, newest change first, each with a one-line excerpt: for the home page and the new-ticket form. */
export async function activeKnownIssues(database: Database, limit = 10): Promise<(KnownIssueRow & { excerpt: string })[]> {
  const rows = await listKnownIssues(database.db, database.dialect, { activeOnly: true, limit });
  return rows.map((k) => ({ ...k, excerpt: excerpt(k.summary) }));
}

export interface KnownIssueForm {
  title: string;
  summary: string;
  status: string;
  category: string;
}

export interface KnownIssueValues {
  title: string;
  summary: string;
  status: KnownIssueStatus;
  categoryId: number | null;
}

export function readKnownIssueForm(body: Record<string, unknown>): KnownIssueForm {
  return { title: oneLine(body.title), summary: cleanText(body.summary), status: text(body.status).trim() || 'investigating', category: text(body.category).trim() };
}

/** Check a known issue as an agent typed it; the category is optional (tickets raised with "me too" go there). */
export async function checkKnownIssue(database: Database, form: KnownIssueForm): Promise<{ errors: FieldErrors; values?: KnownIssueValues }> {
  const errors: FieldErrors = {};
  if (!form.title) errors.title = 'Enter a short public title, e.g. “E-mail is down in Building B”';
  else if (form.title.length > KNOWN_ISSUE_LIMITS.title) errors.title = `Keep the title to ${KNOWN_ISSUE_LIMITS.title} characters or fewer (it is ${form.title.length})`;
  if (!form.summary) errors.summary = 'Say what people will notice and what they can do meanwhile';
  else if (form.summary.length > KNOWN_ISSUE_LIMITS.summary) errors.summary = `Keep the summary to ${KNOWN_ISSUE_LIMITS.summary.toLocaleString('en-GB')} characters or fewer (it is ${form.summary.length.toLocaleString('en-GB')})`;
  if (!isKnownIssueStatus(form.status)) errors.status = 'Choose one of the listed statuses';
  let categoryId: number | null = null;
  if (form.category) {
    const categories = await listCategories(database.db, { activeOnly: true });
    const c = /^\d{1,9}$/.test(form.category) ? categories.find((x) => x.id === Number(form.category)) : undefined;
    if (c) categoryId = c.id;
    else errors.category = 'Choose one of the listed categories';
  }
  if (hasErrors(errors)) return { errors };
  return { errors, values: { title: form.title, summary: form.summary, status: form.status as KnownIssueStatus, categoryId } };
}

/** Publish a known issue; its first public event says so. */
export async function publishKnownIssue(database: Database, actorId: number, v: KnownIssueValues): Promise<number> {
  return database.write(async (trx) => {
    const at = nowIso();
    const id = await insertKnownIssue(trx, database.dialect, { title: v.title, summary: v.summary, status: v.status, categoryId: v.categoryId, createdBy: actorId, at });
    await insertKnownIssueEvents(trx, [{ knownIssueId: id, actorId, kind: 'published', to: v.status, public: true, at }]);
    return id;
  });
}

export interface KnownIssueEdit {
  version: number;
  values: KnownIssueValues;
  /** With a change to resolved: resolve every linked ticket that is still open, in the same transaction. */
  resolveTickets: boolean;
}

export type KnownIssueEditResult =
  | { kind: 'ok'; resolvedTickets: number }
  | { kind: 'not-found' }
  /** Someone changed it after the form was rendered: nothing was written. */
  | { kind: 'conflict'; current: KnownIssueRow };

export function readVersion(body: Record<string, unknown>): number | null {
  const v = text(body.version).trim();
  return /^\d{1,9}$/.test(v) ? Number(v) : null;
}

/**
 * Change a known issue's title, summary, status or category, if it is still at the
 * version the agent's form showed. Resolving it can resolve every linked ticket still
 * open, each with its own status event, all in one transaction.
 */
export async function changeKnownIssue(database: Database, actorId: number, id: number, edit: KnownIssueEdit, listener: EventListener): Promise<KnownIssueEditResult> {
  return database.write(async (trx): Promise<KnownIssueEditResult> => {
    const k = await getKnownIssue(trx, id);
    if (!k) return { kind: 'not-found' };
    if (k.version !== edit.version) return { kind: 'conflict', current: k };
    const at = nowIso();
    const v = edit.values;
    const changes: KnownIssueChanges = {};
    const events: NewKnownIssueEvent[] = [];
    if (v.title !== k.title || v.summary !== k.summary) {
      changes.title = v.title;
      changes.summary = v.summary;
      events.push({ knownIssueId: id, actorId, kind: 'edited', from: v.title !== k.title ? k.title : null, to: v.title !== k.title ? v.title : null, public: true, at });
    }
    if (v.categoryId !== k.category_id) changes.category_id = v.categoryId;
    if (v.status !== k.status) {
      changes.status = v.status;
      changes.active = v.status === 'resolved' ? 0 : 1;
      changes.resolved_at = v.status === 'resolved' ? at : null;
      events.push({ knownIssueId: id, actorId, kind: 'status', from: k.status, to: v.status, public: true, at });
    }
    if (Object.keys(changes).length === 0) return { kind: 'ok', resolvedTickets: 0 };
    if (!(await updateKnownIssueAtVersion(trx, id, k.version, changes, at))) {
      return { kind: 'conflict', current: (await getKnownIssue(trx, id)) ?? k };
    }
    await insertKnownIssueEvents(trx, events);
    const resolvedTickets = v.status === 'resolved' && k.status !== 'resolved' && edit.resolveTickets ? await resolveLinkedTickets(trx, database.dialect, id, actorId, at, listener) : 0;
    return { kind: 'ok', resolvedTickets };
  });
}

async function resolveLinkedTickets(trx: Transaction<DB>, dialect: DialectName, knownIssueId: number, actorId: number, at: string, listener: EventListener): Promise<number> {
  const events: NewEvent[] = [];
  const resolved: Awaited<ReturnType<typeof linkedTicketsForUpdate>> = [];
  for (const t of await linkedTicketsForUpdate(trx, knownIssueId)) {
    if (!isActive(t.status as TicketStatus)) continue;
    const resolvedAt = t.resolved_at ? toDate(t.resolved_at)!.toISOString() : at;
    if (await updateTicketAtVersion(trx, t.id, t.version, { status: 'resolved', active: 0, resolved_at: resolvedAt }, at)) {
      events.push({ ticketId: t.id, actorId, kind: 'status', from: t.status, to: 'resolved', ticketVersion: t.version + 1, at });
      resolved.push(t);
    }
  }
  await recordEvents(trx, dialect, listener, events);
  for (const t of resolved) await afterTicketChanged(trx, shapeOf(t), shapeOf(t, { status: 'resolved' }, t.version + 1), at);
  return events.length;
}

export type UpdateResult = { kind: 'ok'; copiedTo: number } | { kind: 'invalid'; errors: FieldErrors; body: string } | { kind: 'not-found' };

/**
 * A public update ("Engineers are replacing the switch; next update at 14:00"). It goes
 * on the known issue and into the timeline of every linked ticket, in one transaction.
 */
export async function postKnownIssueUpdate(database: Database, actorId: number, id: number, input: { body: unknown }, listener: EventListener): Promise<UpdateResult> {
  const body = cleanText(input.body);
  const errors: FieldErrors = {};
  if (!body) errors.body = 'Write the update before publishing it';
  else if (body.length > KNOWN_ISSUE_LIMITS.update) errors.body = `Keep the update to ${KNOWN_ISSUE_LIMITS.update.toLocaleString('en-GB')} characters or fewer (it is ${body.length.toLocaleString('en-GB')})`;
  if (hasErrors(errors)) return { kind: 'invalid', errors, body };
  return database.write(async (trx): Promise<UpdateResult> => {
    const k = await getKnownIssue(trx, id);
    if (!k) return { kind: 'not-found' };
    const at = nowIso();
    await insertKnownIssueEvents(trx, [{ knownIssueId: id, actorId, kind: 'update', body, public: true, at }]);
    await touchKnownIssue(trx, id, at);
    const linked = await linkedTicketsForUpdate(trx, id);
    // The ticket's version is unchanged: an update about the outage is news for the
    // requester, not an edit an agent's open form should conflict with.
    // A public event on each ticket, so its requester hears of it like any public reply.
    await recordEvents(
      trx,
      database.dialect,
      listener,
      linked.map((t) => ({ ticketId: t.id, actorId, kind: 'issue-update' as const, body, to: String(id), ticketVersion: t.version, at })),
    );
    return { kind: 'ok', copiedTo: linked.length };
  });
}

export type LinkResult = { kind: 'linked' } | { kind: 'already' } | { kind: 'no-ticket' } | { kind: 'not-found' } | { kind: 'invalid'; error: string };

/** Link a ticket to the known issue: an event on each (the ticket's is public, so its requester sees why). */
export async function linkTicket(database: Database, actorId: number, id: number, input: { ticket: unknown }, listener: EventListener): Promise<LinkResult> {
  const raw = text(input.ticket).trim().replace(/^#/, '');
  if (!/^\d{1,9}$/.test(raw)) return { kind: 'invalid', error: 'Enter the ticket number, e.g. 1234' };
  const ticketId = Number(raw);
  return database.write(async (trx): Promise<LinkResult> => {
    const k = await getKnownIssue(trx, id);
    if (!k) return { kind: 'not-found' };
    const t = await getTicketForUpdate(trx, ticketId);
    if (!t) return { kind: 'no-ticket' };
    if (await isLinked(trx, id, ticketId)) return { kind: 'already' };
    await link(trx, database.dialect, k, t, actorId, nowIso(), listener);
    return { kind: 'linked' };
  });
}

async function link(trx: Transaction<DB>, dialect: DialectName, k: KnownIssueRow, t: { id: number; version: number }, actorId: number, at: string, listener: EventListener): Promise<void> {
  await insertLink(trx, { knownIssueId: k.id, ticketId: t.id, linkedBy: actorId, at });
  await insertKnownIssueEvents(trx, [{ knownIssueId: k.id, actorId, kind: 'ticket-linked', to: String(t.id), public: false, at }]);
  await recordEvents(trx, dialect, listener, [{ ticketId: t.id, actorId, kind: 'issue-linked', to: String(k.id), from: k.title, ticketVersion: t.version, at }]);
}

export type MeTooResult = { kind: 'created'; ticketId: number } | { kind: 'existing'; ticketId: number } | { kind: 'resolved' } | { kind: 'not-found' } | { kind: 'no-category' };

/**
 * "This is my problem too": a ticket for the person, linked to the known issue, in one
 * click. Someone who already has a ticket for it is sent to that one instead of a
 * duplicate.
 */
export async function meToo(database: Database, personId: number, id: number, listener: EventListener): Promise<MeTooResult> {
  const categories = await listCategories(database.db, { activeOnly: true });
  return database.write(async (trx): Promise<MeTooResult> => {
    const k = await getKnownIssue(trx, id);
    if (!k) return { kind: 'not-found' };
    if (k.status === 'resolved') return { kind: 'resolved' };
    // Inside the write, so a double click finds the ticket the first click made.
    const existing = await ownLinkedTicket(trx, database.dialect, id, personId);
    if (existing && isActive(existing.status as TicketStatus)) return { kind: 'existing', ticketId: existing.id };
    const categoryId = categories.find((c) => c.id === k.category_id)?.id ?? categories[categories.length - 1]?.id;
    if (categoryId === undefined) return { kind: 'no-category' };
    const at = nowIso();
    const title = `Affected by: ${k.title}`.slice(0, LIMITS.title);
    const ticketId = await insertNewTicket(trx, database.dialect, personId, { title, description: `I am affected by the known issue “${k.title}”.`, categoryId, priority: 'normal' }, at, listener);
    await link(trx, database.dialect, k, { id: ticketId, version: 1 }, personId, at, listener);
    return { kind: 'created', ticketId };
  });
}
