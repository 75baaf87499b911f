import { Router } from 'express';
import type { Policy } from '../../access/policy';
import type { Database } from '../../db/database';
import { sendCsv } from '../../web/csv';
import { requireCan } from '../../web/guards';
import { notFound } from '../../web/http-error';
import { buildDashboard, dashboardCharts, figureById } from './dashboard.service';

/**
 * GET /dashboard          the desk's figures as charts, sentences and tables (agents, admins)
 * GET /dashboard/:id.csv  one figure's table as CSV
 */
export function dashboardRoutes(deps: { database: Database; policy: Policy }): Router {
  const { database, policy } = deps;
  const router = Router();
  const agents = requireCan(policy, 'dashboard.view');

  router.get('/dashboard', agents, async (_req, res) => {
    const d = await buildDashboard(database, new Date());
    res.render('dashboard/index', { title: 'Dashboard', d, charts: dashboardCharts(d) });
  });

  router.get('/dashboard/:file', agents, async (req, res) => {
    const m = /^([a-z0-9-]{1,20})\.csv$/.exec(String(req.params.file));
    if (!m) throw notFound('There is no such figure.');
    const d = await buildDashboard(database, new Date());
    const figure = figureById(d, m[1]);
    if (!figure) throw notFound('There is no such figure.');
    await sendCsv(res, `deskside-${figure.id}-${d.today}.csv`, figure.columns, figure.rows.map((r) => r.cells));
  });

  return router;
}
