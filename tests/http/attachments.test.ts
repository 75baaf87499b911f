import { createHash } from 'node:crypto';
import { existsSync, readdirSync, utimesSync } from 'node:fs';
import path from 'node:path';
import request from 'supertest';
import { sweepOnce } from '../../app/features/attachments/sweeper';
import { createLogger } from '../../app/logging';
import { FolderBlobStore } from '../../app/storage/folder-blob-store';
import { client, makeApp, type TestApp, type UploadFile } from '../support/app';
import { png } from '../support/images';

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const KB = 1024;

const SCREENSHOT: UploadFile = { name: 'screenshot.png', content: png(40, 30), type: 'image/png' };
const LOG: UploadFile = { name: 'outlook.log', content: Buffer.from('12:00:01 connecting to mail.corp.example\n12:00:31 timeout\n'.repeat(50)), type: 'text/plain' };
const TICKET = { title: 'Outlook keeps asking for my password', description: 'Since this morning, every ten minutes.', category: '4', priority: 'normal' };

/** supertest keeps a binary body as a Buffer only when told to. */
function binary(res: request.Response, cb: (err: Error | null, body: Buffer) => void) {
  const parts: Buffer[] = [];
  res.on('data', (d: Buffer) => parts.push(d));
  res.on('end', () => cb(null, Buffer.concat(parts)));
}

/** Every blob in the store, and every file still staged. */
function storeContents(t: TestApp): { blobs: string[]; staged: string[] } {
  const root = path.join(t.dir, 'attachments');
  const blobs: string[] = [];
  const walk = (dir: string) => {
    if (!existsSync(dir)) return;
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      if (e.name.startsWith('.')) continue;
      if (e.isDirectory()) walk(path.join(dir, e.name));
      else blobs.push(e.name);
    }
  };
  walk(root);
  const stagingDir = path.join(root, '.staging');
  return { blobs, staged: existsSync(stagingDir) ? readdirSync(stagingDir) : [] };
}

async function count(t: TestApp, table: 'tickets' | 'ticket_events' | 'attachments'): Promise<number> {
  const r = await t.database.db.selectFrom(table).select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirst();
  return Number(r!.n);
}

const ticketIdFrom = (location: string) => Number(/^\/tickets\/(\d+)/.exec(location)![1]);

async function attachmentsOf(t: TestApp, ticketId: number) {
  return t.database.db.selectFrom('attachments').selectAll().where('ticket_id', '=', ticketId).orderBy('id').execute();
}

