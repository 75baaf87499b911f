import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { openDatabase, type Database } from '../../../../app/db/database';
import { migrateToLatest } from '../../../../app/db/migrate';
import { insertToken } from '../../../../app/features/api-tokens/tokens.queries';
import { rateChunk, takeRequest } from '../../../../app/features/api-tokens/tokens.service';
import { ensurePerson } from '../../../../app/people/people.queries';

/**
 * The per-token limit across processes: two Database objects on one SQLite file stand for
 * two iisnode processes (each keeps its own reserved requests, as a process does).
 */
describe('the per-token request limit', () => {
  let dir: string;
  let a: Database;
  let b: Database;
  let token: number;
  const minute = Date.parse('2026-11-29T10:00:00.000Z');

  beforeEach(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'deskside-rate-'));
    const url = `sqlite:${path.join(dir, 'd.db')}`;
    a = openDatabase(url);
    b = openDatabase(url);
    await migrateToLatest(a.db, a.dialect);
    const person = await ensurePerson(a.db, 'TEST\\alice', 'test\\alice');
    token = await insertToken(a.db, a.dialect, { personId: person.id, name: 't', tokenHash: 'f'.repeat(64), hint: 'dsk_ffff', scope: 'read', role: 'requester', at: new Date(minute).toISOString(), expiresAt: new Date(minute + 86_400_000).toISOString() });
  });
  afterEach(async () => {
    await a.close();
    await b.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const count = async () => (await a.db.selectFrom('api_tokens').select(['rate_count', 'last_used_at']).where('id', '=', token).executeTakeFirstOrThrow());

  test('when a small limit is used, then requests are counted one by one and the next after it waits for the next minute', async () => {
    expect(rateChunk(3)).toBe(1);
    const verdicts = [];
    for (let i = 0; i < 4; i++) verdicts.push(await takeRequest(i % 2 ? a : b, token, 3, minute + 1000 * i));
    expect(verdicts.map((v) => v.ok)).toEqual([true, true, true, false]);
    expect(verdicts[3]).toEqual({ ok: false, retryAfterSeconds: 57 });
    expect((await takeRequest(a, token, 3, minute + 60_000)).ok).toBe(true);
  });

  test('when two processes share a busy token, then together they never exceed the limit, and each writes once per chunk', async () => {
    const limit = 600;
    expect(rateChunk(limit)).toBe(10);
    let granted = 0;
    let refused = 0;
    // Both processes ask at once, many requests in flight each, until the minute is used up.
    for (let round = 0; round < 40; round++) {
      const verdicts = await Promise.all(Array.from({ length: 20 }, (_, i) => takeRequest(i % 2 ? a : b, token, limit, minute + round)));
      granted += verdicts.filter((v) => v.ok).length;
      refused += verdicts.filter((v) => !v.ok).length;
    }
    expect(granted).toBeLessThanOrEqual(limit);
    // Each process may end the minute holding at most chunk - 1 unused.
    expect(granted).toBeGreaterThanOrEqual(limit - 2 * 9);
    expect(refused).toBe(800 - granted);
    expect((await count()).rate_count).toBeLessThanOrEqual(limit);
    expect((await count()).last_used_at).not.toBeNull();
  });
});
