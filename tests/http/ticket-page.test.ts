import request from 'supertest';
import { createStaticDirectory } from '../../app/directory/static';
import { client, csrfFrom, makeApp, type TestApp } from '../support/app';

/**
 * The ticket page as agents work it (issue 15): reply and status in one post, reply and
 * internal note as two distinct choices, a reply that meets newer activity, canned
 * replies, editing the title and description, and the requester side panel.
 */

async function raise(t: TestApp, login: string, form: Record<string, string> = {}): Promise<number> {
  const res = await client(t.app, login).post('/tickets', { title: 'Laptop will not dock', description: 'The screens stay black.', category: '1', priority: 'normal', ...form });
  expect(res.status).toBe(303);
  return Number(/^\/tickets\/(\d+)$/.exec(res.headers.location)![1]);
}

async function events(t: TestApp, id: number) {
  return t.database.db.selectFrom('ticket_events').select(['kind', 'body', 'from_value', 'to_value', 'ticket_version']).where('ticket_id', '=', id).orderBy('id').execute();
}

async function ticketRow(t: TestApp, id: number) {
  return t.database.db.selectFrom('tickets').select(['title', 'description', 'status', 'assignee_id', 'version']).where('id', '=', id).executeTakeFirstOrThrow();
}

/** Roles from the demo directory's groups, as `npm start` has them. */
const demoApp = () => makeApp({ env: { DESKSIDE_AGENTS: 'DEMO\\Helpdesk Agents', DESKSIDE_ADMINS: 'DEMO\\Deskside Admins' }, directory: createStaticDirectory() });

/** The reply form's hidden fields as the page rendered them. */
function formState(html: string) {
  return { token: csrfFrom(html), seen: /name="seen" value="(\d+)"/.exec(html)![1] };
}

