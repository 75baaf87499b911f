import { randomBytes } from 'node:crypto';
import type { NextFunction, Request, Response } from 'express';
import type { Config } from '../config/schema';
import type { Logger } from '../logging';
import { isSecureRequest, readCookies, serialiseCookie } from '../session/cookies';
import { hmac, safeEqual } from '../signing';
import { formOf } from './form';
import { HttpError } from './http-error';
import { viewerOf } from './viewer';

export const CSRF_COOKIE = 'deskside_csrf';
export const CSRF_FIELD = '_csrf';

/** A form token check for a body the route reads itself; set on res.locals.checkFormToken. */
export type FormTokenCheck = (fields: Record<string, unknown>) => boolean;

const isMultipart = (req: Request) => /^multipart\/form-data\s*;/i.test(req.headers['content-type'] ?? '');

/**
 * Windows credentials are ambient: a hostile page can make the browser post to us as the
 * signed-in person. Every POST therefore needs a token that only our own pages know:
 * an HMAC of a per-browser random id (cookie) and the current session, keyed by the
 * shared secret so every iisnode process accepts every other's tokens. Cross-site
 * Origin headers are refused before the token is even looked at.
 */
export function csrf(opts: { key: Buffer; config: Config; logger: Logger; uploadPaths?: RegExp[] }) {
  const { key, config, logger } = opts;
  const uploadPaths = opts.uploadPaths ?? [];

  function browserId(req: Request, res: Response): string {
    const existing = readCookies(req).get(CSRF_COOKIE);
    if (existing && /^[A-Za-z0-9_-]{22,64}$/.test(existing)) return existing;
    if (res.locals.csrfBrowserId) return res.locals.csrfBrowserId as string;
    const id = randomBytes(18).toString('base64url');
    res.locals.csrfBrowserId = id;
    if (!res.headersSent) res.append('Set-Cookie', serialiseCookie(CSRF_COOKIE, id, { secure: isSecureRequest(req, config) }));
    return id;
  }

  /** The token format, in one place: browser id and session, signed with the CSRF key. */
  const tokenOf = (browser: string, res: Response) => hmac(key, `${browser}|${viewerOf(res).sessionId ?? 'guest'}`);

  function tokenFor(req: Request, res: Response): string {
    return tokenOf(browserId(req, res), res);
  }

  function originAllowed(req: Request): boolean {
    const origin = req.headers.origin ?? req.headers.referer;
    if (origin === undefined) return true; // old browsers and IE mode omit it; the token still protects
    if (origin === 'null') return false;
    let parsed: URL;
    try {
      parsed = new URL(origin);
    } catch {
      return false;
    }
    if (parsed.host === req.headers.host) return true;
    return config.trustedOrigins.includes(parsed.origin);
  }

  function verify(req: Request, res: Response, next: NextFunction): void {
    if (req.method !== 'POST') return next();
    if (!originAllowed(req)) {
      logger.warn({ security: true, event: 'csrf-origin', origin: req.headers.origin, reqId: res.locals.reqId }, 'refused a cross-site form post');
      return next(new HttpError(403, 'cross-site post refused', 'This form was sent from another site, so it was refused. Nothing was changed.'));
    }
    if (isMultipart(req) && uploadPaths.some((p) => p.test(req.path))) {
      // A post with files carries its token inside the body, which only the route reads:
      // its upload reader must call this before it writes a byte of any file, and refuse
      // the post when it answers false. Multipart posts anywhere else are refused below.
      res.locals.checkFormToken = ((fields) => tokenAccepted(req, res, fields[CSRF_FIELD])) satisfies FormTokenCheck;
      return next();
    }
    if (!tokenAccepted(req, res, formOf(req)[CSRF_FIELD])) return next(tokenRefused());
    next();
  }

  function tokenAccepted(req: Request, res: Response, field: unknown): boolean {
    const sent = (typeof field === 'string' ? field : undefined) ?? req.get('x-csrf-token');
    const id = readCookies(req).get(CSRF_COOKIE);
    const expected = id ? tokenOf(id, res) : undefined;
    if (typeof sent === 'string' && expected && safeEqual(sent, expected)) return true;
    logger.warn({ security: true, event: 'csrf-token', reqId: res.locals.reqId, hasToken: typeof sent === 'string' }, 'refused a post with a missing or wrong form token');
    return false;
  }

  /**
   * The JSON API's check for a call made with the session cookie: a same-site origin (when
   * the browser says), then the token in `X-CSRF-Token` (the API reads no form fields).
   */
  function check(req: Request, res: Response): 'ok' | 'cross-site' | 'token' {
    if (!originAllowed(req)) {
      logger.warn({ security: true, event: 'csrf-origin', origin: req.headers.origin, reqId: res.locals.reqId }, 'refused a cross-site API call');
      return 'cross-site';
    }
    return tokenAccepted(req, res, undefined) ? 'ok' : 'token';
  }

  function locals(req: Request, res: Response, next: NextFunction): void {
    let token: string | undefined;
    res.locals.csrfToken = () => (token ??= tokenFor(req, res));
    next();
  }

  return { verify, locals, tokenFor, check };
}

/** The answer to a post whose form token is missing or wrong. */
export function tokenRefused(): HttpError {
  return new HttpError(403, 'csrf token missing or wrong', 'This form has expired or did not come from Deskside, so nothing was changed. Go back, reload the page and try again.');
}

export type Csrf = ReturnType<typeof csrf>;
