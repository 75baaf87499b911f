import request from 'supertest';
import { recordBreaches } from '../../app/features/service-levels/clocks';
import { NO_LISTENER } from '../../app/features/tickets/ticket-events';
import { insertNewTicket } from '../../app/features/tickets/tickets.service';
import { client, makeApp, type TestApp } from '../support/app';

/** The form as the page fills it, with some fields changed. */
async function formFields(t: TestApp, change: Record<string, string> = {}): Promise<Record<string, string>> {
  const page = await client(t.app, 'TEST\\admin1').get('/admin/service-levels');
  const fields: Record<string, string> = {};
  for (const m of page.text.matchAll(/<input type="text" id="[^"]*" name="([^"]+)" value="([^"]*)"/g)) fields[m[1]] = m[2].replace(/&#39;/g, "'").replace(/&amp;/g, '&');
  fields.version = /name="version" value="(\d+)"/.exec(page.text)![1];
  fields.holidays = /<textarea id="holidays"[^>]*>([^<]*)<\/textarea>/.exec(page.text)![1];
  for (const m of page.text.matchAll(/<select id="[^"]*" name="(exceptions\.\d+\.(?:category|priority))">/g)) fields[m[1]] = '';
  return { ...fields, ...change };
}

describe('the service-levels admin page', () => {
  let t: TestApp;
  beforeEach(async () => {
    t = await makeApp();
  });
  afterEach(() => t.close());

  test('when a guest, a requester or an agent asks, then only admins get in', async () => {
    expect((await request(t.app).get('/admin/service-levels')).status).toBe(401);
    expect((await client(t.app, 'TEST\\alice').get('/admin/service-levels')).status).toBe(403);
    expect((await client(t.app, 'TEST\\agent1').post('/admin/service-levels', { timeZone: 'UTC' })).status).toBe(403);
    const page = await client(t.app, 'TEST\\admin1').get('/admin/service-levels');
    expect(page.status).toBe(200);
    // The calendar the migration starts with: weekdays 09:00–17:00 UTC, no targets.
    expect(page.text).toContain('id="hours-mon-0-start" name="hours.mon.0.start" value="09:00"');
    expect(page.text).toContain('id="hours-sat-0-start" name="hours.sat.0.start" value=""');
    expect(page.text).toContain('id="timeZone" name="timeZone" value="UTC"');
  });

  test('when an admin saves a calendar and targets, then they are stored as typed and shown back in the same units', async () => {
    const fields = await formFields(t, {
      timeZone: 'europe/london',
      'hours.mon.0.start': '8:00',
      'hours.mon.0.end': '12:00',
      'hours.mon.1.start': '13:00',
      'hours.mon.1.end': '18:00',
      holidays: '2026-12-25\r\n2026-12-26\r\n',
      'targets.urgent.response': '1h',
      'targets.urgent.resolution': '10h',
      'targets.normal.response': '90',
      'targets.normal.resolution': '1.5h',
      'exceptions.0.category': '5',
      'exceptions.0.priority': 'urgent',
      'exceptions.0.response': '30m',
      atRiskPercent: '20',
    });
    const res = await client(t.app, 'TEST\\admin1').post('/admin/service-levels', fields);
    expect(res.status).toBe(303);
    const settings = await t.database.db.selectFrom('sla_settings').select(['calendar', 'at_risk_percent', 'version', 'updated_by']).executeTakeFirstOrThrow();
    const calendar = JSON.parse(settings.calendar) as { timeZone: string; hours: Record<string, unknown>; holidays: string[] };
    expect(calendar.timeZone).toBe('Europe/London');
    expect(calendar.hours.mon).toEqual([{ start: '08:00', end: '12:00' }, { start: '13:00', end: '18:00' }]);
    expect(calendar.holidays).toEqual(['2026-12-25', '2026-12-26']);
    expect(settings.at_risk_percent).toBe(20);
    expect(settings.version).toBe(2);
    expect(settings.updated_by).not.toBeNull();
    const targets = await t.database.db.selectFrom('sla_targets').select(['priority', 'category_id', 'response_minutes', 'resolution_minutes']).orderBy('priority').orderBy('category_id').execute();
    expect(targets).toEqual([
      { priority: 2, category_id: null, response_minutes: 90, resolution_minutes: 90 },
      { priority: 4, category_id: null, response_minutes: 60, resolution_minutes: 600 },
      { priority: 4, category_id: 5, response_minutes: 30, resolution_minutes: null },
    ]);
    const page = await client(t.app, 'TEST\\admin1').get(res.headers.location);
    expect(page.text).toContain('Service levels saved.');
    expect(page.text).toContain('name="targets.normal.response" value="1h 30m"');
    expect(page.text).toContain('name="exceptions.0.response" value="30m"');
    expect(page.text).toMatch(/name="exceptions\.0\.category"><option value="">Choose…<\/option>[\s\S]*?<option value="5" selected>/);
  });

  test('when the form is wrong, then every problem is beside its own input and linked from the summary, and nothing is saved', async () => {
    const fields = await formFields(t, {
      timeZone: 'Mars/Olympus',
      'hours.tue.0.start': '18:00',
      'hours.tue.0.end': '08:00',
      'hours.wed.0.start': '',
      'hours.wed.1.start': '25:00',
      'hours.wed.1.end': '26:00',
      holidays: '2026-02-30',
      'targets.urgent.response': 'soon',
      'targets.high.response': '5h',
      'targets.high.resolution': '4h',
      'targets.low.resolution': `${366 * 24 + 1}h`,
      'exceptions.0.category': '5',
      'exceptions.0.priority': 'urgent',
      'exceptions.0.response': '1h',
      'exceptions.1.category': '5',
      'exceptions.1.priority': 'urgent',
      'exceptions.1.resolution': '2h',
      atRiskPercent: '0',
    });
    const res = await client(t.app, 'TEST\\admin1').post('/admin/service-levels', fields);
    expect(res.status).toBe(400);
    const links = [...res.text.matchAll(/<li><a href="#([^"]+)">/g)].map((m) => m[1]);
    expect(links).toEqual(
      expect.arrayContaining(['timeZone', 'hours-tue-0-end', 'hours-wed-1-start', 'hours-wed-1-end', 'holidays', 'targets-urgent-response', 'targets-high-response', 'targets-low-resolution', 'exceptions-1-category', 'atRiskPercent']),
    );
    // Each link has an input with that id.
    for (const id of links) expect(res.text).toContain(`id="${id}"`);
    expect(res.text).toContain('“Mars/Olympus” is not a time zone we know');
    expect(res.text).toContain('Tuesday’s end time must be after its start time');
    expect(res.text).toContain('The first-response target cannot be longer than the resolution target');
    expect(res.text).toContain('Keep the target to 8784h or less');
    expect(res.text).toContain('Enter the time in hours and minutes, like 4h, 1h 30m or 45m');
    expect(res.text).toContain('already has an exception for urgent tickets');
    // The person's input comes back.
    expect(res.text).toContain('name="targets.urgent.response" value="soon"');
    expect((await t.database.db.selectFrom('sla_settings').select('version').executeTakeFirstOrThrow()).version).toBe(1);
    expect(await t.database.db.selectFrom('sla_targets').selectAll().execute()).toEqual([]);
  });

  test('when two admins save from the same page, then the second is told and sees the first one’s settings', async () => {
    const first = await formFields(t, { 'targets.urgent.response': '2h' });
    const second = await formFields(t, { 'targets.urgent.response': '3h' });
    expect((await client(t.app, 'TEST\\admin1').post('/admin/service-levels', first)).status).toBe(303);
    const res = await client(t.app, 'TEST\\admin1').post('/admin/service-levels', second);
    expect(res.status).toBe(409);
    expect(res.text).toContain('Someone else saved the service levels after you opened this page');
    expect(res.text).toContain('name="targets.urgent.response" value="2h"');
  });
});

describe('service levels on the ticket page', () => {
  let t: TestApp;
  beforeEach(async () => {
    t = await makeApp();
    // Round the clock in UTC, so due times are plain arithmetic whatever the test's hour.
    const always = Object.fromEntries(['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'].map((d) => [d, [{ start: '00:00', end: '24:00' }]]));
    await t.database.db.updateTable('sla_settings').set({ calendar: JSON.stringify({ timeZone: 'UTC', hours: always }), version: 2 }).execute();
    await t.database.db.insertInto('sla_targets').values([{ priority: 4, category_id: null, response_minutes: 60, resolution_minutes: 600 }]).execute();
  });
  afterEach(() => t.close());

  test('when an urgent ticket is raised, then agents see both due times and how they were worked out; the requester sees none of it', async () => {
    const raised = await client(t.app, 'TEST\\alice').post('/tickets', { title: 'Server room is hot', description: 'The air conditioning stopped', category: '1', priority: 'urgent' });
    const id = /\/tickets\/(\d+)/.exec(raised.headers.location)![1];
    const page = await client(t.app, 'TEST\\agent1').get(`/tickets/${id}`);
    expect(page.text).toContain('<h2 id="sla-h">Service level</h2>');
    expect(page.text).toMatch(/First response<\/span> <span class="muted small">within 1h<\/span>/);
    expect(page.text).toMatch(/Resolution<\/span> <span class="muted small">within 10h<\/span>/);
    expect(page.text).toMatch(/<summary>How this was worked out<\/summary><p class="small">Raised \w{3} \d+ \w{3} \d\d:\d\d; 1 h on [^<]*due \w{3} \d+ \w{3} \d\d:\d\d<\/p>/);
    expect((await client(t.app, 'TEST\\alice').get(`/tickets/${id}`)).text).not.toContain('Service level');
  });

  test('when a ticket is past its due time, then it says so in words as well as colour, and once recorded the timeline says the target was missed (for agents only)', async () => {
    const alice = client(t.app, 'TEST\\alice');
    await alice.get('/');
    const requesterId = (await t.database.db.selectFrom('people').select('id').where('login_key', '=', 'test\\alice').executeTakeFirstOrThrow()).id;
    const threeHoursAgo = new Date(Date.now() - 3 * 3600_000).toISOString();
    const id = await t.database.write((trx) => insertNewTicket(trx, 'sqlite', requesterId, { title: 'Nobody answered', description: 'Still down', categoryId: 1, priority: 'urgent' }, threeHoursAgo, NO_LISTENER));
    const agent = client(t.app, 'TEST\\agent1');
    expect((await agent.get(`/tickets/${id}`)).text).toMatch(/<span class="badge sla-overdue">Overdue<\/span> due <strong title="Raised/);
    expect(await recordBreaches(t.database, new Date())).toBe(1);
    const page = await agent.get(`/tickets/${id}`);
    expect(page.text).toMatch(/<span class="badge sla-breached">Missed<\/span> it was due/);
    expect(page.text).toMatch(/recorded that the first-response target was <span class="badge sla-breached">missed<\/span>: it was due <time[^>]*>2 hours ago<\/time>/);
    expect((await alice.get(`/tickets/${id}`)).text).not.toContain('first-response target');
  });
});
