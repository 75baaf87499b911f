import { sql, type Expression, type InsertQueryBuilder, type SelectQueryBuilder, type SqlBool } from 'kysely';
import type { DialectName } from './dialect';

/**
 * The few places where SQLite and SQL Server need different SQL, each behind a name.
 * Feature queries call these and never branch on the dialect themselves.
 */

/** LIMIT/OFFSET in SQLite; OFFSET … FETCH NEXT in SQL Server (which needs the ORDER BY the caller gives). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export function paged<QB extends SelectQueryBuilder<any, any, any>>(qb: QB, dialect: DialectName, limit: number, offset: number): QB {
  if (dialect === 'mssql') return qb.offset(offset).fetch(limit) as QB;
  return qb.limit(limit).offset(offset) as QB;
}

/** Insert one row and return its generated id: RETURNING in SQLite, OUTPUT inserted.id in SQL Server. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export async function insertReturningId(qb: InsertQueryBuilder<any, any, any>, dialect: DialectName): Promise<number> {
  const row =
    dialect === 'mssql'
      ? // eslint-disable-next-line @typescript-eslint/no-explicit-any
        await (qb as any).output('inserted.id').executeTakeFirstOrThrow()
      : await qb.returning('id').executeTakeFirstOrThrow();
  return Number((row as { id: number | bigint }).id);
}

/** Words a person typed, reduced to what a text index can match: letters and digits only. */
export function searchWords(q: string): string[] {
  return (q.normalize('NFC').match(/[\p{L}\p{N}]+/gu) ?? []).slice(0, 8).map((w) => w.slice(0, 40));
}

/**
 * "Every word appears in the title or description" (the last word as a prefix, so
 * "print" finds "printer"). SQLite answers from its FTS5 index; SQL Server from LIKE
 * until a full-text catalog is configured.
 */
export function ticketTextMatch(dialect: DialectName, words: string[]): Expression<SqlBool> {
  if (dialect === 'sqlite') {
    const expr = words.map((w, i) => `"${w.replace(/"/g, '""')}"${i === words.length - 1 ? '*' : ''}`).join(' ');
    return sql<SqlBool>`tickets.id in (select rowid from tickets_fts where tickets_fts match ${expr})`;
  }
  const clauses = words.map((w) => {
    const pattern = `%${w.replace(/[[%_]/g, (c) => `[${c}]`)}%`;
    return sql`(tickets.title like ${pattern} or tickets.description like ${pattern})`;
  });
  return sql<SqlBool>`(${sql.join(clauses, sql` and `)})`;
}