describe('replying on the ticket page', () => {
  let t: TestApp;
  beforeEach(async () => {
    t = await demoApp();
  });
  afterEach(() => t.close());

  test('when an agent clicks "Send and resolve", then one post writes the reply and the status change, one event each, in one version step', async () => {
    const id = await raise(t, 'DEMO\\alice');
    const agent = client(t.app, 'DEMO\\dan');
    const page = await agent.get(`/tickets/${id}`);
    expect(page.text).toContain('Reply to Alice Anders');
    expect(page.text).toMatch(/<button type="submit" class="button">Send reply to Alice<\/button>/);
    expect(page.text).toMatch(/<button type="submit" name="status" value="resolved" class="button button-secondary">Send and resolve<\/button>/);
    expect(page.text).toContain('Add internal note');
    const { token, seen } = formState(page.text);
    const res = await agent.post(`/tickets/${id}/comments`, { body: 'Replaced the dock; it works now.', status: 'resolved', assignee: 'me', seen }, { token });
    expect(res.status).toBe(303);
    const dan = (await t.database.db.selectFrom('people').select('id').where('login_key', '=', 'demo\\dan').executeTakeFirstOrThrow()).id;
    expect(await ticketRow(t, id)).toMatchObject({ status: 'resolved', assignee_id: dan, version: 2 });
    expect((await events(t, id)).map((e) => [e.kind, e.to_value, e.ticket_version])).toEqual([
      ['created', null, 1],
      ['comment', null, 1],
      ['status', 'resolved', 2],
      ['assignee', String(dan), 2],
    ]);
  });

  test('when an agent adds an internal note from its own box, or posts internal=on as before, then it is a note', async () => {
    const id = await raise(t, 'DEMO\\alice');
    const agent = client(t.app, 'DEMO\\dan');
    const page = await agent.get(`/tickets/${id}`);
    expect(page.text).toMatch(/<details class="card composer composer-note" id="note">/);
    expect(page.text).toMatch(/<input type="hidden" name="internal" value="on">/);
    expect((await agent.post(`/tickets/${id}/comments`, { body: 'Dock firmware is old.', internal: 'on' })).status).toBe(303);
    expect((await events(t, id)).map((e) => e.kind)).toEqual(['created', 'note']);
    expect((await client(t.app, 'DEMO\\alice').get(`/tickets/${id}`)).text).not.toContain('Dock firmware is old.');
  });

  test('when a requester posts agent fields with a reply, then it is a 400 and nothing is written', async () => {
    const id = await raise(t, 'DEMO\\alice');
    const alice = client(t.app, 'DEMO\\alice');
    const page = await alice.get(`/tickets/${id}`);
    expect(page.text).toContain('>Send reply</button>');
    expect(page.text).not.toContain('Send and resolve');
    expect(page.text).not.toContain('Add internal note');
    for (const extra of [{ status: 'closed' }, { assignee: 'me' }]) {
      const res = await alice.post(`/tickets/${id}/comments`, { body: 'Please close it', ...extra });
      expect(res.status).toBe(400);
      expect(res.text).toContain('Please close it');
    }
    expect((await events(t, id)).map((e) => e.kind)).toEqual(['created']);
  });

  test.each([
    ['an unknown status', { status: 'gone' }, 'Choose one of the listed statuses'],
    ['an assignee other than me', { assignee: '3' }, 'only assign the ticket to you'],
    ['a mangled "seen"', { seen: 'yesterday' }, 'reload the ticket'],
  ])('when an agent posts a reply with %s, then it comes back with the draft and the message, and nothing is written', async (_what, extra, message) => {
    const id = await raise(t, 'DEMO\\alice');
    const res = await client(t.app, 'DEMO\\dan').post(`/tickets/${id}/comments`, { body: 'Draft I typed <b>bold</b>', ...extra });
    expect(res.status).toBe(400);
    expect(res.text).toContain(message);
    expect(res.text).toContain('Draft I typed &lt;b&gt;bold&lt;/b&gt;');
    expect((await events(t, id)).map((e) => e.kind)).toEqual(['created']);
  });

  test('when the ticket changed after the page was shown, then the reply is not sent, the new activity shows above the kept draft, and "Send anyway" sends it', async () => {
    const id = await raise(t, 'DEMO\\alice');
    const agent = client(t.app, 'DEMO\\dan');
    const page = await agent.get(`/tickets/${id}`);
    const { token, seen } = formState(page.text);
    // Meanwhile the requester adds something.
    expect((await client(t.app, 'DEMO\\alice').post(`/tickets/${id}/comments`, { body: 'Actually it is only the left screen.' })).status).toBe(303);
    const blocked = await agent.post(`/tickets/${id}/comments`, { body: 'Have you tried another cable?', status: 'pending', seen }, { token });
    expect(blocked.status).toBe(409);
    expect(blocked.text).toContain('This ticket changed while you were writing');
    const changed = blocked.text.indexOf('This ticket changed while you were writing');
    const news = blocked.text.indexOf('Actually it is only the left screen.', changed);
    const draft = blocked.text.indexOf('Have you tried another cable?');
    expect(news).toBeGreaterThan(changed);
    expect(draft).toBeGreaterThan(news);
    expect(blocked.text).toMatch(/<button type="submit" class="button" name="status" value="pending">Send anyway and set pending<\/button>/);
    expect((await events(t, id)).map((e) => e.kind)).toEqual(['created', 'comment']);
    const again = formState(blocked.text);
    expect(Number(again.seen)).toBeGreaterThan(Number(seen));
    expect((await agent.post(`/tickets/${id}/comments`, { body: 'Have you tried another cable?', status: 'pending', seen: again.seen }, { token: again.token })).status).toBe(303);
    expect((await events(t, id)).map((e) => e.kind)).toEqual(['created', 'comment', 'comment', 'status']);
  });

  test('when the same reply is posted twice from one page, then the second meets the first and is not sent blind', async () => {
    const id = await raise(t, 'DEMO\\alice');
    const alice = client(t.app, 'DEMO\\alice');
    const { token, seen } = formState((await alice.get(`/tickets/${id}`)).text);
    expect((await alice.post(`/tickets/${id}/comments`, { body: 'Thanks!', seen }, { token })).status).toBe(303);
    expect((await alice.post(`/tickets/${id}/comments`, { body: 'Thanks!', seen }, { token })).status).toBe(409);
    expect((await events(t, id)).filter((e) => e.kind === 'comment')).toHaveLength(1);
  });

  test('when only an internal note was added meanwhile, then the requester is not stopped by what they may not see', async () => {
    const id = await raise(t, 'DEMO\\alice');
    const alice = client(t.app, 'DEMO\\alice');
    const { token, seen } = formState((await alice.get(`/tickets/${id}`)).text);
    await client(t.app, 'DEMO\\dan').post(`/tickets/${id}/comments`, { body: 'Secret note', internal: 'on' });
    expect((await alice.post(`/tickets/${id}/comments`, { body: 'Any news?', seen }, { token })).status).toBe(303);
  });
});

