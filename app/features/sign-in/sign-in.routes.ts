import { Router } from 'express';
import type { Config } from '../../config/schema';
import type { Database } from '../../db/database';
import { endSession, SESSION_COOKIE } from '../../identity/sessions';
import type { Logger } from '../../logging';
import { serialiseCookie } from '../../web/cookies';
import { SignInRequired } from '../../web/http-error';
import { GUEST_COOKIE, isSecureRequest } from '../../web/identify';
import { safeReturnTo } from '../../web/guards';
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
    const secure = isSecureRequest(req, deps.config);
    if (viewer.sessionId) {
      await endSession(deps.database.db, viewer.sessionId);
      deps.logger.info({ event: 'sign-out', login: viewer.login, reqId: res.locals.reqId }, 'signed out');
    }
    res.append('Set-Cookie', serialiseCookie(SESSION_COOKIE, '', { secure, maxAgeSeconds: 0 }));
    // IIS keeps NTLM connections authenticated; without this the next request would
    // sign the person straight back in.
    res.append('Set-Cookie', serialiseCookie(GUEST_COOKIE, '1', { secure, maxAgeSeconds: deps.config.sessionHours * 3600 }));
    res.redirect(303, '/');
  });

  return router;
}
