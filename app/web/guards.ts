import type { NextFunction, Request, Response } from 'express';
import type { Action, Policy, TicketFacts } from '../access/policy';
import { HttpError, SignInRequired } from './http-error';
import { viewerOf } from './viewer';

/** Where to come back to after signing in: a same-site path, never another site. */
export function safeReturnTo(value: unknown, fallback = '/'): string {
  if (typeof value !== 'string' || value.length === 0 || value.length > 2000) return fallback;
  if (!value.startsWith('/') || value.startsWith('//') || value.includes('\\')) return fallback;
  // eslint-disable-next-line no-control-regex -- control characters are exactly what a return path must not hold
  if (/[\u0000-\u001f\u007f]/.test(value)) return fallback;
  return value;
}

/** The page to return to after signing in: for a POST, the page the form was on. */
export function returnToFor(req: Request): string {
  if (req.method === 'GET' || req.method === 'HEAD') return safeReturnTo(req.originalUrl);
  const referer = req.headers.referer;
  if (referer) {
    try {
      const u = new URL(referer);
      if (u.host === req.headers.host) return safeReturnTo(u.pathname + u.search);
    } catch {
      /* fall through */
    }
  }
  return '/';
}

/**
 * Throw unless the viewer may act. Guests asking for something that needs a person get
 * the sign-in dance (401); signed-in people without the role get 403.
 */
export function assertCan(policy: Policy, req: Request, res: Response, action: Action, ticket?: TicketFacts, message?: string): void {
  const viewer = viewerOf(res);
  if (policy.can(viewer, action, ticket)) return;
  if (viewer.anonymous) throw new SignInRequired(returnToFor(req));
  throw new HttpError(403, `forbidden: ${action}`, message ?? 'Your account does not have permission to do that. If you think it should, ask your Deskside administrator to check your groups.');
}

/** Route-level guard for actions that do not depend on a particular ticket. */
export function requireCan(policy: Policy, action: Action) {
  return (req: Request, res: Response, next: NextFunction) => {
    try {
      assertCan(policy, req, res, action);
      next();
    } catch (err) {
      next(err);
    }
  };
}
