import { DirectoryCache } from '../../../app/directory/cache';
import { createStaticDirectory } from '../../../app/directory/static';
import { searchTerms, type Directory } from '../../../app/directory/types';

describe('searching people in the directory', () => {
  test('when a search is typed, then it becomes at most four lower-case words, a DOMAIN\\account searching for the account', () => {
    expect(searchTerms('  Alice   ANDERS ')).toEqual(['alice', 'anders']);
    expect(searchTerms('DEMO\\Bob')).toEqual(['bob']);
    expect(searchTerms('a b c d e f')).toEqual(['a', 'b', 'c', 'd']);
    expect(searchTerms('x'.repeat(100))[0]).toHaveLength(64);
    expect(searchTerms('   ')).toEqual([]);
  });

  test('when the demo directory is searched, then names contain, and accounts and e-mail addresses start with, every word', async () => {
    const d = createStaticDirectory();
    const logins = async (q: string, limit = 10) => (await d.search(q, limit)).map((p) => p.login);
    expect(await logins('an')).toEqual(['DEMO\\alice', 'DEMO\\bob', 'DEMO\\dan']);
    expect(await logins('chen carol')).toEqual(['DEMO\\carol']);
    expect(await logins('erin@demo')).toEqual(['DEMO\\erin']);
    expect(await logins('DEMO\\dan')).toEqual(['DEMO\\dan']);
    expect(await logins('an', 2)).toHaveLength(2);
    expect(await logins('*')).toEqual([]);
    expect((await d.search('bob', 5))[0]).toMatchObject({ displayName: 'Bob Brennan', department: 'Sales', title: 'Account Manager', phone: '+44 20 7946 0102', groups: [] });
  });

  test('when the cache is asked the same search within a minute, then the directory is asked once; a failure is not kept', async () => {
    let now = 0;
    let calls = 0;
    let fail = true;
    const base = createStaticDirectory();
    const counting: Directory = {
      ...base,
      search: async (q, limit) => {
        calls++;
        if (fail) throw new Error('DC down');
        return base.search(q, limit);
      },
    };
    const cache = new DirectoryCache(counting, { ttlMs: 1000, maxStaleMs: 1000, now: () => now });
    expect(await cache.search('an', 5)).toEqual({ people: [], state: 'unavailable', error: 'DC down' });
    fail = false;
    expect((await cache.search('an', 5)).people).toHaveLength(3);
    await cache.search(' AN ', 5);
    expect(calls).toBe(2);
    now += 61_000;
    await cache.search('an', 5);
    expect(calls).toBe(3);
    expect(await new DirectoryCache(null, { ttlMs: 1, maxStaleMs: 1 }).search('an', 5)).toEqual({ people: [], state: 'off' });
  });
});
