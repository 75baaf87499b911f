import { mkdtempSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { openDatabase } from '../../../app/db/database';
import { migrateToLatest } from '../../../app/db/migrate';
import { loadOrCreateSecret } from '../../../app/secret';

const posix = process.platform !== 'win32';

describe('files Deskside creates for its data', () => {
  let root: string;
  beforeEach(() => (root = mkdtempSync(path.join(os.tmpdir(), 'deskside-perm-'))));
  afterEach(() => rmSync(root, { recursive: true, force: true }));
  const mode = (f: string) => (statSync(f).mode & 0o777).toString(8);

  (posix ? test : test.skip)('when the SQLite database is created, then its folder, the file, its -wal and -shm are readable by the owner only', async () => {
    const dataDir = path.join(root, 'App_Data');
    const file = path.join(dataDir, 'deskside.db');
    const database = openDatabase(`sqlite:${file}`);
    try {
      await migrateToLatest(database.db, database.dialect);
      expect(mode(dataDir)).toBe('700');
      for (const f of [file, `${file}-wal`, `${file}-shm`]) expect({ file: path.basename(f), mode: mode(f) }).toEqual({ file: path.basename(f), mode: '600' });
    } finally {
      await database.close();
    }
  });

  (posix ? test : test.skip)('when the secret is generated into a new data folder, then the folder is the owner\'s only', () => {
    const dataDir = path.join(root, 'data');
    loadOrCreateSecret(dataDir);
    expect(mode(dataDir)).toBe('700');
    expect(mode(path.join(dataDir, 'secret.key'))).toBe('600');
  });
});