describe('attaching files with a ticket or a reply (JavaScript off: a plain multipart form)', () => {
  let t: TestApp;
  beforeEach(async () => {
    t = await makeApp();
  });
  afterEach(() => t.close());

  test('when a requester raises a ticket with a screenshot and a log, then both are stored once, each is an event, and the page shows them', async () => {
    const alice = client(t.app, 'TEST\\alice');
    const form = await alice.get('/tickets/new');
    expect(form.text).toContain('enctype="multipart/form-data"');
    expect(form.text).toMatch(/<input type="file" id="files" name="files" multiple/);
    expect(form.text).toContain('up to 10 files, 25 MB each');
    // The token is the form's first field: a file before it is refused.
    expect(form.text.indexOf('name="_csrf"')).toBeLessThan(form.text.indexOf('name="files"'));

    const res = await alice.postFiles('/tickets', TICKET, [SCREENSHOT, LOG]);
    expect(res.status).toBe(303);
    const id = ticketIdFrom(res.headers.location);
    const rows = await attachmentsOf(t, id);
    expect(rows.map((r) => [r.name, Number(r.size), r.sha256, r.content_type, r.internal])).toEqual([
      ['screenshot.png', SCREENSHOT.content.length, sha(SCREENSHOT.content), 'image/png', 0],
      ['outlook.log', LOG.content.length, sha(LOG.content), 'text/plain', 0],
    ]);
    const events = await t.database.db.selectFrom('ticket_events').select(['kind', 'from_value', 'to_value']).where('ticket_id', '=', id).orderBy('id').execute();
    expect(events).toEqual([
      { kind: 'created', from_value: null, to_value: null },
      { kind: 'attached', from_value: 'screenshot.png', to_value: String(rows[0].id) },
      { kind: 'attached', from_value: 'outlook.log', to_value: String(rows[1].id) },
    ]);
    expect(storeContents(t)).toEqual({ blobs: expect.arrayContaining([sha(SCREENSHOT.content), sha(LOG.content)]), staged: [] });

    const page = await alice.get(`/tickets/${id}`);
    expect(page.text).toMatch(/<strong>alice|attached/);
    expect(page.text).toContain(`<a class="file-name" href="/tickets/${id}/attachments/${rows[0].id}/screenshot.png">screenshot.png</a>`);
    expect(page.text).toContain(`<img src="/tickets/${id}/attachments/${rows[0].id}/screenshot.png?inline=1" alt="Preview of screenshot.png"`);
    // The log is listed with its size, and has no thumbnail.
    expect(page.text).toContain('(2.8 KB)');
    expect(page.text).not.toContain('outlook.log?inline=1');
    expect(page.text).toMatch(/<section class="card files-card" id="ticket-files"[^>]*>\s*<h2 id="files-h">Files <span class="muted count">\(2\)<\/span>/);
  });

  test('when the same file is attached twice, then it is two attachments over one stored copy', async () => {
    const alice = client(t.app, 'TEST\\alice');
    const id = ticketIdFrom((await alice.postFiles('/tickets', TICKET, [LOG])).headers.location);
    const again = await alice.postFiles(`/tickets/${id}/comments`, { body: 'Here it is again, renamed.' }, [{ ...LOG, name: 'copy.log' }]);
    expect(again.status).toBe(303);
    expect((await attachmentsOf(t, id)).map((r) => r.name)).toEqual(['outlook.log', 'copy.log']);
    expect(storeContents(t).blobs).toEqual([sha(LOG.content)]);
  });

  test('when a reply carries files, or files alone, then the reply and an event per file join the timeline', async () => {
    const alice = client(t.app, 'TEST\\alice');
    const id = ticketIdFrom((await alice.post('/tickets', TICKET)).headers.location);
    expect((await alice.postFiles(`/tickets/${id}/comments`, { body: 'The error, as a picture.' }, [SCREENSHOT])).status).toBe(303);
    expect((await alice.postFiles(`/tickets/${id}/comments`, { body: '' }, [LOG])).status).toBe(303);
    const events = await t.database.db.selectFrom('ticket_events').select(['kind', 'body', 'from_value']).where('ticket_id', '=', id).orderBy('id').execute();
    expect(events.map((e) => [e.kind, e.body ?? e.from_value])).toEqual([
      ['created', null],
      ['comment', 'The error, as a picture.'],
      ['attached', 'screenshot.png'],
      ['attached', 'outlook.log'],
    ]);
    // A reply with neither words nor files is still refused.
    const empty = await alice.postFiles(`/tickets/${id}/comments`, { body: '  ' }, []);
    expect(empty.status).toBe(400);
    expect(empty.text).toContain('Write your reply before sending it');
  });

  test('when an agent attaches a file to an internal note, then only agents see it, in the timeline, the list and at its address', async () => {
    const alice = client(t.app, 'TEST\\alice');
    const agent = client(t.app, 'TEST\\agent1');
    const id = ticketIdFrom((await alice.post('/tickets', TICKET)).headers.location);
    const secret: UploadFile = { name: 'mailbox-export.txt', content: Buffer.from('internal details') };
    expect((await agent.postFiles(`/tickets/${id}/comments`, { body: 'Mailbox rules attached', internal: 'on' }, [secret])).status).toBe(303);
    const [row] = await attachmentsOf(t, id);
    expect(row.internal).toBe(1);
    const kinds = await t.database.db.selectFrom('ticket_events').select('kind').where('ticket_id', '=', id).orderBy('id').execute();
    expect(kinds.map((k) => k.kind)).toEqual(['created', 'note', 'note-attached']);

    const agentPage = await agent.get(`/tickets/${id}`);
    expect(agentPage.text).toContain('mailbox-export.txt');
    const alicePage = await alice.get(`/tickets/${id}`);
    expect(alicePage.text).not.toContain('mailbox-export');
    expect(alicePage.text).not.toContain('id="files-h"');
    expect((await alice.get(`/tickets/${id}/attachments/${row.id}/mailbox-export.txt`)).status).toBe(404);
    expect((await agent.get(`/tickets/${id}/attachments/${row.id}/mailbox-export.txt`)).status).toBe(200);
  });

  test('when a requester asks for an internal note with a file, then nothing is stored and they are refused', async () => {
    const alice = client(t.app, 'TEST\\alice');
    const id = ticketIdFrom((await alice.post('/tickets', TICKET)).headers.location);
    const res = await alice.postFiles(`/tickets/${id}/comments`, { body: 'sneaky', internal: 'on' }, [LOG]);
    expect(res.status).toBe(403);
    expect(await count(t, 'attachments')).toBe(0);
    expect(storeContents(t)).toEqual({ blobs: [], staged: [] });
  });
});

