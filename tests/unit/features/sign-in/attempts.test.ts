import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { openDatabase, type Database } from '../../../../app/db/database';
import { migrateToLatest } from '../../../../app/db/migrate';
import { SignInAttempts } from '../../../../app/features/sign-in/attempts';

describe('password sign-in rate limits, kept in the database', () => {
  let dir: string;
  let database: Database;
  let clock: number;
  const WINDOW = 15 * 60_000;
  const attempts = () => new SignInAttempts(database.db, WINDOW, () => clock);

  beforeEach(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'deskside-attempts-'));
    database = openDatabase(`sqlite:${path.join(dir, 'a.db')}`);
    await migrateToLatest(database.db, database.dialect);
    clock = Date.parse('2026-03-01T09:00:00Z');
  });
  afterEach(async () => {
    await database.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test('when an account fails its limit, then the next attempt is refused until the first failure leaves the window', async () => {
    const a = attempts();
    for (let i = 0; i < 3; i++) {
      expect((await a.reserve([{ subject: 'account:test\\dan', max: 3 }])).ok).toBe(true);
      clock += 60_000;
    }
    const refused = await a.reserve([{ subject: 'account:test\\dan', max: 3 }]);
    expect(refused).toEqual({ ok: false, subject: 'account:test\\dan', retryAt: new Date(Date.parse('2026-03-01T09:00:00Z') + WINDOW) });
    // Another account is unaffected.
    expect((await a.reserve([{ subject: 'account:test\\erin', max: 3 }])).ok).toBe(true);
    clock = Date.parse('2026-03-01T09:00:00Z') + WINDOW + 1;
    expect((await a.reserve([{ subject: 'account:test\\dan', max: 3 }])).ok).toBe(true);
  });

  test('when a password is right, then the account\'s earlier failures stop counting', async () => {
    const a = attempts();
    for (let i = 0; i < 2; i++) await a.reserve([{ subject: 'account:test\\carol', max: 3 }]);
    const r = await a.reserve([{ subject: 'account:test\\carol', max: 3 }]);
    if (!r.ok) throw new Error('refused');
    await a.succeeded(r.ids, 'account:test\\carol');
    for (let i = 0; i < 3; i++) expect((await a.reserve([{ subject: 'account:test\\carol', max: 3 }])).ok).toBe(true);
  });

  test('when one address tries many accounts, then the address limit stops it whatever the accounts', async () => {
    const a = attempts();
    const results = [];
    for (let i = 0; i < 6; i++) results.push((await a.reserve([{ subject: 'address:10.0.0.9', max: 4 }, { subject: `account:test\\user${i}`, max: 3 }])).ok);
    expect(results).toEqual([true, true, true, true, false, false]);
    expect((await a.reserve([{ subject: 'address:10.0.0.10', max: 4 }])).ok).toBe(true);
  });

  test('when many attempts for one account arrive at once, then exactly the limit proceed', async () => {
    // Two "processes": two connections to the same file.
    const other = openDatabase(`sqlite:${path.join(dir, 'a.db')}`);
    try {
      const a = attempts();
      const b = new SignInAttempts(other.db, WINDOW, () => clock);
      const all = await Promise.all(Array.from({ length: 12 }, (_, i) => (i % 2 ? a : b).reserve([{ subject: 'account:test\\dan', max: 5 }])));
      expect(all.filter((r) => r.ok)).toHaveLength(5);
      // Refused attempts left nothing behind: the count is the 5 that proceeded.
      const rows = await database.db.selectFrom('sign_in_attempts').select('id').where('subject', '=', 'account:test\\dan').execute();
      expect(rows).toHaveLength(5);
    } finally {
      await other.close();
    }
  });
});
