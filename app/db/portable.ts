import { MssqlAdapter, sql, type Expression, type Insertable, type InsertQueryBuilder, type Kysely, type SelectQueryBuilder, type SqlBool, type Transaction } from 'kysely';
import type { DialectName } from './dialect';
import type { DB } from './schema';

/**
 * The few places where SQLite and SQL Server need different SQL, each behind a name.
 * Feature queries call these and never branch on the dialect themselves.
 */

/** LIMIT/OFFSET in SQLite; OFFSET … FETCH NEXT in SQL Server (which needs the ORDER BY the caller gives). */
export function paged<QB extends SelectQueryBuilder<any, any, any>>(qb: QB, dialect: DialectName, limit: number, offset: number): QB {
  if (dialect === 'mssql') return qb.offset(offset).fetch(limit) as QB;
  return qb.limit(limit).offset(offset) as QB;
}

/** Insert one row and return its generated id: RETURNING in SQLite, OUTPUT inserted.id in SQL Server. */
export async function insertReturningId(qb: InsertQueryBuilder<any, any, any>, dialect: DialectName): Promise<number> {
  const row: unknown =
    dialect === 'mssql'
      ? await (qb as unknown as { output(column: string): { executeTakeFirstOrThrow(): Promise<unknown> } }).output('inserted.id').executeTakeFirstOrThrow()
      : await qb.returning('id').executeTakeFirstOrThrow();
  return Number((row as { id: number | bigint }).id);
}

/**
 * Insert rows and read `columns` of every inserted row back, in no promised order:
 * RETURNING in SQLite, OUTPUT inserted.… in SQL Server.
 */
export async function insertReturning<R>(qb: InsertQueryBuilder<any, any, any>, dialect: DialectName, columns: readonly string[]): Promise<R[]> {
  const rows: unknown[] =
    dialect === 'mssql'
      ? await (qb as unknown as { output(columns: string[]): { execute(): Promise<unknown[]> } }).output(columns.map((c) => `inserted.${c}`)).execute()
      : await qb.returning(columns as never).execute();
  return rows as R[];
}

/** Words a person typed, reduced to what a text index can match: letters and digits only. */
export function searchWords(q: string): string[] {
  return (q.normalize('NFC').match(/[\p{L}\p{N}]+/gu) ?? []).slice(0, 8).map((w) => w.slice(0, 40));
}

/**
 * "Every word appears in the title or description" (the last word as a prefix, so
 * "print" finds "printer"), ignoring case and accents. SQLite answers from its FTS5
 * index. SQL Server, until a full-text catalog is configured, from LIKE on the text
 * padded with spaces: a word must start after a non-alphanumeric character and (except
 * the last) end before one, which is how FTS5 splits words; an accent- and case-
 * insensitive collation matches FTS5's remove_diacritics. LIKE cannot use an index, so
 * this scans the tickets the other filters leave.
 */
