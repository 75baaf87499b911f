import type { Database } from '../../db/database';
import { firstOnly } from '../../db/portable';
import { nowIso } from '../../db/values';
import type { StaticUser } from '../../directory/static';
import { insertResponse } from '../responses/responses.queries';
import { seedTickets } from './generator';

const DEMO_AGENT_LOGINS = ['demo\\carol', 'demo\\dan', 'demo\\erin'];

/**
 * `npm start` on an empty database: a small, lived-in helpdesk to explore, with the
 * demo directory's people as requesters and agents. Returns how many tickets it made.
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
  });
  // A few canned replies, so the reply box's "Insert" has something to offer.
  for (const r of DEMO_RESPONSES) await insertResponse(database.db, { ...r, active: true, at: nowIso() });
  return result.tickets;
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
