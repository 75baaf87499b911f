import type { Database } from '../../db/database';
import { firstOnly } from '../../db/portable';
import type { StaticUser } from '../../directory/static';
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
  return result.tickets;
}
