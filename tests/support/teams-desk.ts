import { createStaticDirectory } from '../../app/directory/static';
import { client, makeApp, type TestApp } from './app';

/**
 * A desk on the demo directory with service levels and teams: the calendar round the
 * clock in UTC (due times are plain arithmetic whatever the hour a test runs), urgent
 * tickets due a response in 1 hour and a resolution in 10, and two teams routed by
 * category: First line (DEMO\Service Desk L1's members; Accounts & access) and Network
 * (DEMO\dan; Network & VPN). DEMO\alice has signed in once; her id is returned.
 */
export async function deskWithTeams(): Promise<{ t: TestApp; teams: Record<string, number>; alice: number }> {
  const t = await makeApp({ env: { DESKSIDE_AGENTS: 'DEMO\\Helpdesk Agents', DESKSIDE_ADMINS: 'DEMO\\Deskside Admins' }, directory: createStaticDirectory() });
  const always = Object.fromEntries(['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'].map((d) => [d, [{ start: '00:00', end: '24:00' }]]));
  await t.database.db.updateTable('sla_settings').set({ calendar: JSON.stringify({ timeZone: 'UTC', hours: always }), version: 2 }).execute();
  await t.database.db.insertInto('sla_targets').values([{ priority: 4, category_id: null, response_minutes: 60, resolution_minutes: 600 }]).execute();
  const admin = client(t.app, 'DEMO\\erin');
  await admin.post('/admin/teams', { name: 'First line', directoryGroup: 'DEMO\\Service Desk L1', active: 'on' });
  await admin.post('/admin/teams', { name: 'Network', members: 'DEMO\\dan', active: 'on' });
  const rows = await t.database.db.selectFrom('teams').select(['id', 'name']).execute();
  const teams = Object.fromEntries(rows.map((r) => [r.name, r.id]));
  await t.database.db.updateTable('categories').set({ default_team_id: teams['First line'] }).where('name', '=', 'Accounts & access').execute();
  await t.database.db.updateTable('categories').set({ default_team_id: teams.Network }).where('name', '=', 'Network & VPN').execute();
  await client(t.app, 'DEMO\\alice').get('/');
  const alice = (await t.database.db.selectFrom('people').select('id').where('login_key', '=', 'demo\\alice').executeTakeFirstOrThrow()).id;
  return { t, teams, alice };
}
