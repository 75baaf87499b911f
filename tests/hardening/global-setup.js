const { mkdtempSync } = require('node:fs');
const os = require('node:os');
const path = require('node:path');

/** One figures file per run; workers inherit the variable and append to it. */
module.exports = async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'deskside-hardening-'));
  process.env.DESKSIDE_HARDENING_FIGURES = path.join(dir, 'figures.jsonl');
};