describe('refusing what cannot be kept: nothing is stored, not a ticket, a reply or a byte', () => {
  let t: TestApp;
  beforeEach(async () => {
    // 64 KB a file, 96 KB a post, 3 files; the body is read to its end up to 2 × 96 KB + 1 MB.
    t = await makeApp({ env: { DESKSIDE_ATTACHMENT_MAX_MB: '0.0625', DESKSIDE_ATTACHMENT_POST_MAX_MB: '0.09375', DESKSIDE_ATTACHMENT_MAX_FILES: '3' } });
  });
  afterEach(() => t.close());

  const big = (name: string, kb: number): UploadFile => ({ name, content: Buffer.alloc(kb * KB, name) });

  async function nothingStored(): Promise<void> {
    expect(await count(t, 'tickets')).toBe(0);
    expect(await count(t, 'attachments')).toBe(0);
    expect(storeContents(t)).toEqual({ blobs: [], staged: [] });
  }

  test.each([
    ['a file over the per-file limit', [big('huge.log', 70)], '“huge.log” is larger than 64 KB, the most one file can be'],
    ['files over the per-post total', [big('a.log', 50), big('b.log', 50)], 'The files together are larger than 96 KB'],
    ['more files than allowed', [big('1.txt', 1), big('2.txt', 1), big('3.txt', 1), big('4.txt', 1)], 'Attach at most 3 files at once'],
    ['an empty file', [{ name: 'empty.txt', content: Buffer.alloc(0) }], '“empty.txt” is empty'],
  ])('when a new ticket carries %s, then the form comes back with the text kept and a message at the file field', async (_what, files, message) => {
    const alice = client(t.app, 'TEST\\alice');
    const res = await alice.postFiles('/tickets', { ...TICKET, title: 'Keep <this> title' }, files);
    expect(res.status).toBe(400);
    expect(res.text).toContain('There is a problem');
    expect(res.text).toContain('href="#files"');
    expect(res.text).toContain(message);
    expect(res.text).toContain('value="Keep &lt;this&gt; title"');
    expect(res.text).toContain(TICKET.description);
    expect(res.text).toContain('The files you chose were not saved. Choose them again.');
    expect(res.text).toMatch(/<option value="4" selected>/);
    await nothingStored();
  });

  test('when the text is wrong but the files were fine, then no file is kept and the form asks for them again', async () => {
    const res = await client(t.app, 'TEST\\alice').postFiles('/tickets', { ...TICKET, title: '' }, [big('fine.log', 2)]);
    expect(res.status).toBe(400);
    expect(res.text).toContain('Enter a short summary of the problem');
    expect(res.text).toContain('Choose them again');
    await nothingStored();
  });

  test('when a reply carries a file over the limit, then the reply comes back with its words and nothing is added', async () => {
    const alice = client(t.app, 'TEST\\alice');
    const id = ticketIdFrom((await alice.post('/tickets', TICKET)).headers.location);
    const events = await count(t, 'ticket_events');
    const res = await alice.postFiles(`/tickets/${id}/comments`, { body: 'My words stay' }, [big('huge.log', 70)]);
    expect(res.status).toBe(400);
    expect(res.text).toContain('My words stay</textarea>');
    expect(res.text).toContain('is larger than 64 KB');
    expect(await count(t, 'ticket_events')).toBe(events);
    expect(await count(t, 'attachments')).toBe(0);
    expect(storeContents(t)).toEqual({ blobs: [], staged: [] });
  });

  test.each([
    ['no form token', { token: null }],
    ['a wrong form token', { token: 'guessed-token' }],
    ['the files before the form token', { filesFirst: true }],
  ])('when a post has %s, then it is refused with 403 before a byte of any file is written', async (_what, opts) => {
    const res = await client(t.app, 'TEST\\alice').postFiles('/tickets', TICKET, [big('fine.log', 20)], opts);
    expect(res.status).toBe(403);
    expect(res.text).toContain('did not come from Deskside');
    // The staging folder is never even made: nothing was written before the token was checked.
    expect(existsSync(path.join(t.dir, 'attachments', '.staging'))).toBe(false);
    await nothingStored();
  });

  test('when the body itself is far over the limit, then the answer is 413 and the connection is closed', async () => {
    const res = await client(t.app, 'TEST\\alice').postFiles('/tickets', TICKET, [big('a.bin', 700), big('b.bin', 700)]);
    expect(res.status).toBe(413);
    expect(res.headers.connection).toBe('close');
    expect(res.text).toContain('That was too much to send');
    await nothingStored();
  });

  test('when a multipart post goes anywhere but the two upload routes, then its token is not looked for and it is refused', async () => {
    const alice = client(t.app, 'TEST\\alice');
    const id = ticketIdFrom((await alice.post('/tickets', TICKET)).headers.location);
    const res = await alice.postFiles(`/tickets/${id}`, { action: 'close' }, [big('x.log', 1)]);
    expect(res.status).toBe(403);
    expect((await t.database.db.selectFrom('tickets').select('status').where('id', '=', id).executeTakeFirstOrThrow()).status).toBe('new');
  });

  test('when a guest posts files, then they are asked to sign in and nothing is stored', async () => {
    const guest = client(t.app);
    const res = await guest.postFiles('/tickets', TICKET, [big('x.log', 1)], { token: 'anything' });
    expect([401, 403]).toContain(res.status);
    await nothingStored();
  });
});

