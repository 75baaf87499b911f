import request from 'supertest';
import { client, makeApp, type TestApp } from '../support/app';

describe('administering categories', () => {
  let t: TestApp;
  beforeEach(async () => {
    t = await makeApp();
  });
  afterEach(() => t.close());

  const names = async (activeOnly: boolean) =>
    (await t.database.db.selectFrom('categories').select(['name', 'active']).orderBy('sort_order').execute()).filter((c) => !activeOnly || c.active === 1).map((c) => c.name);

  test('when a guest, a requester or an agent asks, then only admins get in', async () => {
    expect((await request(t.app).get('/admin/categories')).status).toBe(401);
    expect((await client(t.app, 'TEST\\alice').get('/admin/categories')).status).toBe(403);
    expect((await client(t.app, 'TEST\\agent1').get('/admin/categories')).status).toBe(403);
    const page = await client(t.app, 'TEST\\admin1').get('/admin/categories');
    expect(page.status).toBe(200);
    expect(page.text).toContain('Accounts &amp; access');
  });

  test('when an admin adds a category, then it appears at the end of the new-ticket form', async () => {
    const admin = client(t.app, 'TEST\\admin1');
    const res = await admin.post('/admin/categories', { name: 'Facilities  requests', description: 'Desks, chairs, keys' });
    expect(res.status).toBe(303);
    expect((await names(true)).at(-1)).toBe('Facilities requests');
    const form = await client(t.app, 'TEST\\alice').get('/tickets/new');
    expect(form.text).toContain('Facilities requests — Desks, chairs, keys');
  });

  test('when the name is empty or already taken (in any case), then the form says so and nothing is added', async () => {
    const admin = client(t.app, 'TEST\\admin1');
    const before = await names(false);
    const empty = await admin.post('/admin/categories', { name: '  ' });
    expect(empty.status).toBe(400);
    expect(empty.text).toContain('Enter a name for the category');
    const dup = await admin.post('/admin/categories', { name: 'printing' });
    expect(dup.status).toBe(400);
    expect(dup.text).toContain('There is already a category called “Printing”');
    expect(await names(false)).toEqual(before);
  });

  test('when an admin retires a category, then it leaves the form but its tickets keep it', async () => {
    const alice = client(t.app, 'TEST\\alice');
    const created = await alice.post('/tickets', { title: 'Paper jam', description: 'Tray 2', category: '6', priority: 'low' });
    const admin = client(t.app, 'TEST\\admin1');
    const res = await admin.post('/admin/categories/6', { name: 'Printing', description: 'Printers', sortOrder: '60' });
    expect(res.status).toBe(303);
    expect(await names(true)).not.toContain('Printing');
    const form = await alice.get('/tickets/new');
    expect(form.text).not.toContain('>Printing');
    const ticket = await alice.get(created.headers.location);
    expect(ticket.text).toContain('Printing');
    const refused = await alice.post('/tickets', { title: 'Another jam', description: 'Tray 1', category: '6', priority: 'low' });
    expect(refused.status).toBe(400);
  });

  test('when an unknown category is updated, then it is a 404; a bad position is a field error', async () => {
    const admin = client(t.app, 'TEST\\admin1');
    expect((await admin.post('/admin/categories/999', { name: 'Ghost' })).status).toBe(404);
    const bad = await admin.post('/admin/categories/1', { name: 'Hardware', sortOrder: '-5', active: 'on' });
    expect(bad.status).toBe(400);
    expect(bad.text).toContain('Position must be a whole number');
    expect(bad.text).toContain('href="#cat-1-order"');
  });
});
