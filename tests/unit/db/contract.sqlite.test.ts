import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { openDatabase } from '../../../app/db/database';
import { dataContract } from '../../support/data-contract';

dataContract('SQLite', async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'deskside-contract-'));
  const database = openDatabase(`sqlite:${path.join(dir, 'contract.db')}`);
  return {
    database,
    async dispose() {
      await database.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
});