describe('canned replies on the ticket page', () => {
  let t: TestApp;
  let id: number;
  beforeEach(async () => {
    t = await demoApp();
    id = await raise(t, 'DEMO\\alice', { title: 'VPN <drops>' });
    const admin = client(t.app, 'DEMO\\erin');
    expect((await admin.post('/admin/responses', { title: 'Reset done', body: 'Hello {{requester.firstName}}, ticket #{{ticket.id}} ({{ticket.title}}) is fixed. {{agent.name}}', active: 'on' })).status).toBe(303);
    expect((await admin.post('/admin/responses', { title: 'Retired one', body: 'Old text' })).status).toBe(303);
  });
  afterEach(() => t.close());

  const responseId = async (title: string) => (await t.database.db.selectFrom('canned_responses').select('id').where('title', '=', title).executeTakeFirstOrThrow()).id;

  test('when an agent picks a reply and presses Insert without script, then the page comes back with the draft kept and the reply filled in, escaped', async () => {
    const agent = client(t.app, 'DEMO\\dan');
    const page = await agent.get(`/tickets/${id}`);
    expect(page.text).toContain('<option value="' + (await responseId('Reset done')) + '">Reset done</option>');
    expect(page.text).not.toContain('Retired one');
    const res = await agent.post(`/tickets/${id}/comments`, { body: 'My draft', response: String(await responseId('Reset done')), insert: 'reply' }, { token: csrfFrom(page.text) });
    expect(res.status).toBe(200);
    expect(res.text).toContain(`My draft\n\nHello Alice, ticket #${id} (VPN &lt;drops&gt;) is fixed. Dan Dubois</textarea>`);
    expect((await events(t, id)).map((e) => e.kind)).toEqual(['created']);
  });

  test('when the script asks for a reply, then it gets the filled text as JSON; requesters and retired replies get nothing', async () => {
    const agent = client(t.app, 'DEMO\\dan');
    const json = await agent.get(`/tickets/${id}/responses/${await responseId('Reset done')}`).set('Accept', 'application/json');
    expect(json.status).toBe(200);
    expect(json.body.text).toBe(`Hello Alice, ticket #${id} (VPN <drops>) is fixed. Dan Dubois`);
    expect((await agent.get(`/tickets/${id}/responses/${await responseId('Retired one')}`)).status).toBe(404);
    expect((await agent.get(`/tickets/${id}/responses/abc`)).status).toBe(404);
    expect((await agent.get(`/tickets/999999/responses/${await responseId('Reset done')}`)).status).toBe(404);
    expect((await client(t.app, 'DEMO\\alice').get(`/tickets/${id}/responses/${await responseId('Reset done')}`)).status).toBe(403);
    expect((await request(t.app).get(`/tickets/${id}/responses/${await responseId('Reset done')}`)).status).toBe(401);
  });

  test('when Insert names a reply that is not offered, then the draft comes back with a message', async () => {
    const res = await client(t.app, 'DEMO\\dan').post(`/tickets/${id}/comments`, { body: 'Keep me', response: String(await responseId('Retired one')), insert: 'reply' });
    expect(res.status).toBe(400);
    expect(res.text).toContain('Choose one of the listed canned replies');
    expect(res.text).toContain('Keep me</textarea>');
    expect((await client(t.app, 'DEMO\\alice').post(`/tickets/${id}/comments`, { body: 'x', response: '1', insert: 'reply' })).status).toBe(403);
  });
});

