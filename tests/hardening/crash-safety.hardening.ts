import Sqlite from 'better-sqlite3';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { proxyServerEnv, spawnServer, waitForListening } from '../support/server-process';
import { freePort, SessionClient } from '../support/http-client';
import { recordFigure } from './figures';

/**
 * Twenty times: start the production build on the same database, write through it
 * (new tickets and replies from eight clients), kill -9 it mid-load, then check the file
 * with PRAGMA integrity_check and look for every write the server had acknowledged.
 */
const ROUNDS = Number(process.env.DESKSIDE_CRASH_ROUNDS ?? 20);

describe('crash safety', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'deskside-crash-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  test(`when the server is killed -9 during writes ${ROUNDS} times, then nothing acknowledged is lost and the file is never corrupt`, async () => {
    let corruptions = 0;
    let lost = 0;
    let acknowledged = 0;
    const details: string[] = [];
    for (let round = 1; round <= ROUNDS; round++) {
      const port = await freePort();
      const server = spawnServer(proxyServerEnv(port), { dir });
      await waitForListening(server, { port });
      const acked = { tickets: new Map<number, string>(), replies: new Set<string>() };
      let stop = false;
      const writer = async (n: number) => {
        const c = new SessionClient(port, n % 2 ? `TEST\\user${n}` : 'TEST\\agent1');
        try {
          await c.get('/tickets/new');
          for (let k = 0; !stop; k++) {
            if (n % 2 || acked.tickets.size === 0) {
              const title = `crash r${round} c${n} #${k}`;
              const r = await c.post('/tickets', { title, description: 'x', category: '1', priority: 'low' });
              if (r.status === 303) acked.tickets.set(Number(/\/tickets\/(\d+)/.exec(r.location!)![1]), title);
            } else {
              const ids = [...acked.tickets.keys()];
              const marker = `crash reply r${round} c${n} #${k}`;
              const r = await c.post(`/tickets/${ids[k % ids.length]}/comments`, { body: marker });
              if (r.status === 303) acked.replies.add(marker);
            }
          }
        } catch {
          // The kill cuts requests off mid-flight; only acknowledged ones count.
        } finally {
          c.close();
        }
      };
      const writers = Array.from({ length: 8 }, (_, n) => writer(n));
      await new Promise((r) => setTimeout(r, 300 + Math.floor(Math.random() * 1200)));
      server.proc.kill('SIGKILL');
      await new Promise((r) => server.proc.once('exit', r));
      stop = true;
      await Promise.all(writers);

      const db = new Sqlite(path.join(dir, 'deskside.db'));
      try {
        const check = db.pragma('integrity_check', { simple: true });
        if (check !== 'ok') {
          corruptions++;
          details.push(`round ${round}: integrity_check says ${String(check)}`);
        }
        const byId = db.prepare('select title from tickets where id = ?');
        for (const [id, title] of acked.tickets) {
          if ((byId.get(id) as { title: string } | undefined)?.title !== title) {
            lost++;
            details.push(`round ${round}: ticket ${id} lost`);
          }
        }
        const reply = db.prepare('select count(*) n from ticket_events where body = ?');
        for (const m of acked.replies) {
          if ((reply.get(m) as { n: number }).n !== 1) {
            lost++;
            details.push(`round ${round}: ${m} lost`);
          }
        }
      } finally {
        db.close();
      }
      acknowledged += acked.tickets.size + acked.replies.size;
    }
    recordFigure(`kill -9 rounds`, ROUNDS, '>= 20', ROUNDS >= 20);
    recordFigure('acknowledged writes checked after the kills', acknowledged, '> 0', acknowledged > 0);
    recordFigure('corruptions (integrity_check)', corruptions, '0', corruptions === 0);
    recordFigure('lost acknowledged writes', lost, '0', lost === 0);
    expect(details).toEqual([]);
    expect(acknowledged).toBeGreaterThan(0);
  });
});
