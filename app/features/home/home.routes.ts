import { Router } from 'express';
import type { Policy } from '../../access/policy';
import type { Database } from '../../db/database';
import { isAgent, viewerOf } from '../../web/viewer';
import { activeKnownIssues, KNOWN_ISSUE_STATUS_LABELS } from '../known-issues/known-issues.service';
import { priorityName } from '../tickets/ticket-values';
import { TicketReadCache } from '../tickets/tickets.cache';
import { BY_UPDATED, listTickets, queueSummary } from '../tickets/tickets.queries';

/**
 * GET /: everyone allowed to browse sees the active known issues; guests what they may
 * do; requesters their open tickets; agents the queue at a glance.
 */
export function homeRoutes(deps: { database: Database; policy: Policy; cache?: TicketReadCache }): Router {
  const { database } = deps;
  const cache = deps.cache ?? new TicketReadCache(database);
  const router = Router();
  router.get('/', async (_req, res) => {
    const v = viewerOf(res);
    const knownIssues = deps.policy.can(v, 'known-issues.view') ? await activeKnownIssues(database) : [];
    const base = { title: 'Deskside', summary: null, openRows: [], mineRows: [], priorityName, knownIssues, knownIssueStatusLabels: KNOWN_ISSUE_STATUS_LABELS };
    if (v.anonymous) return res.render('home/index', base);
    if (isAgent(v)) {
      const [summary, mineRows] = await Promise.all([
        queueSummary(database.db, database.dialect, v.personId!, (q) => cache.count(q)),
        listTickets(database.db, database.dialect, { status: 'active', assigneeId: v.personId!, sort: { key: 'priority', desc: true } }, 10, 0),
      ]);
      // Figures are exact, or recent and said to be approximate ("about 1,200").
      const shown = (c: { n: number; exact: boolean }) => `${c.exact ? '' : 'about '}${c.n.toLocaleString('en-GB')}`;
      const figures = { mine: shown(summary.mine), unassigned: shown(summary.unassigned), urgent: shown(summary.urgent), active: shown(summary.active) };
      return res.render('home/index', { ...base, summary: figures, mineRows });
    }
    const openRows = await listTickets(database.db, database.dialect, { status: 'active', requesterId: v.personId!, sort: BY_UPDATED }, 20, 0);
    res.render('home/index', { ...base, openRows });
  });
  return router;
}
