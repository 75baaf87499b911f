import Sqlite from 'better-sqlite3';
import path from 'node:path';
import { spawnServer, waitForListening, type RunningServer } from '../support/server-process';
import { freePort, SessionClient } from '../support/http-client';
import { recordFigure } from './figures';

/**
 * 64 concurrent clients for 60 s against the production build, mixing reads, new
 * tickets, replies, notes and edits (some deliberately from a stale version). Afterwards
 * every acknowledged ticket and reply is in the database exactly once and the number of
 * timeline events is exactly what the acknowledged actions imply.
 */
const SECONDS = Number(process.env.DESKSIDE_LOAD_SECONDS ?? 60);
const CLIENTS = 64;

function selected(html: string, field: string): string | undefined {
  const block = new RegExp(`<select id="${field}" name="${field}">([\\s\\S]*?)</select>`).exec(html)?.[1];
  return block ? /<option value="([^"]+)" selected>/.exec(block)?.[1] : undefined;
}

describe('load with integrity', () => {
  let server: RunningServer;
  let port: number;
  beforeAll(async () => {
    port = await freePort();
    server = spawnServer({
      NODE_ENV: 'production',
      DESKSIDE_IDENTITY: 'proxy',
      DESKSIDE_TRUSTED_PROXIES: '127.0.0.1',
      DESKSIDE_AGENTS: Array.from({ length: 8 }, (_, i) => `TEST\\agent${i + 1}`).join(','),
      PORT: String(port),
      DESKSIDE_HOST: '127.0.0.1',
      DESKSIDE_LOG_LEVEL: 'warn',
      DESKSIDE_SECRET: 'load-secret-0123456789abcdefghijklmnopqrstuv',
    });
    await waitForListening(server, { port });
  });
  afterAll(() => server?.stop());

  test(`when ${CLIENTS} clients work for ${SECONDS} s, then nothing fails but expected conflicts and every acknowledged write is there exactly once`, async () => {
    const tickets = new Map<number, string>(); // id -> title
    const comments = new Set<string>();
    let expectedEvents = 0;
    let requests = 0;
    let conflicts = 0;
    let deliberate = 0;
    const failures: string[] = [];
    const fail = (what: string) => {
      if (failures.length < 50) failures.push(what);
    };
    // A first ticket so agents have something to work on.
    const starter = new SessionClient(port, 'TEST\\starter');
    await starter.get('/tickets/new');
    const first = await starter.post('/tickets', { title: 'load ticket starter', description: 'start', category: '1', priority: 'normal' });
    tickets.set(Number(/\/tickets\/(\d+)/.exec(first.location!)![1]), 'load ticket starter');
    expectedEvents++;
    starter.close();

    const deadline = Date.now() + SECONDS * 1000;
    const pickTicket = () => {
      const ids = [...tickets.keys()];
      return ids[Math.floor(Math.random() * ids.length)];
    };
    const runClient = async (n: number) => {
      const agent = n % 8 !== 0 ? true : false; // 56 agents, 8 requesters creating tickets
      const login = agent ? `TEST\\agent${(n % 8) + 1}` : `TEST\\user${n}`;
      const c = new SessionClient(port, login);
      let k = 0;
      try {
        while (Date.now() < deadline) {
          k++;
          const roll = Math.random();
          try {
            if (!agent) {
              if (roll < 0.6) {
                await c.get('/tickets/new');
                const title = `load ticket ${n}-${k}`;
                const r = await c.post('/tickets', { title, description: `created by client ${n}`, category: String(1 + (k % 8)), priority: 'normal' });
                requests += 2;
                if (r.status !== 303 || !r.location) fail(`create -> ${r.status}`);
                else {
                  tickets.set(Number(/\/tickets\/(\d+)/.exec(r.location)![1]), title);
                  expectedEvents++;
                }
              } else {
                const r = await c.get('/tickets?requester=me');
                requests++;
                if (r.status !== 200) fail(`my tickets -> ${r.status}`);
              }
              continue;
            }
            if (roll < 0.25) {
              const r = await c.get(`/tickets?page=${1 + Math.floor(Math.random() * 3)}`);
              requests++;
              if (r.status !== 200) fail(`queue -> ${r.status}`);
              continue;
            }
            const id = pickTicket();
            const page = await c.get(`/tickets/${id}`);
            requests++;
            if (page.status !== 200) {
              fail(`ticket ${id} -> ${page.status}`);
              continue;
            }
            if (roll < 0.55) {
              const marker = `load reply ${n}-${k}`;
              const r = await c.post(`/tickets/${id}/comments`, roll < 0.45 ? { body: marker } : { body: marker, internal: 'on' });
              requests++;
              if (r.status !== 303) fail(`comment -> ${r.status}`);
              else {
                comments.add(marker);
                expectedEvents++;
              }
              continue;
            }
            const version = Number(/name="version" value="(\d+)"/.exec(page.body)?.[1]);
            const status = selected(page.body, 'status');
            const priority = selected(page.body, 'priority');
            const nextStatus = ['open', 'pending', 'resolved'].find((s) => s !== status)!;
            const nextPriority = ['low', 'high', 'urgent'].find((p) => p !== priority)!;
            const stale = roll > 0.9 && version > 1;
            if (stale) deliberate++;
            const r = await c.post(`/tickets/${id}`, { version: String(stale ? version - 1 : version), status: nextStatus, priority: nextPriority });
            requests++;
            if (r.status === 303) {
              if (stale) fail(`stale edit of ${id} was accepted`);
              expectedEvents += 2;
            } else if (r.status === 409) conflicts++;
            else fail(`edit -> ${r.status}`);
          } catch (err) {
            requests++;
            fail(`client ${n}: ${(err as Error).message}`);
          }
        }
      } finally {
        c.close();
      }
    };
    const started = Date.now();
    await Promise.all(Array.from({ length: CLIENTS }, (_, n) => runClient(n)));
    const elapsed = (Date.now() - started) / 1000;

    const db = new Sqlite(path.join(server.dir, 'deskside.db'), { readonly: true });
    try {
      const titleCount = db.prepare("select count(*) n from tickets where title like 'load ticket %'").get() as { n: number };
      const byId = db.prepare('select title from tickets where id = ?');
      const missingTickets = [...tickets].filter(([id, title]) => (byId.get(id) as { title: string } | undefined)?.title !== title);
      const commentCount = db.prepare('select count(*) n from ticket_events where body = ?');
      const notOnce = [...comments].filter((m) => (commentCount.get(m) as { n: number }).n !== 1);
      const events = (db.prepare('select count(*) n from ticket_events').get() as { n: number }).n;
      recordFigure(`requests in ${SECONDS} s from ${CLIENTS} clients`, `${requests} (${Math.round(requests / elapsed)}/s)`, 'n/a', true);
      recordFigure('failed requests (other than 409)', failures.length, '0', failures.length === 0);
      recordFigure('version conflicts (409), deliberate stale edits', `${conflicts} (${deliberate} deliberate)`, '>= deliberate', conflicts >= deliberate);
      recordFigure('acknowledged tickets missing or duplicated', missingTickets.length + Math.abs(titleCount.n - tickets.size), '0', missingTickets.length === 0 && titleCount.n === tickets.size);
      recordFigure('acknowledged replies not present exactly once', notOnce.length, '0', notOnce.length === 0);
      recordFigure('timeline events vs acknowledged actions', `${events} vs ${expectedEvents}`, 'equal', events === expectedEvents);
      expect(failures).toEqual([]);
      expect(missingTickets).toEqual([]);
      expect(titleCount.n).toBe(tickets.size);
      expect(notOnce).toEqual([]);
      expect(events).toBe(expectedEvents);
      expect(conflicts).toBeGreaterThanOrEqual(deliberate);
      expect(deliberate).toBeGreaterThan(0);
    } finally {
      db.close();
    }
  });
});
