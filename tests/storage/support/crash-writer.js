'use strict';
/**
 * Child process for crash.test.ts: uploads random files through the built FolderBlobStore
 * forever, and after each put records the row in SQLite, in that order (bytes durable
 * first, then the row), until the test kills it with SIGKILL.
 *
 * argv: <dist storage module> <blob root> <sqlite file> <seed>
 */
const { Readable } = require('node:stream');
const Sqlite = require('better-sqlite3');

const [modulePath, root, dbFile, seedText] = process.argv.slice(2);
const { FolderBlobStore } = require(modulePath);

const store = new FolderBlobStore(root);
const db = new Sqlite(dbFile);
// The wait first: switching to WAL takes a lock, which another writer may hold right now.
db.pragma('busy_timeout = 5000');
db.pragma('journal_mode = WAL');
db.pragma('synchronous = FULL');
db.exec('create table if not exists committed (id integer primary key, sha256 text not null, size integer not null, writer integer not null)');
const insert = db.prepare('insert into committed (sha256, size, writer) values (?, ?, ?)');

// A small deterministic generator, so a run can be repeated from its seed.
let state = Number(seedText) >>> 0 || 1;
const next = () => (state = (Math.imul(state, 1664525) + 1013904223) >>> 0);

/**
 * Content arrives in pieces, as an upload does. One in five is one of three fixed files,
 * so writers (this one and the other child) race to store the same content.
 */
const SHARED = [[100_000, 'shared-a'], [5, 'shared-b'], [250_000, 'shared-c']];
function content() {
  const [size, fill] = next() % 5 === 0 ? SHARED[next() % 3] : [next() % 4 === 0 ? next() % 64 : next() % 400_000, `unique-${next()}`];
  return Readable.from((function* () {
    for (let off = 0; off < size; off += 16_384) yield Buffer.alloc(Math.min(16_384, size - off), `${fill}@${off};`);
  })());
}

(async () => {
  let n = 0;
  for (;;) {
    const ref = await store.put(content());
    insert.run(ref.sha256, ref.size, process.pid);
    if (++n % 10 === 0) process.stdout.write(`committed ${n}\n`);
  }
})().catch((err) => {
  process.stderr.write(`${err && err.stack}\n`);
  process.exit(1);
});
