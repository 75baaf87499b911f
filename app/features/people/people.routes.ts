import { Router } from 'express';
import type { Policy } from '../../access/policy';
import type { Database } from '../../db/database';
import type { DirectoryCache } from '../../directory/cache';
import { requireCan } from '../../web/guards';
import { badRequest } from '../../web/http-error';
import { MAX_QUERY, searchPeople } from './people.service';

/**
 * GET /people?q=   agents: find a person by name, login or e-mail among people Deskside
 *                  knows and, with the directory on, in Active Directory. HTML, or JSON
 *                  for the new-ticket form's suggestions (Accept: application/json).
 */
export function peopleRoutes(deps: { database: Database; policy: Policy; directory: DirectoryCache }): Router {
  const { database, policy, directory } = deps;
  const router = Router();

  router.get('/people', requireCan(policy, 'people.search'), async (req, res) => {
    const raw = req.query.q;
    if (raw !== undefined && typeof raw !== 'string') throw badRequest('Give "q" once.');
    const q = (raw ?? '').trim();
    if (q.length > MAX_QUERY) throw badRequest(`Search for at most ${MAX_QUERY} characters.`);
    const result = await searchPeople(database, directory, q);
    res.setHeader('Cache-Control', 'no-store');
    if (req.accepts(['html', 'json']) === 'json') {
      res.json({ query: result.query, directory: result.directory, truncated: result.truncated, people: result.matches });
      return;
    }
    res.render('people/index', { title: q ? `People matching “${q}”` : 'Find a person', result, searched: q.length > 0 });
  });

  return router;
}
