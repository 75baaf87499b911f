import { Router } from 'express';
import type { StaticUser } from '../../directory/static';
import { parseLogin } from '../../login';
import { beginSession, endSession, type SessionDeps } from '../../session/session';
import { safeReturnTo } from '../../web/guards';
import { formOf } from '../../web/form';
import { badRequest } from '../../web/http-error';
import { viewerOf } from '../../web/viewer';

/**
 * POST /dev/act-as (login, returnTo): the demo's person switcher. Mounted only with
 * DESKSIDE_IDENTITY=dev, which config refuses in production and under iisnode. Choosing
 * a person starts the same session as any other sign-in; choosing nobody signs out.
 */
export function actAsRoutes(deps: SessionDeps & { people: StaticUser[] }): Router {
  const router = Router();
  router.post('/dev/act-as', async (req, res) => {
    const body = formOf(req);
    const returnTo = safeReturnTo(body.returnTo);
    const wanted = typeof body.login === 'string' ? body.login : '';
    const viewer = viewerOf(res);
    if (wanted === '') {
      await endSession(deps, req, res, viewer.sessionId, { stayGuest: false });
      return res.redirect(303, returnTo);
    }
    const user = deps.people.find((u) => u.login.toLowerCase() === wanted.toLowerCase());
    const login = user && parseLogin(user.login);
    if (!login) throw badRequest('Choose one of the demo people.');
    await beginSession(deps, req, res, { login: login.login, domain: login.domain, account: login.account, key: login.key, authType: 'demo', source: 'dev' }, viewer.sessionId, res.locals.reqId as string | undefined);
    res.redirect(303, returnTo);
  });
  return router;
}
