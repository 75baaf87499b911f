import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Sqlite from 'better-sqlite3';
import { parseSeedArgs, progressBar } from '../../../app/cli/seed';
import { ENTRY, requireBuild } from '../../support/server-process';

describe('the seed command', () => {
  test('when given --tickets, then the number is read; bad values are refused with usage', () => {
    expect(parseSeedArgs(['--tickets', '5000'])).toMatchObject({ tickets: 5000 });
    expect(parseSeedArgs(['--tickets=12', '--seed', '7'])).toEqual({ tickets: 12, seed: 7 });
    expect(() => parseSeedArgs(['--tickets', 'lots'])).toThrow(/--tickets needs a whole number/);
    expect(() => parseSeedArgs(['--frobnicate'])).toThrow(/unknown option --frobnicate/);
    expect(() => parseSeedArgs(['--tickets', '0'])).toThrow(/from 1 to/);
  });

  test('when progress is drawn, then the bar fills in proportion', () => {
    expect(progressBar(5, 10, Date.now(), 10)).toMatch(/^\[#####\.\.\.\.\.\] {2}50\.0% {2}5\/10 tickets/);
  });

  test('when run on a fresh database, then it migrates and fills it with tickets that each have a conversation', () => {
    requireBuild();
    const dir = mkdtempSync(path.join(os.tmpdir(), 'deskside-seed-'));
    try {
      const out = execFileSync(process.execPath, [path.join(path.dirname(ENTRY), 'cli', 'seed.js'), '--tickets', '300'], {
        env: { PATH: process.env.PATH, DESKSIDE_DATABASE: `sqlite:${path.join(dir, 'seed.db')}` },
        encoding: 'utf8',
      });
      expect(out).toMatch(/^Seeded 300 tickets and [\d,]+ events/);
      const db = new Sqlite(path.join(dir, 'seed.db'), { readonly: true });
      const tickets = db.prepare('select count(*) n from tickets').get() as { n: number };
      // The conversation (1-30 events, plus the last status change); missed service-level
      // targets are on the timeline too, at most one per target, and which are missed depends
      // on today's date against the business calendar, so they are counted on their own.
      const perTicket = db.prepare("select min(c) lo, max(c) hi from (select count(*) c from ticket_events where kind <> 'sla' group by ticket_id)").get() as { lo: number; hi: number };
      const slaPerTicket = db.prepare("select coalesce(max(c), 0) hi from (select count(*) c from ticket_events where kind = 'sla' group by ticket_id)").get() as { hi: number };
      const statuses = db.prepare('select count(distinct status) n from tickets').get() as { n: number };
      const searchable = db.prepare("select count(*) n from tickets_fts where tickets_fts match 'printer'").get() as { n: number };
      const created = db.prepare("select count(*) n from ticket_events where kind = 'created'").get() as { n: number };
      db.close();
      expect(tickets.n).toBe(300);
      expect(created.n).toBe(300);
      expect(perTicket.lo).toBeGreaterThanOrEqual(1);
      expect(perTicket.hi).toBeLessThanOrEqual(31);
      expect(slaPerTicket.hi).toBeLessThanOrEqual(2);
      expect(statuses.n).toBe(5);
      expect(searchable.n).toBeGreaterThan(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
