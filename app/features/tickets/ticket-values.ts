import type { TicketStatus } from '../../access/policy';

export const STATUSES: readonly TicketStatus[] = ['new', 'open', 'pending', 'resolved', 'closed'];
export const ACTIVE_STATUSES: readonly TicketStatus[] = ['new', 'open', 'pending'];

export type PriorityName = 'low' | 'normal' | 'high' | 'urgent';
export const PRIORITIES: readonly PriorityName[] = ['low', 'normal', 'high', 'urgent'];
const PRIORITY_CODE: Record<PriorityName, number> = { low: 1, normal: 2, high: 3, urgent: 4 };

export function priorityCode(name: PriorityName): number {
  return PRIORITY_CODE[name];
}

export function priorityName(code: number): PriorityName {
  return PRIORITIES[code - 1] ?? 'normal';
}

export function isStatus(v: unknown): v is TicketStatus {
  return typeof v === 'string' && (STATUSES as readonly string[]).includes(v);
}

export function isPriority(v: unknown): v is PriorityName {
  return typeof v === 'string' && (PRIORITIES as readonly string[]).includes(v);
}

export function isActive(status: TicketStatus): boolean {
  return (ACTIVE_STATUSES as readonly string[]).includes(status);
}

export const LIMITS = {
  title: 200,
  description: 20_000,
  comment: 20_000,
  query: 200,
  pageSize: 25,
  maxPage: 1_000_000,
} as const;

export const STATUS_LABELS: Record<TicketStatus, string> = {
  new: 'New',
  open: 'Open',
  pending: 'Pending',
  resolved: 'Resolved',
  closed: 'Closed',
};

export const STATUS_HINTS: Record<TicketStatus, string> = {
  new: 'Not looked at yet',
  open: 'Being worked on',
  pending: 'Waiting for the requester or a third party',
  resolved: 'Fixed; closes when the requester agrees',
  closed: 'Finished',
};
