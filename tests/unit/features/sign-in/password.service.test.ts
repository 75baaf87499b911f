import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { openDatabase, type Database } from '../../../../app/db/database';
import { migrateToLatest } from '../../../../app/db/migrate';
import { DirectoryCache } from '../../../../app/directory/cache';
import { createStaticDirectory } from '../../../../app/directory/static';
import type { PasswordChecker } from '../../../../app/directory/types';
import { SignInAttempts } from '../../../../app/features/sign-in/attempts';
import { signInWithPassword, type PasswordSignInDeps } from '../../../../app/features/sign-in/password.service';
import { createLogger } from '../../../../app/logging';

/** The password service against real rate-limit rows and the demo directory; only the bind is pretended. */
describe('signInWithPassword', () => {
  let dir: string;
  let database: Database;
  let binds: { dn: string; password: string }[];
  let deps: PasswordSignInDeps;

  beforeEach(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'deskside-password-'));
    database = openDatabase(`sqlite:${path.join(dir, 'p.db')}`);
    await migrateToLatest(database.db, database.dialect);
    binds = [];
    const checker: PasswordChecker = {
      domainNames: async () => ({ netbios: 'DEMO', dnsDomain: 'demo.example' }),
      checkPassword: async (dn, password) => {
        binds.push({ dn, password });
        return password === 'Right-Passw0rd' ? 'ok' : 'refused';
      },
    };
    const directory = new DirectoryCache(
      { ...createStaticDirectory(), lookup: async (login) => (login.key === 'demo\\alice' ? { dn: 'CN=Alice,DC=demo', account: 'alice', groups: [] } : null) },
      { ttlMs: 60_000, maxStaleMs: 60_000 },
    );
    deps = { attempts: new SignInAttempts(database.db, 15 * 60_000), directory, checker, limits: { accountAttempts: 5, addressAttempts: 2, windowMinutes: 15 }, logger: createLogger('silent') };
  });
  afterEach(async () => {
    await database.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const rows = () => database.db.selectFrom('sign_in_attempts').select(['subject']).execute();

  test('when the password is right, then the person is named by their login and nothing is left counting against them', async () => {
    const r = await signInWithPassword(deps, { username: 'alice', password: 'Right-Passw0rd', address: '10.0.0.7' });
    expect(r).toMatchObject({ kind: 'ok', login: { login: 'DEMO\\alice' } });
    expect(binds).toEqual([{ dn: 'CN=Alice,DC=demo', password: 'Right-Passw0rd' }]);
    expect(await rows()).toEqual([]);
  });

  test('when the user name cannot name anyone, then nothing is bound and the address is not charged', async () => {
    for (let i = 0; i < 5; i++) {
      expect(await signInWithPassword(deps, { username: 'not a login\\at all', password: 'x', address: '10.0.0.7' })).toMatchObject({ kind: 'wrong' });
    }
    expect(binds).toEqual([]);
    expect(await rows()).toEqual([]);
    // The address still has its whole allowance for a real attempt.
    expect(await signInWithPassword(deps, { username: 'DEMO\\alice', password: 'Right-Passw0rd', address: '10.0.0.7' })).toMatchObject({ kind: 'ok' });
  });

  test('when wrong passwords come from one address, then that address is paused after its limit and others are not', async () => {
    for (let i = 0; i < 2; i++) expect(await signInWithPassword(deps, { username: 'DEMO\\alice', password: 'wrong', address: '10.0.0.7' })).toMatchObject({ kind: 'wrong' });
    expect(await signInWithPassword(deps, { username: 'DEMO\\alice', password: 'wrong', address: '10.0.0.7' })).toMatchObject({ kind: 'limited', subject: 'address:10.0.0.7' });
    expect(binds).toHaveLength(2);
    expect(await signInWithPassword(deps, { username: 'DEMO\\alice', password: 'wrong', address: '10.0.0.8' })).toMatchObject({ kind: 'wrong' });
  });

  test('when the form is left empty, then it asks for both fields without counting', async () => {
    expect(await signInWithPassword(deps, { username: '  ', password: '', address: '10.0.0.7' })).toEqual({ kind: 'wrong', message: 'Enter your user name and your password.', username: '' });
    expect(await rows()).toEqual([]);
  });
});