describe('serving a file', () => {
  let t: TestApp;
  let id: number;
  let files: Awaited<ReturnType<typeof attachmentsOf>>;
  const SVG: UploadFile = { name: 'logo.png', content: Buffer.from('<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'), type: 'image/png' };
  const HTML: UploadFile = { name: 'page.html', content: Buffer.from('<html><script>alert(document.cookie)</script></html>'), type: 'text/html' };
  const NAMED: UploadFile = { name: 'Bericht März ✓.txt', content: Buffer.from('Grüße') };
  const SPOOF: UploadFile = { name: 'invoice\u202Efdp.exe', content: Buffer.from('MZ not really') };
  const DEVICE: UploadFile = { name: 'C:\\Users\\alice\\aux.txt', content: Buffer.from('a device name') };
  const LARGE: UploadFile = { name: 'trace.bin', content: Buffer.from(Array.from({ length: 300 * KB }, (_, i) => (i * 31) % 251)) };

  beforeAll(async () => {
    t = await makeApp();
    const alice = client(t.app, 'TEST\\alice');
    id = ticketIdFrom((await alice.postFiles('/tickets', TICKET, [SCREENSHOT, SVG, HTML, NAMED, SPOOF, DEVICE, LARGE])).headers.location);
    files = await attachmentsOf(t, id);
  });
  afterAll(() => t.close());
  const urlOf = (i: number) => `/tickets/${id}/attachments/${files[i].id}/${encodeURIComponent(files[i].name)}`;

  test('when a file is downloaded, then its bytes are exactly the ones sent, with safe headers', async () => {
    const res = await client(t.app, 'TEST\\alice').get(urlOf(6)).buffer(true).parse(binary);
    expect(res.status).toBe(200);
    expect(sha(res.body as Buffer)).toBe(sha(LARGE.content));
    expect(res.headers['content-length']).toBe(String(LARGE.content.length));
    expect(res.headers['content-type']).toBe('application/octet-stream');
    expect(res.headers['content-disposition']).toBe('attachment; filename="trace.bin"');
    expect(res.headers['x-content-type-options']).toBe('nosniff');
    expect(res.headers['content-security-policy']).toBe('sandbox');
    expect(res.headers['cache-control']).toBe('private, no-store');
    expect(res.headers.etag).toBe(`"${sha(LARGE.content)}"`);
  });

  test('when an image is asked for inline, then it is shown in place; by default it downloads', async () => {
    const alice = client(t.app, 'TEST\\alice');
    const inline = await alice.get(`${urlOf(0)}?inline=1`).buffer(true).parse(binary);
    expect(inline.headers['content-type']).toBe('image/png');
    expect(inline.headers['content-disposition']).toBe('inline; filename="screenshot.png"');
    expect(Buffer.compare(inline.body as Buffer, SCREENSHOT.content)).toBe(0);
    expect((await alice.get(urlOf(0))).headers['content-disposition']).toBe('attachment; filename="screenshot.png"');
  });

  test('when an SVG or HTML file is sent, whatever its name or declared type, then it is never inline and never HTML', async () => {
    const alice = client(t.app, 'TEST\\alice');
    for (const i of [1, 2]) {
      const res = await alice.get(`${urlOf(i)}?inline=1`);
      expect(res.headers['content-type']).toBe('application/octet-stream');
      expect(res.headers['content-disposition']).toMatch(/^attachment;/);
      expect(res.headers['content-security-policy']).toBe('sandbox');
    }
    expect(files[1].content_type).toBe('application/octet-stream');
  });

  test('when names are not plain ASCII or are dangerous, then they are stored safely and sent per RFC 6266/5987', async () => {
    expect(files.slice(3, 6).map((f) => [f.name, f.original_name])).toEqual([
      ['Bericht März ✓.txt', 'Bericht März ✓.txt'],
      ['invoicefdp.exe', 'invoice\u202Efdp.exe'],
      ['_aux.txt', 'aux.txt'],
    ]);
    const res = await client(t.app, 'TEST\\alice').get(urlOf(3));
    expect(res.headers['content-disposition']).toBe(`attachment; filename="Bericht Marz _.txt"; filename*=UTF-8''Bericht%20M%C3%A4rz%20%E2%9C%93.txt`);
    // The page never carries the override character, and shows the name as sent with it written out.
    const about = await client(t.app, 'TEST\\alice').get(`/tickets/${id}/attachments/${files[4].id}`);
    expect(about.text).not.toContain('\u202E');
    expect(about.text).toContain('invoice[U+202E]fdp.exe');
    expect((await client(t.app, 'TEST\\alice').get(`/tickets/${id}`)).text).not.toContain('\u202E');
  });

  test('when part of a file is asked for, then ranges, HEAD and conditional requests work', async () => {
    const alice = client(t.app, 'TEST\\alice');
    const part = await alice.get(urlOf(6)).set('Range', 'bytes=1000-1999').buffer(true).parse(binary);
    expect(part.status).toBe(206);
    expect(part.headers['content-range']).toBe(`bytes 1000-1999/${LARGE.content.length}`);
    expect(Buffer.compare(part.body as Buffer, LARGE.content.subarray(1000, 2000))).toBe(0);
    const tail = await alice.get(urlOf(6)).set('Range', 'bytes=-10').buffer(true).parse(binary);
    expect(Buffer.compare(tail.body as Buffer, LARGE.content.subarray(-10))).toBe(0);
    expect((await alice.get(urlOf(6)).set('Range', `bytes=${LARGE.content.length}-`)).status).toBe(416);
    expect((await alice.get(urlOf(6)).set('If-None-Match', `"${sha(LARGE.content)}"`)).status).toBe(304);
    const head = await alice.agent.head(urlOf(6)).set('X-Remote-User', 'TEST\\alice');
    expect(head.status).toBe(200);
    expect(head.headers['content-length']).toBe(String(LARGE.content.length));
  });

  test('when the address carries another name, then it redirects to the file\'s own name', async () => {
    const res = await client(t.app, 'TEST\\alice').get(`/tickets/${id}/attachments/${files[0].id}/invoice.pdf`);
    expect(res.status).toBe(302);
    expect(res.headers.location).toBe(`/tickets/${id}/attachments/${files[0].id}/screenshot.png`);
  });

  test('when the ids are not numbers or name another ticket\'s file, then it is not found', async () => {
    const alice = client(t.app, 'TEST\\alice');
    expect((await alice.get(`/tickets/${id}/attachments/x/screenshot.png`)).status).toBe(404);
    const other = ticketIdFrom((await alice.post('/tickets', TICKET)).headers.location);
    expect((await alice.get(`/tickets/${other}/attachments/${files[0].id}/screenshot.png`)).status).toBe(404);
  });
});

