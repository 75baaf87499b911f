import { Router, type Request } from 'express';
import type { PasswordSigninConfig } from '../../config/sso';
import { beginSession } from '../../session/session';
import { formOf } from '../../web/form';
import { safeReturnTo } from '../../web/guards';
import { HttpError, ServiceUnavailable, SignInRequired } from '../../web/http-error';
import { clientAddressOf, type IdentifyDeps } from '../../web/identify';
import { viewerOf } from '../../web/viewer';
import { SignInAttempts } from './attempts';
import { signInWithPassword, type PasswordSignInDeps } from './password.service';

export { WRONG_PASSWORD_MESSAGE } from './password.service';

function field(req: Request, name: string): unknown {
  return formOf(req)[name];
}

/**
 * POST /sign-in/password: the fallback for browsers that cannot do Windows sign-in.
 * The answer to a wrong password is the sign-in page again, without WWW-Authenticate (a
 * browser that tried Negotiate there would re-send the post and count it twice).
 */
export function passwordSignInRoutes(deps: IdentifyDeps & { limits: PasswordSigninConfig }): Router {
  const router = Router();
  const checker = deps.directory.directory?.passwords;
  if (!checker) throw new Error('password sign-in needs a directory that can check passwords (DESKSIDE_LDAP_URL)');
  const service: PasswordSignInDeps = {
    attempts: new SignInAttempts(deps.database.db, deps.limits.windowMinutes * 60_000),
    directory: deps.directory,
    checker,
    limits: deps.limits,
    logger: deps.logger,
  };

  router.post('/sign-in/password', async (req, res) => {
    const returnTo = safeReturnTo(field(req, 'returnTo'));
    if (!viewerOf(res).anonymous) return res.redirect(303, returnTo);
    const reqId = res.locals.reqId as string | undefined;
    const result = await signInWithPassword(service, { username: field(req, 'username'), password: field(req, 'password'), address: clientAddressOf(req, res), reqId });
    switch (result.kind) {
      case 'wrong':
        throw new SignInRequired(returnTo, { passwordError: result.message, username: result.username }, false);
      case 'unavailable':
        throw new ServiceUnavailable('Deskside cannot reach the directory to check your password right now. Please try again in a minute.');
      case 'limited': {
        const seconds = Math.max(1, Math.ceil((result.retryAt.getTime() - Date.now()) / 1000));
        const minutes = Math.max(1, Math.ceil(seconds / 60));
        res.setHeader('Retry-After', String(seconds));
        const who = result.subject.startsWith('account:') ? 'this account' : 'this computer';
        throw new HttpError(429, `rate limited: ${result.subject}`, `There have been too many wrong passwords for ${who}. To protect the account, password sign-in is paused for ${who}: try again in ${minutes} minute${minutes === 1 ? '' : 's'}.`, {
          retryAt: result.retryAt.toISOString(),
          retryMinutes: minutes,
        });
      }
      case 'ok': {
        const l = result.login;
        await beginSession(deps, req, res, { login: l.login, domain: l.domain, account: l.account, key: l.key, authType: 'Password (LDAP bind)', source: 'password' }, undefined, reqId);
        res.redirect(303, returnTo);
      }
    }
  });

  return router;
}