describe('editing the title and description', () => {
  let t: TestApp;
  beforeEach(async () => {
    t = await demoApp();
  });
  afterEach(() => t.close());

  test('when an agent edits both, then the ticket changes and the events keep the old text', async () => {
    const id = await raise(t, 'DEMO\\alice');
    const agent = client(t.app, 'DEMO\\dan');
    const form = await agent.get(`/tickets/${id}/edit`);
    expect(form.status).toBe(200);
    expect(form.text).toContain('value="Laptop will not dock"');
    const res = await agent.post(`/tickets/${id}/edit`, { version: '1', title: 'Dock: left screen black', description: 'Only the left screen stays black.' }, { token: csrfFrom(form.text) });
    expect(res.status).toBe(303);
    expect(await ticketRow(t, id)).toMatchObject({ title: 'Dock: left screen black', description: 'Only the left screen stays black.', version: 2 });
    expect((await events(t, id)).slice(1)).toEqual([
      { kind: 'title', body: null, from_value: 'Laptop will not dock', to_value: 'Dock: left screen black', ticket_version: 2 },
      { kind: 'description', body: 'The screens stay black.', from_value: null, to_value: null, ticket_version: 2 },
    ]);
    const page = await agent.get(`/tickets/${id}`);
    expect(page.text).toContain('changed the summary from “Laptop will not dock” to “Dock: left screen black”');
    expect(page.text).toMatch(/edited the description <details class="old-text"><summary>Earlier text<\/summary><div class="description">The screens stay black.<\/div>/);
    // The text index follows.
    expect((await agent.get('/tickets?q=left+screen&status=all')).text).toContain('Dock: left screen black');
  });

  test('when the requester edits before any agent replied, then it works; after a reply, and for anyone else, it is refused', async () => {
    const id = await raise(t, 'DEMO\\alice');
    const alice = client(t.app, 'DEMO\\alice');
    expect((await alice.get(`/tickets/${id}`)).text).toContain(`href="/tickets/${id}/edit"`);
    expect((await alice.post(`/tickets/${id}/edit`, { version: '1', title: 'Dock problem', description: 'Black screens.' })).status).toBe(303);
    expect((await client(t.app, 'DEMO\\bob').get(`/tickets/${id}/edit`)).status).toBe(403);
    expect((await client(t.app, 'DEMO\\bob').post(`/tickets/${id}/edit`, { version: '2', title: 'Hijack', description: 'x' })).status).toBe(403);
    await client(t.app, 'DEMO\\dan').post(`/tickets/${id}/comments`, { body: 'Which dock model?' });
    expect((await alice.get(`/tickets/${id}`)).text).not.toContain(`href="/tickets/${id}/edit"`);
    expect((await alice.get(`/tickets/${id}/edit`)).status).toBe(403);
    expect((await alice.post(`/tickets/${id}/edit`, { version: '2', title: 'Changed after', description: 'x' })).status).toBe(403);
    expect(await ticketRow(t, id)).toMatchObject({ title: 'Dock problem' });
    expect((await request(t.app).get(`/tickets/${id}/edit`)).status).toBe(401);
  });

  test('when the ticket changed since the edit form was opened, then nothing is saved and the form comes back with the draft and the current version', async () => {
    const id = await raise(t, 'DEMO\\alice');
    const agent = client(t.app, 'DEMO\\dan');
    const form = await agent.get(`/tickets/${id}/edit`);
    await client(t.app, 'DEMO\\carol').post(`/tickets/${id}`, { version: '1', priority: 'high' });
    const res = await agent.post(`/tickets/${id}/edit`, { version: '1', title: 'My better title', description: 'Mine' }, { token: csrfFrom(form.text) });
    expect(res.status).toBe(409);
    expect(res.text).toContain('This ticket changed while you were editing');
    expect(res.text).toContain('value="My better title"');
    expect(res.text).toContain('name="version" value="2"');
    expect(res.text).toMatch(/changed the priority from/);
    expect(await ticketRow(t, id)).toMatchObject({ title: 'Laptop will not dock', version: 2 });
    expect((await agent.post(`/tickets/${id}/edit`, { version: '2', title: 'My better title', description: 'Mine' })).status).toBe(303);
  });

  test.each([
    ['an empty title', { title: ' ' }, 'Enter a short summary'],
    ['an over-long title', { title: 't'.repeat(201) }, '200 characters or fewer'],
    ['an over-long description', { description: 'd'.repeat(20_001) }, '20,000 characters or fewer'],
    ['no version', { version: 'x' }, 'missing the ticket version'],
  ])('when the edit has %s, then it is a 400 with the message and nothing changes', async (_what, change, message) => {
    const id = await raise(t, 'DEMO\\alice');
    const res = await client(t.app, 'DEMO\\dan').post(`/tickets/${id}/edit`, { version: '1', title: 'Fine', description: 'Fine', ...change });
    expect(res.status).toBe(400);
    expect(res.text).toContain(message);
    expect(await ticketRow(t, id)).toMatchObject({ version: 1 });
  });
});

describe('the requester side panel', () => {
  test('when an agent opens a ticket, then the panel lists the requester’s other open tickets (five at most) and their department, title and phone from the directory', async () => {
    const t = await demoApp();
    try {
      const ids: number[] = [];
      for (let i = 1; i <= 7; i++) ids.push(await raise(t, 'DEMO\\bob', { title: `Bob problem ${i}` }));
      await client(t.app, 'DEMO\\dan').post(`/tickets/${ids[1]}`, { version: '1', status: 'closed' });
      const page = await client(t.app, 'DEMO\\dan').get(`/tickets/${ids[0]}`);
      const panel = page.text.slice(page.text.indexOf('class="card side-requester"'));
      expect(panel).toContain('About Bob Brennan');
      expect(panel).toContain('Account Manager');
      expect(panel).toContain('Sales');
      expect(panel).toContain('href="tel:+442079460102"');
      const listed = [...panel.matchAll(/<li><a href="\/tickets\/(\d+)">/g)].map((m) => Number(m[1]));
      expect(listed).toEqual([ids[6], ids[5], ids[4], ids[3], ids[2]]);
      // Requesters see their ticket without it.
      expect((await client(t.app, 'DEMO\\bob').get(`/tickets/${ids[0]}`)).text).not.toContain('side-requester');
      // The list is kept per process only while nothing changes: a new ticket shows at once.
      const newest = await raise(t, 'DEMO\\bob', { title: 'Bob problem 8' });
      const again = await client(t.app, 'DEMO\\dan').get(`/tickets/${ids[0]}`);
      expect([...again.text.slice(again.text.indexOf('class="card side-requester"')).matchAll(/<li><a href="\/tickets\/(\d+)">/g)].map((m) => Number(m[1]))[0]).toBe(newest);
    } finally {
      await t.close();
    }
  });
});