describe('who may fetch a file: the ticket\'s policy, and internal notes for agents only', () => {
  let t: TestApp;
  let id: number;
  let publicFile: string;
  let internalFile: string;
  beforeAll(async () => {
    t = await makeApp({ env: { DESKSIDE_ANONYMOUS: 'browse' } });
    const alice = client(t.app, 'TEST\\alice');
    id = ticketIdFrom((await alice.postFiles('/tickets', TICKET, [SCREENSHOT])).headers.location);
    await client(t.app, 'TEST\\agent1').postFiles(`/tickets/${id}/comments`, { body: 'Notes', internal: 'on' }, [LOG]);
    const [a, b] = await attachmentsOf(t, id);
    publicFile = `/tickets/${id}/attachments/${a.id}/${a.name}`;
    internalFile = `/tickets/${id}/attachments/${b.id}/${b.name}`;
  });
  afterAll(() => t.close());

  test.each([
    ['a guest (even where guests may browse tickets)', undefined, 401, 401],
    ['the requester', 'TEST\\alice', 200, 404],
    ['another requester', 'TEST\\bob', 403, 403],
    ['an agent', 'TEST\\agent1', 200, 200],
    ['an admin', 'TEST\\admin1', 200, 200],
  ])('when %s asks, then the public reply\'s file and the internal note\'s file answer as the policy says', async (_who, login, pub, internal) => {
    const c = client(t.app, login);
    expect((await c.get(publicFile)).status).toBe(pub);
    expect((await c.get(internalFile)).status).toBe(internal);
    // The page about a file follows the same rule.
    expect((await c.get(publicFile.replace(/\/[^/]+$/, ''))).status).toBe(pub);
  });

  test('when a guest reads a ticket they may browse, then no file name or link is on it', async () => {
    const page = await request(t.app).get(`/tickets/${id}`);
    if (page.status === 200) {
      expect(page.text).not.toContain('screenshot.png');
      expect(page.text).not.toContain('/attachments/');
    } else expect(page.status).toBe(401);
  });
});

