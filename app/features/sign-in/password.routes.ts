import { Router, type Request } from 'express';
import type { Config } from '../../config/schema';
import type { DirectoryCache } from '../../directory/cache';
import { LdapDirectory } from '../../directory/ldap';
import { SignInAttempts } from '../../identity/attempts';
import { canonicalLogin } from '../../identity/canonical';
import { parseLogin, type Login } from '../../identity/login';
import { normaliseAddress } from '../../identity/proxy';
import { beginSession, type IdentifyDeps } from '../../web/identify';
import { safeReturnTo } from '../../web/guards';
import { HttpError, ServiceUnavailable, SignInRequired } from '../../web/http-error';
import { viewerOf } from '../../web/viewer';

/** One message for an unknown account, a wrong password and a disabled account alike. */
export const WRONG_PASSWORD_MESSAGE = 'That user name and password did not match. Check them and try again.';
const MAX_FIELD = 256;

function field(req: Request, name: string): string {
  const v = (req.body as Record<string, unknown> | undefined)?.[name];
  return typeof v === 'string' ? v : '';
}

/**
 * POST /sign-in/password: the fallback for browsers that cannot do Windows sign-in.
 * The password is checked by binding to Active Directory as the person (over TLS only),
 * exactly one bind per attempt, behind per-account and per-address limits kept in the
 * database. It is never logged, stored or echoed back.
 */
export function passwordSignInRoutes(deps: IdentifyDeps & { directory: DirectoryCache }): Router {
  const router = Router();
  const config = deps.config as Config & { passwordSignin: NonNullable<Config['passwordSignin']> };
  const limits = config.passwordSignin;
  const attempts = new SignInAttempts(deps.database.db, limits.windowMinutes * 60_000);
  const ldap = deps.directory.directory;
  if (!(ldap instanceof LdapDirectory)) throw new Error('password sign-in needs the LDAP directory');

  router.post('/sign-in/password', async (req, res) => {
    const returnTo = safeReturnTo(field(req, 'returnTo'));
    if (!viewerOf(res).anonymous) return res.redirect(303, returnTo);
    const typed = field(req, 'username').trim().slice(0, MAX_FIELD);
    const password = field(req, 'password');
    const fail = (message = WRONG_PASSWORD_MESSAGE) => new SignInRequired(returnTo, { passwordError: message, username: typed }, false);
    if (!typed || !password) throw fail('Enter your user name and your password.');
    if (password.length > MAX_FIELD) throw fail();

    const address = normaliseAddress(req.socket.remoteAddress) || 'unknown';
    const limited = (subject: string, retryAt: Date) => {
      const minutes = Math.max(1, Math.ceil((retryAt.getTime() - Date.now()) / 60_000));
      res.setHeader('Retry-After', String(Math.max(1, Math.ceil((retryAt.getTime() - Date.now()) / 1000))));
      deps.logger.warn({ security: true, event: 'password-signin-limited', subject, retryAt: retryAt.toISOString(), remoteAddress: address, reqId: res.locals.reqId }, 'password sign-in paused by the rate limit');
      const who = subject.startsWith('account:') ? 'this account' : 'this computer';
      return new HttpError(429, `rate limited: ${subject}`, `There have been too many wrong passwords for ${who}. To protect the account, password sign-in is paused for ${who}: try again in ${minutes} minute${minutes === 1 ? '' : 's'}.`, {
        retryAt: retryAt.toISOString(),
        retryMinutes: minutes,
      });
    };

    const byAddress = await attempts.reserve([{ subject: `address:${address.toLowerCase()}`, max: limits.addressAttempts }]);
    if (!byAddress.ok) throw limited(byAddress.subject, byAddress.retryAt);
    const ids = [...byAddress.ids];
    let accountSubject: string | undefined;
    try {
      let login: Login | null;
      if (!typed.includes('\\') && !typed.includes('@')) {
        const names = await ldap.domainNames().catch(() => null);
        if (!names) {
          await attempts.release(ids);
          throw new ServiceUnavailable('Deskside cannot reach the directory to check your password right now. Please try again in a minute.');
        }
        login = parseLogin(`${names.netbios}\\${typed}`);
      } else {
        login = parseLogin(typed);
      }
      const found = login ? await canonicalLogin(deps.directory, login) : null;
      if (found && found.state === 'unavailable') {
        await attempts.release(ids);
        throw new ServiceUnavailable('Deskside cannot reach the directory to check your password right now. Please try again in a minute.');
      }
      accountSubject = `account:${(found?.login.key ?? typed.toLowerCase()).slice(0, 390)}`;
      const byAccount = await attempts.reserve([{ subject: accountSubject, max: limits.accountAttempts }]);
      if (!byAccount.ok) {
        await attempts.release(ids);
        throw limited(byAccount.subject, byAccount.retryAt);
      }
      ids.push(...byAccount.ids);

      const person = found?.person;
      const outcome = person?.dn && !person.disabled ? await ldap.checkPassword(person.dn, password) : 'refused';
      if (outcome === 'unavailable') {
        await attempts.release(ids);
        throw new ServiceUnavailable('Deskside cannot reach the directory to check your password right now. Please try again in a minute.');
      }
      if (outcome === 'refused') {
        deps.logger.warn(
          { security: true, event: 'password-signin-failed', login: found?.login.login ?? null, known: Boolean(person), remoteAddress: address, reqId: res.locals.reqId },
          'password sign-in refused',
        );
        throw fail();
      }
      await attempts.succeeded(ids, accountSubject);
      const l = found!.login;
      await beginSession(deps, req, res, { login: l.login, domain: l.domain, account: l.account, key: l.key, authType: 'Password (LDAP bind)', source: 'password' }, undefined);
      res.redirect(303, returnTo);
    } catch (err) {
      if (err instanceof HttpError) throw err;
      await attempts.release(ids).catch(() => undefined);
      throw err;
    }
  });

  return router;
}
