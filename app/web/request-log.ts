import { randomUUID } from 'node:crypto';
import type { NextFunction, Request, Response } from 'express';
import type { Logger } from '../logging';
import { clientAddressOf } from './identify';
import { viewerOf } from './viewer';

/** One log line per request, with an id that the error page also shows. */
export function requestLog(logger: Logger) {
  return function log(req: Request, res: Response, next: NextFunction): void {
    const started = process.hrtime.bigint();
    const reqId = randomUUID();
    res.locals.reqId = reqId;
    res.setHeader('X-Request-Id', reqId);
    res.on('finish', () => {
      const ms = Number(process.hrtime.bigint() - started) / 1e6;
      const v = viewerOf(res);
      const level = res.statusCode >= 500 ? 'error' : 'info';
      logger[level](
        {
          reqId,
          method: req.method,
          url: req.originalUrl.length > 300 ? `${req.originalUrl.slice(0, 300)}…` : req.originalUrl,
          status: res.statusCode,
          ms: Math.round(ms * 10) / 10,
          user: v.anonymous ? undefined : v.login,
          // Under iisnode the socket is a pipe: the address is the one IIS promoted.
          remoteAddress: clientAddressOf(req, res) || undefined,
        },
        'request',
      );
    });
    next();
  };
}
