import { sql, type ColumnDefinitionBuilder, type Kysely } from 'kysely';
import type { DialectName } from '../dialect';

/**
 * Issue 18: teams (from Active Directory groups or listed logins), service levels in
 * business time (a calendar, targets per priority and category, a clock per ticket and
 * target), and the dashboard's aggregates, kept with the writes that change them.
 *
 * The aggregates start from what the tickets say now, counted by UTC day (the business
 * calendar starts in UTC, and its days are the dashboard's days).
 */
export async function up(db: Kysely<unknown>, dialect: DialectName): Promise<void> {
  const mssql = dialect === 'mssql';
  const ts = mssql ? sql`datetime2(3)` : sql`text`;
  const text = (n: number) => (mssql ? sql.raw(`nvarchar(${n})`) : sql`text`);
  const longText = mssql ? sql`nvarchar(max)` : sql`text`;
  const key = (n: number) => (mssql ? sql.raw(`nvarchar(${n}) collate Latin1_General_100_BIN2`) : sql`text`);
  const id = (c: ColumnDefinitionBuilder) => (mssql ? c.identity().primaryKey() : c.primaryKey().autoIncrement());
  const now = new Date().toISOString();

  await db.schema
    .createTable('teams')
    .addColumn('id', 'integer', id)
    .addColumn('name', text(80), (c) => c.notNull())
    .addColumn('description', text(400))
    // A group name (`CORP\Network Team`, `Network Team`) or distinguished name; its members,
    // nested groups included, are the team. Null: members are listed by login only.
    .addColumn('directory_group', text(400))
    .addColumn('active', 'smallint', (c) => c.notNull().defaultTo(1))
    .addColumn('version', 'integer', (c) => c.notNull().defaultTo(1))
    .addColumn('created_at', ts, (c) => c.notNull())
    .addColumn('updated_at', ts, (c) => c.notNull())
    .execute();
  await db.schema.createIndex('teams_name_uq').on('teams').column('name').unique().execute();

  await db.schema
    .createTable('team_members')
    .addColumn('team_id', 'integer', (c) => c.notNull().references('teams.id'))
    // Lower-cased by the app, as people.login_key: a member need not have signed in yet.
    .addColumn('login_key', key(320), (c) => c.notNull())
    .addColumn('login', text(320), (c) => c.notNull())
    .addPrimaryKeyConstraint('team_members_pk', ['team_id', 'login_key'])
    .execute();
  await db.schema.createIndex('team_members_login_idx').on('team_members').columns(['login_key', 'team_id']).execute();

  await db.schema.alterTable('categories').addColumn('default_team_id', 'integer', (c) => c.references('teams.id')).execute();

  // The next due instant of the ticket's running clocks, or NO_DUE: never null, so "due
  // soonest first" and "past due" read one index the same way on both engines (SQLite and
  // SQL Server both sort nulls first) and keyset seeks compare plain values.
  const noDue = mssql ? sql.lit('9999-12-31T23:59:59.999') : sql.lit('9999-12-31T23:59:59.999Z');
  await db.schema.alterTable('tickets').addColumn('team_id', 'integer', (c) => c.references('teams.id')).execute();
  await db.schema.alterTable('tickets').addColumn('sla_due_at', ts, (c) => c.notNull().defaultTo(noDue)).execute();
  // From this instant the ticket is at risk (a share of its target left); null with no due.
  await db.schema.alterTable('tickets').addColumn('sla_warn_at', ts).execute();
  // Which target sla_due_at belongs to (response, resolution), or paused: every running clock waits on the requester.
  await db.schema.alterTable('tickets').addColumn('sla_due_kind', text(16)).execute();
  // SQL Server compiles a printed script as one batch: statements naming a column added
  // above run in a batch of their own.
  const later = async (q: { compile(): { sql: string }; execute(): Promise<unknown> }) =>
    mssql ? sql`exec(${sql.raw(`N'${q.compile().sql.replace(/'/g, "''")}'`)})`.execute(db) : q.execute();
  await later(db.schema.createIndex('tickets_team_idx').on('tickets').columns(['team_id', 'active', 'updated_at', 'id']));
  await later(db.schema.createIndex('tickets_due_idx').on('tickets').columns(['active', 'sla_due_at', 'id']));

  // One row: the business calendar (CalendarInput as JSON) and when a ticket is "at risk".
  await db.schema
    .createTable('sla_settings')
    .addColumn('id', 'integer', id)
    .addColumn('calendar', longText, (c) => c.notNull())
    .addColumn('at_risk_percent', 'smallint', (c) => c.notNull().defaultTo(25))
    .addColumn('version', 'integer', (c) => c.notNull().defaultTo(1))
    .addColumn('updated_by', 'integer', (c) => c.references('people.id'))
    .addColumn('updated_at', ts, (c) => c.notNull())
    .execute();
  const weekdays = Object.fromEntries(['mon', 'tue', 'wed', 'thu', 'fri'].map((d) => [d, [{ start: '09:00', end: '17:00' }]]));
  await (db as Kysely<any>)
    .insertInto('sla_settings')
    .values({ calendar: JSON.stringify({ timeZone: 'UTC', hours: weekdays, holidays: [] }), at_risk_percent: 25, version: 1, updated_by: null, updated_at: now })
    .execute();

  // Targets in business minutes, per priority, optionally for one category (which then
  // wins over the priority's general target). A null target: none of that kind.
  await db.schema
    .createTable('sla_targets')
    .addColumn('id', 'integer', id)
    .addColumn('priority', 'smallint', (c) => c.notNull().check(sql`priority between 1 and 4`))
    .addColumn('category_id', 'integer', (c) => c.references('categories.id'))
    .addColumn('response_minutes', 'integer')
    .addColumn('resolution_minutes', 'integer')
    .execute();
  await db.schema.createIndex('sla_targets_priority_idx').on('sla_targets').columns(['priority', 'category_id']).execute();

  // A ticket's clock for one target, with the target as it was when set: later changes to
  // the targets never rewrite a ticket's history.
  await db.schema
    .createTable('sla_clocks')
    .addColumn('ticket_id', 'integer', (c) => c.notNull().references('tickets.id'))
    .addColumn('kind', text(16), (c) => c.notNull().check(sql`kind in ('response','resolution')`))
    .addColumn('target_minutes', 'integer', (c) => c.notNull())
    .addColumn('started_at', ts, (c) => c.notNull())
    // Null while paused short of the target.
    .addColumn('due_at', ts)
    .addColumn('warn_at', ts)
    .addColumn('paused_at', ts)
    // The first public agent reply (response) or the resolution; the clock runs until then.
    .addColumn('stopped_at', ts)
    .addColumn('outcome', text(8), (c) => c.check(sql`outcome in ('met','breached')`))
    .addColumn('outcome_at', ts)
    // 1 while nothing is recorded and a due instant is set: what the breach timer watches.
    .addColumn('watch', 'smallint', (c) => c.notNull().defaultTo(0))
    .addPrimaryKeyConstraint('sla_clocks_pk', ['ticket_id', 'kind'])
    .execute();
  await db.schema.createIndex('sla_clocks_watch_idx').on('sla_clocks').columns(['watch', 'due_at']).execute();

  // The dashboard's figures, changed in the same transaction as the tickets they count.
  // Days and months are dates on the business calendar's clocks when the thing happened.
  await db.schema
    .createTable('ticket_daily')
    .addColumn('day', text(10), (c) => c.notNull().primaryKey())
    .addColumn('raised', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('resolved', 'integer', (c) => c.notNull().defaultTo(0))
    .execute();
  // Open tickets by the UTC date they were raised: the age of the backlog. UTC, so that a
  // ticket leaves the day it joined even if the calendar's time zone changed meanwhile.
  await db.schema
    .createTable('ticket_open_ages')
    .addColumn('day', text(10), (c) => c.notNull().primaryKey())
    .addColumn('n', 'integer', (c) => c.notNull().defaultTo(0))
    .execute();
  await db.schema
    .createTable('ticket_open_counts')
    // 0: no team, nobody assigned (keys cannot be null).
    .addColumn('team_id', 'integer', (c) => c.notNull())
    .addColumn('assignee_id', 'integer', (c) => c.notNull())
    .addColumn('priority', 'smallint', (c) => c.notNull())
    .addColumn('n', 'integer', (c) => c.notNull().defaultTo(0))
    .addPrimaryKeyConstraint('ticket_open_counts_pk', ['team_id', 'assignee_id', 'priority'])
    .execute();
  await db.schema
    .createTable('sla_monthly')
    .addColumn('month', text(7), (c) => c.notNull())
    .addColumn('kind', text(16), (c) => c.notNull())
    .addColumn('met', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('breached', 'integer', (c) => c.notNull().defaultTo(0))
    .addPrimaryKeyConstraint('sla_monthly_pk', ['month', 'kind'])
    .execute();

  // What the tickets already there add up to (their UTC days, as the calendar starts).
  const day = (column: string) => (mssql ? sql`convert(nchar(10), ${sql.ref(column)}, 23)` : sql`substr(${sql.ref(column)}, 1, 10)`);
  await sql`insert into ticket_open_counts (team_id, assignee_id, priority, n)
    select 0, coalesce(assignee_id, 0), priority, count(*) from tickets where active = 1 group by coalesce(assignee_id, 0), priority`.execute(db);
  await sql`insert into ticket_daily (day, raised, resolved)
    select d, sum(raised), sum(resolved) from (
      select ${day('created_at')} as d, 1 as raised, 0 as resolved from tickets
      union all
      select ${day('resolved_at')} as d, 0, 1 from tickets where active = 0 and resolved_at is not null
    ) x group by d`.execute(db);
  await sql`insert into ticket_open_ages (day, n) select ${day('created_at')}, count(*) from tickets where active = 1 group by ${day('created_at')}`.execute(db);
}
