import type { TicketFacts, TicketStatus } from '../../access/policy';
import type { Database } from '../../db/database';
import { nowIso } from '../../db/values';
import { parseLogin } from '../../login';
import { findPersonByKey, listAgents } from '../../people/people.queries';
import { listCategories } from '../categories/categories.queries';
import { text, type FieldErrors } from '../shared/form-values';
import { isPriority, isStatus } from './ticket-values';
import { recordEvents, type EventListener } from './ticket-events';
import { afterTicketChanged, shapeOf, type TicketShape } from './ticket-effects';
import { getTicketsForUpdate, updateTicketAtVersion, type NewEvent } from './tickets.queries';
import { planChanges, type Actor, type FieldRequest } from './tickets.service';

/** Most tickets one bulk post may change: the longest queue page. */
export const BULK_MAX = 100;

export interface BulkForm {
  tickets: string[];
  assignee: string;
  status: string;
  priority: string;
  category: string;
}

export interface BulkRequest {
  items: { id: number; version: number }[];
  fields: FieldRequest;
}

/**
 * Read the queue's bulk form: repeated `ticket=<id>:<version>` (the version the page
 * showed) and the changes, each blank for "leave as it is". The assignee is `me`, `none`
 * or an agent's login.
 */
export async function parseBulk(database: Database, body: Record<string, unknown>, actor: Actor): Promise<{ form: BulkForm; errors: FieldErrors; request?: BulkRequest }> {
  const raw = body.ticket;
  const tickets = (Array.isArray(raw) ? raw : raw === undefined ? [] : [raw]).map((t) => text(t).trim());
  const form: BulkForm = {
    tickets,
    assignee: text(body.assignee).trim(),
    status: text(body.status).trim(),
    priority: text(body.priority).trim(),
    category: text(body.category).trim(),
  };
  const errors: FieldErrors = {};
  const items = new Map<number, number>();
  if (tickets.length === 0) errors.tickets = 'Select at least one ticket';
  else if (tickets.length > BULK_MAX) errors.tickets = `Select at most ${BULK_MAX} tickets at a time`;
  else {
    for (const t of tickets) {
      const m = /^(\d{1,9}):(\d{1,9})$/.exec(t);
      if (!m || (items.has(Number(m[1])) && items.get(Number(m[1])) !== Number(m[2]))) {
        errors.tickets = 'The selection is not one this page made; reload the queue and select again';
        break;
      }
      items.set(Number(m[1]), Number(m[2]));
    }
  }
  const fields: FieldRequest = {};
  if (form.assignee === 'me') fields.assigneeId = actor.personId;
  else if (form.assignee === 'none') fields.assigneeId = null;
  else if (form.assignee) {
    const login = parseLogin(form.assignee);
    const person = login ? await findPersonByKey(database.db, login.key) : undefined;
    const agents = person ? await listAgents(database.db) : [];
    if (person && agents.some((a) => a.id === person.id)) fields.assigneeId = person.id;
    else errors.assignee = `${form.assignee.slice(0, 100)} is not an agent; choose one of the listed agents`;
  }
  if (form.status) {
    if (isStatus(form.status)) fields.status = form.status;
    else errors.status = 'Choose one of the listed statuses';
  }
  if (form.priority) {
    if (isPriority(form.priority)) fields.priority = form.priority;
    else errors.priority = 'Choose low, normal, high or urgent';
  }
  if (form.category) {
    const c = /^\d{1,9}$/.test(form.category) ? (await listCategories(database.db, { activeOnly: true })).find((x) => x.id === Number(form.category)) : undefined;
    if (c) fields.categoryId = c.id;
    else errors.category = 'Choose one of the listed categories';
  }
  if (Object.keys(errors).length === 0 && Object.keys(fields).length === 0) errors.assignee = 'Choose at least one change: an assignee, a status, a priority or a category';
  if (Object.keys(errors).length) return { form, errors };
  return { form, errors, request: { items: [...items].map(([id, version]) => ({ id, version })), fields } };
}

export interface BulkTicket {
  id: number;
  title: string;
}

export interface BulkOutcome {
  /** Changed, with how many changes (events) each. */
  applied: (BulkTicket & { changes: number })[];
  /** Already as asked: nothing to write. */
  unchanged: BulkTicket[];
  /** Not touched: changed by someone since the page was shown, gone, or not this person's to change. */
  skipped: (Partial<BulkTicket> & { id: number; reason: 'stale' | 'missing' | 'forbidden' })[];
}

/**
 * Apply one change to many tickets in one transaction. Each ticket is checked against the
 * policy (`mayEdit`) and applied only at the version the queue showed: one that moved on
 * since is skipped, never overwritten. Every change is an event, written with its ticket.
 */
export async function bulkChange(database: Database, actor: Actor, mayEdit: (t: TicketFacts) => boolean, req: BulkRequest, listener: EventListener): Promise<BulkOutcome> {
  return database.write(async (trx) => {
    const out: BulkOutcome = { applied: [], unchanged: [], skipped: [] };
    const found = new Map((await getTicketsForUpdate(trx, req.items.map((i) => i.id))).map((t) => [t.id, t]));
    const at = nowIso();
    const events: NewEvent[] = [];
    const changed: [TicketShape, TicketShape][] = [];
    for (const item of req.items) {
      const t = found.get(item.id);
      if (!t) {
        out.skipped.push({ id: item.id, reason: 'missing' });
        continue;
      }
      const who = { id: t.id, title: t.title };
      if (!mayEdit({ requesterId: t.requester_id, status: t.status as TicketStatus })) out.skipped.push({ ...who, reason: 'forbidden' });
      else if (t.version !== item.version) out.skipped.push({ ...who, reason: 'stale' });
      else {
        const plan = planChanges(t, req.fields, actor.personId, at);
        if (plan.events.length === 0) out.unchanged.push(who);
        else if (await updateTicketAtVersion(trx, t.id, t.version, plan.changes, at)) {
          events.push(...plan.events);
          changed.push([shapeOf(t), shapeOf(t, plan.changes, t.version + 1)]);
          out.applied.push({ ...who, changes: plan.events.length });
        } else out.skipped.push({ ...who, reason: 'stale' });
      }
    }
    await recordEvents(trx, database.dialect, listener, events);
    for (const [before, after] of changed) await afterTicketChanged(trx, before, after, at);
    return out;
  });
}
