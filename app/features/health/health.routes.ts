import { Router } from 'express';
import type { Policy } from '../../access/policy';
import type { Config } from '../../config/schema';
import type { Database } from '../../db/database';
import type { DirectoryCache } from '../../directory/cache';
import { withDeadline } from '../../deadline';
import type { Logger } from '../../logging';
import { viewerOf } from '../../web/viewer';

/**
 * GET /healthz: 200 while the database answers, 503 when it does not, and each
 * dependency's state. Load balancers and monitors ask anonymously and get the states
 * only; the process id, identity mode and error text are for admins (and the log), since
 * they help an attacker as much as an administrator.
 */
export function healthRoutes(deps: { config: Config; database: Database; directory: DirectoryCache; policy: Policy; logger: Logger; startedAt: Date }): Router {
  const router = Router();
  router.get('/healthz', async (_req, res) => {
    let database: 'ok' | 'unreachable' = 'ok';
    let databaseError: string | undefined;
    try {
      await withDeadline(deps.database.ping(), 800, 'no answer within 800 ms');
    } catch (err) {
      database = 'unreachable';
      databaseError = err instanceof Error ? err.message : String(err);
      deps.logger.warn({ event: 'health', database, databaseError, reqId: res.locals.reqId as string | undefined }, 'health check: the database did not answer');
    }
    const dir = deps.directory.health();
    const states = { status: database === 'ok' ? 'ok' : 'unavailable', database, directory: dir.state };
    res.setHeader('Cache-Control', 'no-store');
    res.status(database === 'ok' ? 200 : 503);
    if (!deps.policy.can(viewerOf(res), 'health.detail')) {
      res.json(states);
      return;
    }
    res.json({
      ...states,
      ...(databaseError ? { databaseError } : {}),
      ...(dir.lastError ? { directoryError: dir.lastError } : {}),
      identity: deps.config.identity,
      uptimeSeconds: Math.round((Date.now() - deps.startedAt.getTime()) / 1000),
      pid: process.pid,
    });
  });
  return router;
}
