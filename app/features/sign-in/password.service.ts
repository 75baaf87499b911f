import type { PasswordSigninConfig } from '../../config/sso';
import type { DirectoryCache } from '../../directory/cache';
import type { PasswordChecker } from '../../directory/types';
import { canonicalLogin } from '../../identity/canonical';
import type { Logger } from '../../logging';
import { parseLogin, type Login } from '../../login';
import type { SignInAttempts } from './attempts';

/** One message for an unknown account, a wrong password and a disabled account alike. */
export const WRONG_PASSWORD_MESSAGE = 'That user name and password did not match. Check them and try again.';
const MAX_FIELD = 256;

export type PasswordSignInResult =
  | { kind: 'ok'; login: Login }
  /** Nothing to tell apart: unknown account, wrong password, disabled account, or a form left empty. */
  | { kind: 'wrong'; message: string; username: string }
  | { kind: 'limited'; subject: string; retryAt: Date; username: string }
  | { kind: 'unavailable' };

export interface PasswordSignInDeps {
  attempts: SignInAttempts;
  directory: DirectoryCache;
  checker: PasswordChecker;
  limits: PasswordSigninConfig;
  logger: Logger;
}

/**
 * Check a user name and password typed into the sign-in form: exactly one bind to Active
 * Directory as the person per attempt, behind per-account and per-address limits kept in
 * the database. The password is never logged, stored or returned.
 *
 * A user name that cannot name anyone is refused before anything is counted: no bind
 * happens, so it must not use up the address's allowance (an office behind one NAT
 * address would otherwise be locked out by someone's typos).
 */
export async function signInWithPassword(deps: PasswordSignInDeps, input: { username: unknown; password: unknown; address: string; reqId?: string }): Promise<PasswordSignInResult> {
  const typed = (typeof input.username === 'string' ? input.username : '').trim().slice(0, MAX_FIELD);
  const password = typeof input.password === 'string' ? input.password : '';
  const wrong = (message = WRONG_PASSWORD_MESSAGE): PasswordSignInResult => ({ kind: 'wrong', message, username: typed });
  if (!typed || !password) return wrong('Enter your user name and your password.');
  if (password.length > MAX_FIELD) return wrong();

  let login: Login | null;
  if (!typed.includes('\\') && !typed.includes('@')) {
    const names = await deps.checker.domainNames().catch(() => null);
    if (!names) return { kind: 'unavailable' };
    login = parseLogin(`${names.netbios}\\${typed}`);
  } else {
    login = parseLogin(typed);
  }
  if (!login) return wrong();

  const { attempts, limits, logger } = deps;
  const address = input.address || 'unknown';
  const byAddress = await attempts.reserve([{ subject: `address:${address.toLowerCase()}`, max: limits.addressAttempts }]);
  if (!byAddress.ok) return limitedBy(deps, byAddress, typed, address, input.reqId);
  const ids = [...byAddress.ids];
  try {
    const found = await canonicalLogin(deps.directory, login);
    if (found.state === 'unavailable') {
      await attempts.release(ids);
      return { kind: 'unavailable' };
    }
    const accountSubject = `account:${found.login.key.slice(0, 390)}`;
    const byAccount = await attempts.reserve([{ subject: accountSubject, max: limits.accountAttempts }]);
    if (!byAccount.ok) {
      await attempts.release(ids);
      return limitedBy(deps, byAccount, typed, address, input.reqId);
    }
    ids.push(...byAccount.ids);

    const person = found.person;
    const outcome = person?.dn && !person.disabled ? await deps.checker.checkPassword(person.dn, password) : 'refused';
    if (outcome === 'unavailable') {
      await attempts.release(ids);
      return { kind: 'unavailable' };
    }
    if (outcome === 'refused') {
      logger.warn({ security: true, event: 'password-signin-failed', login: found.login.login, known: Boolean(person), remoteAddress: address, reqId: input.reqId }, 'password sign-in refused');
      return wrong();
    }
    await attempts.succeeded(ids, accountSubject);
    return { kind: 'ok', login: found.login };
  } catch (err) {
    await attempts.release(ids).catch(() => undefined);
    throw err;
  }
}

function limitedBy(deps: PasswordSignInDeps, r: { subject: string; retryAt: Date }, username: string, address: string, reqId: string | undefined): PasswordSignInResult {
  deps.logger.warn({ security: true, event: 'password-signin-limited', subject: r.subject, retryAt: r.retryAt.toISOString(), remoteAddress: address, reqId }, 'password sign-in paused by the rate limit');
  return { kind: 'limited', subject: r.subject, retryAt: r.retryAt, username };
}
