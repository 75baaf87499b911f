import { Router } from 'express';
import type { StaticUser } from '../../directory/static';
import { parseLogin } from '../../identity/login';
import { endSession, SESSION_COOKIE } from '../../identity/sessions';
import { serialiseCookie } from '../../web/cookies';
import { badRequest } from '../../web/http-error';
import { beginSession, isSecureRequest, type IdentifyDeps } from '../../web/identify';
import { safeReturnTo } from '../../web/guards';
import { viewerOf } from '../../web/viewer';

/**
 * POST /dev/act-as (login, returnTo): the demo's person switcher. Mounted only with
 * DESKSIDE_IDENTITY=dev, which config refuses in production and under iisnode. Choosing
 * a person starts the same session as any other sign-in; choosing nobody signs out.
 */
export function actAsRoutes(deps: IdentifyDeps & { people: StaticUser[] }): Router {
  const router = Router();
  router.post('/dev/act-as', async (req, res) => {
    const body = req.body as Record<string, unknown>;
    const returnTo = safeReturnTo(body.returnTo);
    const wanted = typeof body.login === 'string' ? body.login : '';
    const viewer = viewerOf(res);
    if (wanted === '') {
      if (viewer.sessionId) await endSession(deps.database.db, viewer.sessionId);
      res.append('Set-Cookie', serialiseCookie(SESSION_COOKIE, '', { secure: isSecureRequest(req, deps.config), maxAgeSeconds: 0 }));
      return res.redirect(303, returnTo);
    }
    const user = deps.people.find((u) => u.login.toLowerCase() === wanted.toLowerCase());
    const login = user && parseLogin(user.login);
    if (!login) throw badRequest('Choose one of the demo people.');
    await beginSession(deps, req, res, { login: login.login, domain: login.domain, account: login.account, key: login.key, authType: 'demo', source: 'dev' }, viewer.sessionId);
    res.redirect(303, returnTo);
  });
  return router;
}