describe('removing a file', () => {
  let t: TestApp;
  beforeEach(async () => {
    t = await makeApp({ env: { DESKSIDE_ATTACHMENT_RETENTION_DAYS: '30' } });
  });
  afterEach(() => t.close());

  test('when an agent removes a file, then the event stays, a removal event joins it, it is no longer served, and its bytes stay until the retention passes', async () => {
    const alice = client(t.app, 'TEST\\alice');
    const agent = client(t.app, 'TEST\\agent1');
    const id = ticketIdFrom((await alice.postFiles('/tickets', TICKET, [LOG])).headers.location);
    const [row] = await attachmentsOf(t, id);
    const about = await agent.get(`/tickets/${id}/attachments/${row.id}`);
    expect(about.text).toContain('Remove this file');
    expect(about.text).toContain('deleted after 30 days');
    expect((await alice.get(`/tickets/${id}/attachments/${row.id}`)).text).not.toContain('Remove this file');
    expect((await alice.get(`/tickets/${id}`)).text).not.toContain('>Remove<');

    expect((await alice.post(`/tickets/${id}/attachments/${row.id}/remove`, {})).status).toBe(403);
    const removed = await agent.post(`/tickets/${id}/attachments/${row.id}/remove`, {});
    expect(removed.status).toBe(303);
    const events = await t.database.db.selectFrom('ticket_events').select(['kind', 'from_value']).where('ticket_id', '=', id).orderBy('id').execute();
    expect(events.map((e) => e.kind)).toEqual(['created', 'attached', 'detached']);
    expect((await alice.get(`/tickets/${id}/attachments/${row.id}/${row.name}`)).status).toBe(410);
    expect((await agent.get(`/tickets/${id}/attachments/${row.id}/${row.name}`)).status).toBe(410);
    const page = await alice.get(`/tickets/${id}`);
    expect(page.text).toContain('removed');
    expect(page.text).not.toContain(`href="/tickets/${id}/attachments/${row.id}/outlook.log"`);
    // Removing twice changes nothing more.
    expect((await agent.post(`/tickets/${id}/attachments/${row.id}/remove`, {})).status).toBe(303);
    expect(await count(t, 'ticket_events')).toBe(3);

    // The sweeper keeps the bytes within the retention, and deletes them after it.
    const store = new FolderBlobStore(path.join(t.dir, 'attachments'));
    const old = new Date(Date.now() - 40 * 86_400_000);
    utimesSync(store.pathOf(row.sha256), old, old);
    const sweep = (now: number) => sweepOnce({ database: t.database, store, logger: createLogger('silent'), retentionMs: 30 * 86_400_000, intervalMs: 60_000, holder: `test-${now}`, now: () => now });
    expect(await sweep(Date.now())).toMatchObject({ kind: 'swept', result: { considered: 1, deleted: 0 } });
    expect(await store.has(row.sha256)).toBe(true);
    expect(await sweep(Date.now() + 31 * 86_400_000)).toMatchObject({ kind: 'swept', result: { deleted: 1 } });
    expect(await store.has(row.sha256)).toBe(false);
  });
});

