import { Router } from 'express';
import type { Config } from '../../config/schema';
import type { Database } from '../../db/database';
import type { StaticUser } from '../../directory/static';
import { parseLogin } from '../../identity/login';
import { endSession, SESSION_COOKIE, startSession } from '../../identity/sessions';
import type { Keys } from '../../secret';
import { serialiseCookie } from '../../web/cookies';
import { badRequest } from '../../web/http-error';
import { isSecureRequest } from '../../web/identify';
import { safeReturnTo } from '../../web/guards';
import { viewerOf } from '../../web/viewer';
import { ensurePerson } from '../people/people.queries';

/**
 * POST /dev/act-as (login, returnTo): the demo's person switcher. Mounted only with
 * DESKSIDE_IDENTITY=dev, which config refuses in production and under iisnode.
 */
export function actAsRoutes(deps: { config: Config; database: Database; keys: Keys; people: StaticUser[] }): Router {
  const router = Router();
  router.post('/dev/act-as', async (req, res) => {
    const body = req.body as Record<string, unknown>;
    const returnTo = safeReturnTo(body.returnTo);
    const wanted = typeof body.login === 'string' ? body.login : '';
    const viewer = viewerOf(res);
    const secure = isSecureRequest(req, deps.config);
    if (viewer.sessionId) await endSession(deps.database.db, viewer.sessionId);
    if (wanted === '') {
      res.append('Set-Cookie', serialiseCookie(SESSION_COOKIE, '', { secure, maxAgeSeconds: 0 }));
      return res.redirect(303, returnTo);
    }
    const user = deps.people.find((u) => u.login.toLowerCase() === wanted.toLowerCase());
    const login = user && parseLogin(user.login);
    if (!user || !login) throw badRequest('Choose one of the demo people.');
    const person = await ensurePerson(deps.database.db, login.login, login.key, {
      displayName: user.displayName,
      email: user.email,
      department: user.department,
      title: user.title,
    });
    const s = await startSession(deps.database.db, deps.keys.session, { personId: person.id, authType: 'demo', source: 'dev', hours: deps.config.sessionHours });
    res.append('Set-Cookie', serialiseCookie(SESSION_COOKIE, s.cookieValue, { secure, maxAgeSeconds: s.maxAgeSeconds }));
    res.redirect(303, returnTo);
  });
  return router;
}
