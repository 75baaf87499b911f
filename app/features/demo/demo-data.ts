import type { Database } from '../../db/database';
import { firstOnly } from '../../db/portable';
import { nowIso } from '../../db/values';
import type { StaticUser } from '../../directory/static';
import { listCategories } from '../categories/categories.queries';
import { linkTicket, postKnownIssueUpdate, publishKnownIssue } from '../known-issues/known-issues.service';
import { insertResponse } from '../responses/responses.queries';
import { NO_LISTENER } from '../tickets/ticket-events';
import { seedTickets } from './generator';
import type { SeedTeam } from './seed-teams-sla';

const DEMO_AGENT_LOGINS = ['demo\\carol', 'demo\\dan', 'demo\\erin'];

/** Teams as the demo directory's groups make them: the first line is a group, the second line is listed by login. */
const DEMO_TEAMS: SeedTeam[] = [
  { name: 'Service desk', description: 'First line: the phone, passwords, accounts, e-mail', directoryGroup: 'DEMO\\Service Desk L1', assignees: ['DEMO\\carol'], categories: ['Accounts & access', 'Email & calendar', 'Software', 'New starter / leaver', 'Other'] },
  { name: 'Desktop support', description: 'Second line: hardware, printing, installs', members: ['DEMO\\dan'], assignees: ['DEMO\\dan'], categories: ['Hardware', 'Printing'] },
  { name: 'Infrastructure', description: 'Wi-Fi, VPN, servers', directoryGroup: 'DEMO\\IT Operations', assignees: ['DEMO\\erin'], categories: ['Network & VPN'] },
];

/**
 * `npm start` on an empty database: a small, lived-in helpdesk to explore, with the
 * demo directory's people as requesters and agents, and one known issue the desk is
 * working on (with the VPN tickets linked to it). Returns how many tickets it made.
 */
export async function seedDemoIfEmpty(database: Database, people: StaticUser[]): Promise<number> {
  const any = await firstOnly(database.db.selectFrom('tickets').select('id'), database.dialect).executeTakeFirst();
  if (any) return 0;
  const agents = people.filter((p) => DEMO_AGENT_LOGINS.includes(p.login.toLowerCase()));
  const requesters = people.filter((p) => !DEMO_AGENT_LOGINS.includes(p.login.toLowerCase()));
  const result = await seedTickets(database, {
    tickets: 60,
    seed: 42,
    agents: agents.length ? agents : undefined,
    requesters,
    generatedPeople: 12,
    days: 30,
    teams: DEMO_TEAMS,
  });
  await seedKnownIssue(database);
  // A few canned replies, so the reply box's "Insert" has something to offer.
  for (const r of DEMO_RESPONSES) await insertResponse(database.db, { ...r, active: true, at: nowIso() });
  return result.tickets;
}

async function seedKnownIssue(database: Database): Promise<void> {
  const db = database.db;
  const network = (await listCategories(db, { activeOnly: true })).find((c) => c.name === 'Network & VPN');
  const agent = await db.selectFrom('people').select('id').where('is_agent', '=', 1).orderBy('id').executeTakeFirst();
  if (!network || !agent) return;
  const id = await publishKnownIssue(database, agent.id, {
    title: 'VPN disconnects for people working from home',
    summary: 'Since Monday the VPN drops every few minutes for some people outside the office. Teams calls and the intranet are affected; e-mail keeps working.\n\nMeanwhile: Outlook on the web and Teams work without the VPN.',
    status: 'identified',
    categoryId: network.id,
  });
  await postKnownIssueUpdate(database, agent.id, id, { body: 'The cause is a certificate on one of the two VPN gateways. A new one is being installed tonight; next update tomorrow at 9:00.' }, NO_LISTENER);
  const vpn = await db.selectFrom('tickets').select('id').where('category_id', '=', network.id).where('active', '=', 1).where('title', 'like', '%VPN%').orderBy('id').execute();
  for (const t of vpn.slice(0, 3)) await linkTicket(database, agent.id, id, { ticket: String(t.id) }, NO_LISTENER);
}

const DEMO_RESPONSES = [
  {
    title: 'Asking for the asset tag',
    body: 'Hello {{requester.firstName}},\n\nThanks for reporting this. Could you tell me the asset tag of the device (the white label underneath, starting with IT-)?\n\n{{agent.firstName}}, IT service desk',
  },
  {
    title: 'Password reset done',
    body: 'Hello {{requester.firstName}},\n\nI have reset your password. You will be asked to choose a new one when you next sign in.\n\n{{agent.firstName}}',
  },
  {
    title: 'Closing: fixed',
    body: 'Hello {{requester.firstName}},\n\nGlad that ticket #{{ticket.id}} is sorted. I will close it now; reply here if it comes back.\n\n{{agent.name}}',
  },
];
