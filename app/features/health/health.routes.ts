import { Router } from 'express';
import { withDeadline } from '../../deadline';
import type { Config } from '../../config/schema';
import type { Database } from '../../db/database';
import type { DirectoryCache } from '../../directory/cache';


/** GET /healthz: 200 while the database answers, 503 when it does not; each dependency's state. */
export function healthRoutes(deps: { config: Config; database: Database; directory: DirectoryCache; startedAt: Date }): Router {
  const router = Router();
  router.get('/healthz', async (_req, res) => {
    let database: 'ok' | 'unreachable' = 'ok';
    let databaseError: string | undefined;
    try {
      await withDeadline(deps.database.ping(), 800, 'no answer within 800 ms');
    } catch (err) {
      database = 'unreachable';
      databaseError = err instanceof Error ? err.message : String(err);
    }
    const dir = deps.directory.health();
    res.setHeader('Cache-Control', 'no-store');
    res.status(database === 'ok' ? 200 : 503).json({
      status: database === 'ok' ? 'ok' : 'unavailable',
      database,
      ...(databaseError ? { databaseError } : {}),
      directory: dir.state,
      identity: deps.config.identity,
      uptimeSeconds: Math.round((Date.now() - deps.startedAt.getTime()) / 1000),
      pid: process.pid,
    });
  });
  return router;
}
