import type { Kysely, Transaction } from 'kysely';
import type { DialectName } from '../../db/dialect';
import { insertReturningId, MAX_PARAMETERS } from '../../db/portable';
import type { DB } from '../../db/schema';

type Q = Kysely<DB> | Transaction<DB>;

export interface TeamRow {
  id: number;
  name: string;
  description: string | null;
  directory_group: string | null;
  active: number;
  version: number;
}

const TEAM_COLUMNS = ['teams.id', 'teams.name', 'teams.description', 'teams.directory_group', 'teams.active', 'teams.version'] as const;

/** Teams by name; retired ones too unless `activeOnly` (old tickets still name them). */
export async function listTeams(db: Q, opts: { activeOnly: boolean }): Promise<TeamRow[]> {
  let qb = db.selectFrom('teams').select(TEAM_COLUMNS);
  if (opts.activeOnly) qb = qb.where('teams.active', '=', 1);
  return qb.orderBy('teams.name').orderBy('teams.id').execute();
}

export async function getTeam(db: Q, id: number): Promise<TeamRow | undefined> {
  return db.selectFrom('teams').select(TEAM_COLUMNS).where('teams.id', '=', id).executeTakeFirst();
}

export async function findTeamByName(db: Q, name: string): Promise<{ id: number; name: string } | undefined> {
  const all = await db.selectFrom('teams').select(['id', 'name']).execute();
  // Few rows; comparing here keeps "Network" and "network" one team on every engine.
  return all.find((t) => t.name.toLowerCase() === name.toLowerCase());
}

export interface TeamValues {
  name: string;
  description: string | null;
  directoryGroup: string | null;
  active: boolean;
}

export async function insertTeam(trx: Transaction<DB>, dialect: DialectName, t: TeamValues, at: string): Promise<number> {
  return insertReturningId(
    trx.insertInto('teams').values({ name: t.name, description: t.description, directory_group: t.directoryGroup, active: t.active ? 1 : 0, version: 1, created_at: at, updated_at: at }),
    dialect,
  );
}

/** Change a team only if nobody changed it since `version`; returns whether it did. */
export async function updateTeamAtVersion(trx: Transaction<DB>, id: number, version: number, t: TeamValues, at: string): Promise<boolean> {
  const r = await trx
    .updateTable('teams')
    .set({ name: t.name, description: t.description, directory_group: t.directoryGroup, active: t.active ? 1 : 0, version: version + 1, updated_at: at })
    .where('id', '=', id)
    .where('version', '=', version)
    .executeTakeFirst();
  return Number(r.numUpdatedRows) === 1;
}

export interface ListedMember {
  team_id: number;
  login_key: string;
  login: string;
}

/** The members a team lists by login, for some teams (or every team), by login. */
export async function listTeamMembers(db: Q, teamIds?: number[]): Promise<ListedMember[]> {
  let qb = db.selectFrom('team_members').select(['team_id', 'login_key', 'login']);
  if (teamIds) {
    if (teamIds.length === 0) return [];
    qb = qb.where('team_id', 'in', teamIds);
  }
  return qb.orderBy('team_id').orderBy('login_key').execute();
}

/** The teams that list this login. */
export async function teamsListingLogin(db: Q, loginKey: string): Promise<number[]> {
  return (await db.selectFrom('team_members').select('team_id').where('login_key', '=', loginKey).execute()).map((r) => r.team_id);
}

/** Make the team's listed logins exactly these. */
export async function replaceTeamMembers(trx: Transaction<DB>, teamId: number, members: { login: string; key: string }[]): Promise<void> {
  await trx.deleteFrom('team_members').where('team_id', '=', teamId).execute();
  const perStatement = Math.floor(MAX_PARAMETERS / 3);
  for (let i = 0; i < members.length; i += perStatement) {
    await trx
      .insertInto('team_members')
      .values(members.slice(i, i + perStatement).map((m) => ({ team_id: teamId, login_key: m.key, login: m.login })))
      .execute();
  }
}

/** Open tickets per team, from the dashboard's running counts (0: no team). */
export async function openTicketsByTeam(db: Q): Promise<Map<number, number>> {
  const rows = await db
    .selectFrom('ticket_open_counts')
    .select(['team_id', (eb) => eb.fn.sum<number>('n').as('n')])
    .groupBy('team_id')
    .execute();
  return new Map(rows.map((r) => [r.team_id, Number(r.n)]));
}
