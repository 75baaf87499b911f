import { Router } from 'express';
import type { Config } from '../../config/schema';
import type { Database } from '../../db/database';
import type { Logger } from '../../logging';
import { endSession } from '../../session/session';
import { safeReturnTo } from '../../web/guards';
import { SignInRequired } from '../../web/http-error';
import { viewerOf } from '../../web/viewer';

/**
 * GET  /sign-in?returnTo=/path  guests: 401 + WWW-Authenticate, so the browser answers
 *                               with Windows credentials; signed in: back to returnTo.
 * POST /sign-out                end the session; stay a guest until signing in again.
 */
export function signInRoutes(deps: { config: Config; database: Database; logger: Logger }): Router {
  const router = Router();

  router.get('/sign-in', (req, res) => {
    const returnTo = safeReturnTo(req.query.returnTo);
    if (!viewerOf(res).anonymous) return res.redirect(303, returnTo);
    throw new SignInRequired(returnTo);
  });

  router.post('/sign-out', async (req, res) => {
    const viewer = viewerOf(res);
    await endSession(deps, req, res, viewer.sessionId, { stayGuest: true });
    if (viewer.sessionId) deps.logger.info({ event: 'sign-out', login: viewer.login, reqId: res.locals.reqId }, 'signed out');
    res.redirect(303, '/');
  });

  return router;
}
