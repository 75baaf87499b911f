/** Timestamps are written as ISO-8601 UTC strings: portable, sortable, unambiguous. */
export function nowIso(): string {
  return new Date().toISOString();
}

/** SQLite returns the stored string, SQL Server a Date; pages get a Date either way. */
export function toDate(value: string | Date | null | undefined): Date | null {
  if (value === null || value === undefined) return null;
  return value instanceof Date ? value : new Date(value);
}

/**
 * "No due time" in tickets.sla_due_at, which is never null so that one index orders and
 * seeks it alike on both engines: later than any real instant.
 */
export const NO_DUE = '9999-12-31T23:59:59.999Z';

/** A due instant as a Date, or null for NO_DUE (or nothing). */
export function dueOf(value: string | Date | null | undefined): Date | null {
  const d = toDate(value);
  return d && d.getUTCFullYear() < 9999 ? d : null;
}
