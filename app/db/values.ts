/** Timestamps are written as ISO-8601 UTC strings: portable, sortable, unambiguous. */
export function nowIso(): string {
  return new Date().toISOString();
}

/** SQLite returns the stored string, SQL Server a Date; pages get a Date either way. */
export function toDate(value: string | Date | null | undefined): Date | null {
  if (value === null || value === undefined) return null;
  return value instanceof Date ? value : new Date(value);
}