describe('bytes kept in the database (DESKSIDE_ATTACHMENT_STORE=database)', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await makeApp({ env: { DESKSIDE_ATTACHMENT_STORE: 'database' } });
  });
  afterAll(() => t.close());

  test('when a file larger than one chunk is attached, then it is downloaded byte for byte, whole and by range', async () => {
    const content = Buffer.from(Array.from({ length: 1024 * KB + 4321 }, (_, i) => (i * 7) % 256));
    const alice = client(t.app, 'TEST\\alice');
    const id = ticketIdFrom((await alice.postFiles('/tickets', TICKET, [{ name: 'dump.bin', content }])).headers.location);
    const [row] = await attachmentsOf(t, id);
    const chunks = await t.database.db.withTables<{ attachment_blobs: { sha256: string; seq: number } }>().selectFrom('attachment_blobs').select('seq').where('sha256', '=', row.sha256).execute();
    expect(chunks.map((c) => c.seq).sort()).toEqual([0, 1]);
    const whole = await alice.get(`/tickets/${id}/attachments/${row.id}/dump.bin`).buffer(true).parse(binary);
    expect(sha(whole.body as Buffer)).toBe(sha(content));
    const part = await alice.get(`/tickets/${id}/attachments/${row.id}/dump.bin`).set('Range', `bytes=${1024 * KB - 5}-${1024 * KB + 4}`).buffer(true).parse(binary);
    expect(part.status).toBe(206);
    expect(Buffer.compare(part.body as Buffer, content.subarray(1024 * KB - 5, 1024 * KB + 5))).toBe(0);
  });
});
