import express from 'express';
import path from 'node:path';
import request from 'supertest';
import { parseConfig } from '../../app/config/schema';
import { createLogger } from '../../app/logging';
import { errorHandler } from '../../app/web/error-handler';
import { HttpError } from '../../app/web/http-error';
import { makeApp } from '../support/app';

describe('when the database goes away', () => {
  test('then pages answer 503 in the site look and /healthz says unavailable', async () => {
    const t = await makeApp();
    await t.database.close();
    try {
      const page = await request(t.app).get('/').set('X-Remote-User', 'TEST\\alice');
      expect(page.status).toBe(503);
      expect(page.text).toContain('Deskside is temporarily unavailable');
      expect(page.text).not.toMatch(/at .*\.(js|ts):\d+/);
      const health = await request(t.app).get('/healthz');
      expect(health.status).toBe(503);
      expect(health.body).toMatchObject({ status: 'unavailable', database: 'unreachable' });
    } finally {
      await t.close();
    }
  });
});

describe('the error handler', () => {
  function appThatThrows(nodeEnv: 'production' | 'development') {
    const app = express();
    app.set('views', path.resolve(__dirname, '../../views'));
    app.set('view engine', 'ejs');
    app.use((_req, res, next) => {
      // The locals every page expects, as app.ts provides them.
      Object.assign(res.locals, { reqId: 'req-123', can: () => false, path: '/', currentUrl: '/', identityKind: 'proxy', notices: [], demoPeople: [], viewer: { anonymous: true, roles: new Set(), grants: [], groups: [] }, csrfToken: () => 't' });
      next();
    });
    app.get('/boom', () => {
      throw new Error('secret internal detail at /srv/app.js:42');
    });
    app.get('/conflict', () => {
      throw new HttpError(409, 'conflict', 'Changed meanwhile.');
    });
    app.use(errorHandler({ config: parseConfig({ NODE_ENV: nodeEnv, DESKSIDE_IDENTITY: 'proxy', DESKSIDE_TRUSTED_PROXIES: '127.0.0.1' }), logger: createLogger('silent'), challenges: () => [] }));
    return app;
  }

  test('when a handler fails in production, then a 500 page shows the request id and nothing internal', async () => {
    const res = await request(appThatThrows('production')).get('/boom');
    expect(res.status).toBe(500);
    expect(res.text).toContain('Something went wrong on our side');
    expect(res.text).toContain('req-123');
    expect(res.text).not.toContain('secret internal detail');
    expect(res.headers['cache-control']).toBe('no-store');
  });

  test('when a handler fails in development, then the stack is shown to help the developer', async () => {
    const res = await request(appThatThrows('development')).get('/boom');
    expect(res.status).toBe(500);
    expect(res.text).toContain('secret internal detail');
  });

  test('when an API caller gets an error, then it is JSON with the status and request id', async () => {
    const res = await request(appThatThrows('production')).get('/conflict').set('Accept', 'application/json');
    expect(res.status).toBe(409);
    expect(res.body).toEqual({ error: { status: 409, message: 'Changed meanwhile.', requestId: 'req-123' } });
  });
});