export function ticketTextMatch(dialect: DialectName, words: string[]): Expression<SqlBool> {
  if (dialect === 'sqlite') return sql<SqlBool>`tickets.id in (select rowid from tickets_fts where tickets_fts match ${ftsQuery(words)})`;
  const clauses = words.map((w, i) => {
    const word = w.replace(/[[%_]/g, (c) => `[${c}]`);
    const pattern = `%[^0-9a-z]${word}${i === words.length - 1 ? '' : '[^0-9a-z]'}%`;
    return sql`((N' ' + tickets.title + N' ') collate Latin1_General_100_CI_AI like ${pattern} or (N' ' + tickets.description + N' ') collate Latin1_General_100_CI_AI like ${pattern})`;
  });
  return sql<SqlBool>`(${sql.join(clauses, sql` and `)})`;
}

/** FTS5's query for the words: each a quoted phrase, the last a prefix. */
function ftsQuery(words: string[]): string {
  return words.map((w, i) => `"${w.replace(/"/g, '""')}"${i === words.length - 1 ? '*' : ''}`).join(' ');
}

/**
 * One page of the ids of tickets matching `words` (as ticketTextMatch) and `conditions`, by
 * ticket number. SQLite reads them off the text index, which yields a word's matches in
 * rowid (ticket number) order either way, and checks each against `conditions` in turn, so
 * the page stops at its last row instead of first collecting every match (`outlook` at a
 * million tickets: 41,000 matches, 5 ms; this way 1 ms). Give it only conditions most
 * tickets meet (a status): with a rare one it would walk every match. Undefined on SQL
 * Server, whose ordinary query (LIKE, read along the primary key in id order with TOP)
 * already stops after its page: the caller then uses ticketTextMatch.
 */
export async function textMatchPageByNumber(
  db: Kysely<DB>,
  dialect: DialectName,
  words: string[],
  conditions: Expression<SqlBool>[],
  desc: boolean,
  limit: number,
  offset: number,
): Promise<number[] | undefined> {
  if (dialect !== 'sqlite' || words.length === 0) return undefined;
  const where = conditions.length ? sql` and ${sql.join(conditions, sql` and `)}` : sql``;
  // CROSS JOIN keeps the text index as the outer loop (SQLite never reorders it).
  const rows = await sql<{ id: number }>`select tickets.id as id from tickets_fts cross join tickets on tickets.id = tickets_fts.rowid where tickets_fts match ${ftsQuery(words)}${where} order by tickets_fts.rowid ${sql.raw(desc ? 'desc' : 'asc')} limit ${limit} offset ${offset}`.execute(db);
  return rows.rows.map((r) => Number(r.id));
}

/** Which engine a Kysely instance talks to, for the helpers below that are given only `db`. */
export function dialectOf(db: Kysely<any>): DialectName {
  return db.getExecutor().adapter instanceof MssqlAdapter ? 'mssql' : 'sqlite';
}

/** At most one row: LIMIT 1 in SQLite, TOP (1) in SQL Server (which has no LIMIT). */
export function firstOnly<QB extends SelectQueryBuilder<any, any, any>>(qb: QB, dialect: DialectName): QB {
  return (dialect === 'mssql' ? qb.top(1) : qb.limit(1)) as QB;
}

/**
 * Insert `row` unless a row with the same `key` exists; returns whether it inserted.
 * One statement, safe when two processes race: ON CONFLICT DO NOTHING in SQLite; in
 * SQL Server INSERT … SELECT … WHERE NOT EXISTS with UPDLOCK, HOLDLOCK, which locks the
 * key range so the second process waits and then finds the row.
 */
export async function insertIfAbsent<T extends keyof DB>(db: Kysely<DB> | Transaction<DB>, table: T, row: Insertable<DB[T]>, key: keyof Insertable<DB[T]> & string): Promise<boolean> {
  const values = row as Record<string, unknown>;
  if (dialectOf(db) === 'sqlite') {
    const r = await db
      .insertInto(table)
      .values(row)
      .onConflict((oc) => oc.column(key as never).doNothing())
      .executeTakeFirst();
    return Number(r.numInsertedOrUpdatedRows ?? 0) > 0;
  }
  const cols = Object.keys(values);
  const r = await sql`insert into ${sql.table(table)} (${sql.join(cols.map((c) => sql.ref(c)))}) select ${sql.join(cols.map((c) => sql`${values[c]}`))} where not exists (select 1 from ${sql.table(table)} with (updlock, holdlock) where ${sql.ref(key)} = ${values[key]})`.execute(db);
  return Number(r.numAffectedRows ?? 0) > 0;
}

/** SQL Server refuses a statement with more than 2,100 parameters; stay clear of it. */
export const MAX_PARAMETERS = 2000;

/**
 * Insert many rows as few multi-row statements as the parameter limit allows. With
 * `explicitIds` the rows carry their own ids, which SQL Server accepts into an identity
 * column only under SET IDENTITY_INSERT (that needs ALTER permission on the table, so
 * only seeding uses it, and only inside a transaction, which pins one connection).
 */
export async function insertMany<T extends keyof DB>(trx: Transaction<DB>, table: T, rows: Insertable<DB[T]>[], opts: { explicitIds?: boolean } = {}): Promise<void> {
  if (rows.length === 0) return;
  const columns = Object.keys(rows[0]).length;
  const perStatement = Math.max(1, Math.floor(MAX_PARAMETERS / Math.max(1, columns)));
  const identityInsert = opts.explicitIds && dialectOf(trx) === 'mssql';
  if (identityInsert) await sql`set identity_insert ${sql.table(table)} on`.execute(trx);
  try {
    for (let i = 0; i < rows.length; i += perStatement) {
      await trx
        .insertInto(table)
        .values(rows.slice(i, i + perStatement))
        .execute();
    }
  } finally {
    if (identityInsert) await sql`set identity_insert ${sql.table(table)} off`.execute(trx);
  }
}

/**
 * "The row comes after these values in this column order": `(a, b, c) < (?, ?, ?)` for
 * keyset seeks (the ticket after this one in a list). SQLite compares row values and
 * seeks an index with them; SQL Server has no row values, so it gets the expanded form
 * with a leading `a <= ?` it can seek on. Columns are trusted names, never user input.
 */
export function rowsAfter(dialect: DialectName, columns: readonly string[], values: readonly (string | number)[], op: '<' | '>'): Expression<SqlBool> {
  if (columns.length !== values.length || columns.length === 0) throw new Error('rowsAfter needs one value per column');
  const cmp = sql.raw(op);
  const orEqual = sql.raw(`${op}=`);
  if (dialect === 'sqlite') {
    if (columns.length === 1) return sql<SqlBool>`${sql.ref(columns[0])} ${cmp} ${values[0]}`;
    return sql<SqlBool>`(${sql.join(columns.map((c) => sql.ref(c)))}) ${cmp} (${sql.join(values.map((v) => sql`${v}`))})`;
  }
  const build = (i: number): ReturnType<typeof sql> =>
    i === columns.length - 1
      ? sql`${sql.ref(columns[i])} ${cmp} ${values[i]}`
      : sql`(${sql.ref(columns[i])} ${orEqual} ${values[i]} and (${sql.ref(columns[i])} ${cmp} ${values[i]} or ${build(i + 1)}))`;
  return sql<SqlBool>`${build(0)}`;
}

/**
 * `column` contains `text` (or starts with it), with LIKE's wildcards in `text` taken
 * literally on both engines. Case follows the engine: SQLite folds ASCII letters only,
 * SQL Server follows the column's collation (pass lower-cased text for `_key` columns).
 */
export function textLike(column: string, text: string, where: 'contains' | 'starts'): Expression<SqlBool> {
  const escaped = text.replace(/[\\%_[]/g, (c) => `\\${c}`);
  return sql<SqlBool>`${sql.ref(column)} like ${where === 'contains' ? `%${escaped}%` : `${escaped}%`} escape '\\'`;
}

/**
 * Add to counters in the row with this key, creating the row (counters from 0) when it is
 * missing: for running totals kept in the same transaction as the change they count. One
 * statement in SQLite (INSERT … ON CONFLICT DO UPDATE); in SQL Server an UPDATE holding the
 * key range (UPDLOCK, HOLDLOCK), then an INSERT only if it found nothing, so two writers
 * of a new key queue up instead of colliding. Names are trusted, never user input.
 */
export async function addToCounters<T extends keyof DB>(db: Kysely<DB> | Transaction<DB>, table: T, key: Record<string, string | number>, add: Record<string, number>): Promise<void> {
  const keys = Object.keys(key);
  const counters = Object.keys(add);
  if (keys.length === 0 || counters.length === 0) throw new Error('addToCounters needs a key and a counter');
  if (dialectOf(db) === 'sqlite') {
    await sql`insert into ${sql.table(table)} (${sql.join([...keys, ...counters].map((c) => sql.ref(c)))}) values (${sql.join([...keys.map((k) => key[k]), ...counters.map((c) => add[c])].map((v) => sql`${v}`))})
      on conflict (${sql.join(keys.map((k) => sql.ref(k)))}) do update set ${sql.join(counters.map((c) => sql`${sql.ref(c)} = ${sql.ref(c)} + excluded.${sql.ref(c)}`))}`.execute(db);
    return;
  }
  const where = sql.join(keys.map((k) => sql`${sql.ref(k)} = ${key[k]}`), sql` and `);
  await sql`update ${sql.table(table)} with (updlock, holdlock) set ${sql.join(counters.map((c) => sql`${sql.ref(c)} = ${sql.ref(c)} + ${add[c]}`))} where ${where};
if @@rowcount = 0 insert into ${sql.table(table)} (${sql.join([...keys, ...counters].map((c) => sql.ref(c)))}) values (${sql.join([...keys.map((k) => key[k]), ...counters.map((c) => add[c])].map((v) => sql`${v}`))})`.execute(db);
}
