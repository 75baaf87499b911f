import type { NextFunction, Request, Response } from 'express';
import type { Config } from '../config/schema';
import { isDatabaseUnavailable } from '../db/errors';
import type { Logger } from '../logging';
import { HttpError, ServiceUnavailable, SignInRequired } from './http-error';
import { GUEST } from './viewer';

const TITLES: Record<number, string> = {
  400: 'That request did not make sense',
  401: 'Please sign in',
  403: 'You do not have access to this',
  404: 'Page not found',
  405: 'That is not allowed here',
  409: 'Someone else changed this first',
  410: 'That is no longer here',
  413: 'That was too much to send',
  415: 'That kind of content is not accepted',
  429: 'Too many sign-in attempts',
  500: 'Something went wrong on our side',
  503: 'Deskside is temporarily unavailable',
};

function wantsJson(req: Request): boolean {
  const accept = req.headers.accept ?? '';
  return /application\/json/i.test(accept) && !/text\/html/i.test(accept);
}

/** Body-parser and other library errors carry a status; map them to our own errors. */
export function toHttpError(err: unknown): HttpError {
  if (err instanceof HttpError) return err;
  const e = err as { status?: number; statusCode?: number; type?: string; expose?: boolean; message?: string };
  const status = e?.status ?? e?.statusCode;
  if (isDatabaseUnavailable(err)) return new ServiceUnavailable();
  if (status === 413) return new HttpError(413, e.message ?? 'too large', 'What you sent is larger than Deskside accepts. Nothing was saved; please shorten it and try again.');
  if (status === 415) return new HttpError(415, e.message ?? 'unsupported', 'Deskside accepts ordinary form posts only.');
  if (status && status >= 400 && status < 500) return new HttpError(status, e.message ?? 'bad request', 'The request could not be read. Nothing was changed.');
  return new HttpError(500, e?.message ?? String(err), 'Deskside hit an unexpected problem. Nothing you sent was lost by this page; please try again.');
}

/**
 * The one place errors become responses. Production pages never show a stack; the
 * request id links what the person sees to the log line an admin will look for.
 */
export function errorHandler(deps: { config: Config; logger: Logger; challenges: () => string[] }) {
  const { config, logger } = deps;
  // Express recognises error handlers by their four parameters.
  return function handle(err: unknown, req: Request, res: Response, _next: NextFunction): void {
    const httpErr = toHttpError(err);
    const status = httpErr.status;
    if (status >= 500) logger.error({ err, reqId: res.locals.reqId, url: req.originalUrl.slice(0, 300) }, 'request failed');
    if (res.headersSent) {
      res.destroy();
      return;
    }
    if (httpErr instanceof SignInRequired && httpErr.challenge) {
      for (const c of deps.challenges()) res.append('WWW-Authenticate', c);
    }
    res.status(status);
    res.setHeader('Cache-Control', 'no-store');
    if (wantsJson(req)) {
      res.json({ error: { status, message: httpErr.publicMessage, requestId: res.locals.reqId as string | undefined } });
      return;
    }
    const view = httpErr instanceof SignInRequired ? 'sign-in/challenge' : 'errors/error';
    // Errors raised before the view locals exist (a refused identity header, an oversized
    // body) still get the site's page: a guest's chrome, no forms.
    const early =
      res.locals.can === undefined
        ? { viewer: GUEST, can: () => false, path: req.path, currentUrl: req.originalUrl, requestHost: req.headers.host ?? 'this site', identityKind: 'none', demoPeople: [], notices: [], csrfToken: () => '' }
        : {};
    const locals = {
      ...early,
      title: TITLES[status] ?? 'Something went wrong',
      status,
      message: httpErr.publicMessage,
      returnTo: httpErr instanceof SignInRequired ? httpErr.returnTo : undefined,
      stack: config.nodeEnv === 'development' && status >= 500 && err instanceof Error ? err.stack : undefined,
      ...httpErr.extra,
    };
    res.render(view, locals, (renderErr, html) => {
      if (renderErr) {
        logger.error({ err: renderErr, reqId: res.locals.reqId }, 'error page failed to render');
        res.type('text/plain').send(`${status} ${locals.title}\n${httpErr.publicMessage}\nRequest id: ${res.locals.reqId}`);
        return;
      }
      res.send(html);
    });
  };
}
