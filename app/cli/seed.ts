/**
 * `npm run seed -- --tickets N [--seed S]`: fill the configured database (DESKSIDE_DATABASE)
 * with realistic people, tickets and conversations, in batched transactions, with a
 * progress bar on stderr.
 */
import { parseConfig, ConfigError } from '../config/schema';
import { loadSettingsFiles } from '../compose';
import { openDatabase } from '../db/database';
import { migrateToLatest } from '../db/migrate';
import { DEMO_DIRECTORY } from '../directory/static';
import { seedTickets } from '../features/demo/generator';

export function parseSeedArgs(argv: string[]): { tickets: number; seed: number } {
  let tickets = 1000;
  let seed = 20261128;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const value = (name: string) => {
      const v = a.includes('=') ? a.split('=')[1] : argv[++i];
      if (v === undefined || !/^\d+$/.test(v)) throw new Error(`${name} needs a whole number, e.g. ${name} 5000`);
      return Number(v);
    };
    if (a === '--tickets' || a.startsWith('--tickets=')) tickets = value('--tickets');
    else if (a === '--seed' || a.startsWith('--seed=')) seed = value('--seed');
    else if (a === '--help' || a === '-h') throw new Error('usage: npm run seed -- --tickets N [--seed S]');
    else throw new Error(`unknown option ${a}; usage: npm run seed -- --tickets N [--seed S]`);
  }
  if (tickets < 1 || tickets > 10_000_000) throw new Error('--tickets must be from 1 to 10,000,000');
  return { tickets, seed };
}

export function progressBar(done: number, total: number, startedMs: number, width = 30): string {
  const frac = total ? done / total : 1;
  const filled = Math.round(frac * width);
  const secs = (Date.now() - startedMs) / 1000;
  const rate = secs > 0 ? Math.round(done / secs) : 0;
  const eta = rate > 0 ? Math.round((total - done) / rate) : 0;
  return `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${(frac * 100).toFixed(1).padStart(5)}%  ${done.toLocaleString('en-GB')}/${total.toLocaleString('en-GB')} tickets  ${rate.toLocaleString('en-GB')}/s  eta ${eta}s`;
}

async function main(): Promise<void> {
  const args = parseSeedArgs(process.argv.slice(2));
  loadSettingsFiles();
  const config = parseConfig(process.env);
  // A large page cache keeps the growing indexes in memory while a million rows go in.
  const database = openDatabase(config.database, { cacheMb: 512 });
  await migrateToLatest(database.db, database.dialect);
  const started = Date.now();
  const tty = process.stderr.isTTY;
  let lastPrint = 0;
  const result = await seedTickets(database, {
    tickets: args.tickets,
    seed: args.seed,
    requesters: DEMO_DIRECTORY.users.filter((u) => /alice|bob/.test(u.login)),
    onProgress: (done, total) => {
      const now = Date.now();
      if (done === total || now - lastPrint > (tty ? 100 : 2000)) {
        lastPrint = now;
        process.stderr.write(`${tty ? '\r' : ''}${progressBar(done, total, started)}${tty ? '' : '\n'}`);
      }
    },
    onIndexing: () => process.stderr.write(`${tty ? '\n' : ''}Building indexes and the search index…${tty ? '' : '\n'}`),
  });
  if (tty) process.stderr.write('\n');
  const secs = (Date.now() - started) / 1000;
  process.stdout.write(
    `Seeded ${result.tickets.toLocaleString('en-GB')} tickets and ${result.events.toLocaleString('en-GB')} events for ${result.people.toLocaleString('en-GB')} people into ${database.describe} in ${secs.toFixed(1)} s\n`,
  );
  await database.close();
}

if (require.main === module) {
  main().catch((err: unknown) => {
    process.stderr.write(`${err instanceof ConfigError ? err.message : `seed failed: ${err instanceof Error ? err.message : String(err)}`}\n`);
    process.exit(1);
  });
}
