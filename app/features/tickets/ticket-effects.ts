/**
 * What else changes, in the same transaction, when a ticket is raised or changed: the
 * dashboard's running totals and the ticket's service-level clocks. Every path that writes
 * a ticket (the ticket page, known issues, bulk changes, the API) goes through these two
 * functions after writing the ticket and its events, so the totals always add up to the
 * tickets and a due time always follows the ticket's history.
 */
import type { Transaction } from 'kysely';
import type { DB } from '../../db/schema';
import { toDate } from '../../db/values';
import { addToDay, addToOpenAge, addToOpenCount } from '../dashboard/dashboard.queries';
import { loadPolicy, localDay, settleClocks, startClocks, type ClockTicket } from '../service-levels/clocks';
import { isActive, isStatus } from './ticket-values';

/** A ticket as the totals and clocks see it. */
export interface TicketShape {
  id: number;
  version: number;
  status: string;
  priority: number;
  categoryId: number;
  teamId: number | null;
  assigneeId: number | null;
  requesterId: number;
  createdAt: string | Date;
}

/** The shape of a row read by getTicketForUpdate, with changes applied. */
export function shapeOf(t: { id: number; version: number; status: string; priority: number; category_id: number; team_id: number | null; assignee_id: number | null; requester_id: number; created_at: string | Date }, changes: { status?: string; priority?: number; category_id?: number; team_id?: number | null; assignee_id?: number | null } = {}, version = t.version): TicketShape {
  return {
    id: t.id,
    version,
    status: changes.status ?? t.status,
    priority: changes.priority ?? t.priority,
    categoryId: changes.category_id ?? t.category_id,
    teamId: changes.team_id !== undefined ? changes.team_id : t.team_id,
    assigneeId: changes.assignee_id !== undefined ? changes.assignee_id : t.assignee_id,
    requesterId: t.requester_id,
    createdAt: t.created_at,
  };
}

const active = (s: string) => isStatus(s) && isActive(s);
const utcDay = (at: string | Date) => toDate(at)!.toISOString().slice(0, 10);
const clockTicket = (t: TicketShape): ClockTicket => ({ id: t.id, version: t.version, status: t.status, priority: t.priority, categoryId: t.categoryId, requesterId: t.requesterId, createdAt: toDate(t.createdAt)!.toISOString() });

/** A new ticket (already inserted, with its "created" event). */
export async function afterTicketRaised(trx: Transaction<DB>, t: TicketShape, at: string): Promise<void> {
  const policy = await loadPolicy(trx);
  await addToDay(trx, localDay(policy, t.createdAt), { raised: 1 });
  // Tickets are raised open; one raised closed (an import) counts as raised, not resolved.
  if (active(t.status)) {
    await addToOpenAge(trx, utcDay(t.createdAt), 1);
    await addToOpenCount(trx, t, 1);
  }
  await startClocks(trx, policy, clockTicket(t), at);
}

/**
 * A changed ticket (already updated, with its events): `before` as it was, `after` as it
 * is now. `agentReplied`: the change was (or came with) a public reply by an agent.
 */
export async function afterTicketChanged(trx: Transaction<DB>, before: TicketShape, after: TicketShape, at: string, opts: { agentReplied?: boolean } = {}): Promise<void> {
  const was = active(before.status);
  const is = active(after.status);
  const moved = before.teamId !== after.teamId || before.assigneeId !== after.assigneeId || before.priority !== after.priority;
  const policy = was !== is || before.status !== after.status || before.priority !== after.priority || before.categoryId !== after.categoryId || opts.agentReplied ? await loadPolicy(trx) : null;
  if (was && !is) {
    await addToDay(trx, localDay(policy!, at), { resolved: 1 });
    await addToOpenAge(trx, utcDay(before.createdAt), -1);
    await addToOpenCount(trx, before, -1);
  } else if (!was && is) {
    await addToOpenAge(trx, utcDay(after.createdAt), 1);
    await addToOpenCount(trx, after, 1);
  } else if (was && is && moved) {
    await addToOpenCount(trx, before, -1);
    await addToOpenCount(trx, after, 1);
  }
  if (policy) await settleClocks(trx, policy, clockTicket(after), at, { retarget: before.priority !== after.priority || before.categoryId !== after.categoryId, agentReplied: opts.agentReplied });
}
