import { dueOf, toDate } from '../../db/values';

/**
 * Where a ticket stands against its next service-level target, as the queue and the CSV
 * say it: `breached` once the due instant has come, `at-risk` once the warning has,
 * `paused` while every running clock waits on the requester, `none` without a target.
 */
export type DueState = 'none' | 'paused' | 'on-time' | 'at-risk' | 'breached';

export const DUE_LABELS: Record<DueState, string> = { none: '', paused: 'Paused', 'on-time': 'On time', 'at-risk': 'At risk', breached: 'Past due' };

export const DUE_KIND_LABELS: Record<string, string> = { response: 'first response', resolution: 'resolution' };

export function dueState(t: { sla_due_at: string | Date; sla_warn_at: string | Date | null; sla_due_kind: string | null }, now: Date): { state: DueState; due: Date | null } {
  const due = dueOf(t.sla_due_at);
  if (!due) return { state: t.sla_due_kind === 'paused' ? 'paused' : 'none', due: null };
  const warn = toDate(t.sla_warn_at);
  if (due <= now) return { state: 'breached', due };
  if (warn && warn <= now) return { state: 'at-risk', due };
  return { state: 'on-time', due };
}
