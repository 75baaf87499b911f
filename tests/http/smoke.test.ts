import request from 'supertest';
import { client, makeApp, type TestApp } from '../support/app';

describe('the platform', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await makeApp();
  });
  afterAll(() => t.close());

  test('when anyone asks for /healthz, then the states are reported and nothing about the process', async () => {
    for (const who of [undefined, 'TEST\\alice', 'TEST\\agent1']) {
      const res = who ? await client(t.app, who).get('/healthz') : await request(t.app).get('/healthz');
      expect(res.status).toBe(200);
      expect(res.body).toEqual({ status: 'ok', database: 'ok', directory: 'off' });
      expect(res.headers['cache-control']).toBe('no-store');
    }
  });

  test('when an admin asks for /healthz, then the identity mode, uptime and process id are there too', async () => {
    const res = await client(t.app, 'TEST\\admin1').get('/healthz');
    expect(res.body).toMatchObject({ status: 'ok', database: 'ok', directory: 'off', identity: 'proxy', pid: process.pid });
    expect(typeof res.body.uptimeSeconds).toBe('number');
  });
});
