import request from 'supertest';
import { makeApp, type TestApp } from '../support/app';

describe('the platform', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await makeApp();
  });
  afterAll(() => t.close());

  test('when anyone asks for /healthz, then the database state is reported', async () => {
    const res = await request(t.app).get('/healthz');
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ status: 'ok', database: 'ok', directory: 'off', identity: 'proxy' });
  });
});
