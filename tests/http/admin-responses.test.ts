import request from 'supertest';
import { client, makeApp, type TestApp } from '../support/app';

describe('administering canned replies', () => {
  let t: TestApp;
  beforeEach(async () => {
    t = await makeApp();
  });
  afterEach(() => t.close());

  const rows = () => t.database.db.selectFrom('canned_responses').select(['id', 'title', 'body', 'active']).orderBy('id').execute();

  test('when a guest, a requester or an agent asks, then only admins get in', async () => {
    expect((await request(t.app).get('/admin/responses')).status).toBe(401);
    expect((await client(t.app, 'TEST\\alice').get('/admin/responses')).status).toBe(403);
    expect((await client(t.app, 'TEST\\agent1').get('/admin/responses')).status).toBe(403);
    expect((await client(t.app, 'TEST\\agent1').post('/admin/responses', { title: 'x', body: 'y', active: 'on' })).status).toBe(403);
    const page = await client(t.app, 'TEST\\admin1').get('/admin/responses');
    expect(page.status).toBe(200);
    expect(page.text).toContain('{{requester.firstName}}');
    expect(await rows()).toEqual([]);
  });

  test('when an admin adds, changes and retires a reply, then agents are offered exactly the active ones', async () => {
    const admin = client(t.app, 'TEST\\admin1');
    expect((await admin.post('/admin/responses', { title: '  Password   reset ', body: 'Hi {{ requester.firstName }},\r\nyour password is reset.', active: 'on' })).status).toBe(303);
    const [r] = await rows();
    expect(r).toMatchObject({ title: 'Password reset', body: 'Hi {{ requester.firstName }},\nyour password is reset.', active: 1 });
    const id = await client(t.app, 'TEST\\alice')
      .post('/tickets', { title: 'Locked out', description: 'Cannot sign in.', category: '3', priority: 'high' })
      .then((res) => Number(/\/tickets\/(\d+)/.exec(res.headers.location)![1]));
    expect((await client(t.app, 'TEST\\agent1').get(`/tickets/${id}`)).text).toContain('>Password reset</option>');
    expect((await admin.post(`/admin/responses/${r.id}`, { title: 'Password reset done', body: 'Done, {{agent.firstName}}' })).status).toBe(303);
    expect((await rows())[0]).toMatchObject({ title: 'Password reset done', active: 0 });
    expect((await client(t.app, 'TEST\\agent1').get(`/tickets/${id}`)).text).not.toContain('Password reset done');
  });

  test.each([
    ['no title', { title: ' ', body: 'x' }, 'Give the reply a title'],
    ['no text', { title: 'T', body: '' }, 'Write the text of the reply'],
    ['a title too long', { title: 't'.repeat(121), body: 'x' }, '120 characters or fewer'],
    ['text too long', { title: 'T', body: 'b'.repeat(5001) }, '5,000 characters or fewer'],
    ['an unknown placeholder', { title: 'T', body: 'Hi {{requester.salary}}' }, 'Unknown placeholder {{requester.salary}}'],
    ['a placeholder every object has', { title: 'T', body: 'Hi {{constructor}}' }, 'Unknown placeholder {{constructor}}'],
  ])('when a reply has %s, then the form comes back with the message and nothing is saved', async (_what, form, message) => {
    const res = await client(t.app, 'TEST\\admin1').post('/admin/responses', { active: 'on', ...form });
    expect(res.status).toBe(400);
    expect(res.text).toContain('There is a problem');
    expect(res.text).toContain(message);
    expect(await rows()).toEqual([]);
  });

  test('when an admin changes a reply that does not exist, or gives bad text, then it is a 404 or the form with the message', async () => {
    const admin = client(t.app, 'TEST\\admin1');
    expect((await admin.post('/admin/responses/4242', { title: 'x', body: 'y' })).status).toBe(404);
    expect((await admin.post('/admin/responses/abc', { title: 'x', body: 'y' })).status).toBe(404);
    await admin.post('/admin/responses', { title: 'Keep', body: 'Keep me', active: 'on' });
    const [r] = await rows();
    const bad = await admin.post(`/admin/responses/${r.id}`, { title: 'Keep', body: '{{nope}}', active: 'on' });
    expect(bad.status).toBe(400);
    expect(bad.text).toContain(`href="#resp-${r.id}-body"`);
    expect((await rows())[0].body).toBe('Keep me');
  });
});
