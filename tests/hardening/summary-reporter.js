const { existsSync, readFileSync, rmSync } = require('node:fs');
const path = require('node:path');

/** Prints every recorded figure with its bound once the run is over. */
class HardeningSummary {
  onRunComplete() {
    const file = process.env.DESKSIDE_HARDENING_FIGURES;
    if (!file || !existsSync(file)) {
      process.stdout.write('\nHardening summary: no figures were recorded\n');
      if (file) rmSync(path.dirname(file), { recursive: true, force: true });
      return;
    }
    const rows = readFileSync(file, 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l));
    const head = ['Check', 'Figure', 'Bound', 'Result'];
    const cells = rows.map((r) => [r.name, String(r.value), r.bound, r.ok ? 'ok' : 'OFF BOUND']);
    const widths = head.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i].length)));
    const line = (c) => `| ${c.map((x, i) => x.padEnd(widths[i])).join(' | ')} |`;
    const out = ['', 'Hardening summary', line(head), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...cells.map(line)];
    const off = rows.filter((r) => !r.ok).length;
    out.push('', off ? `${off} figure(s) off their bound` : `all ${rows.length} figures within their bounds`, '');
    process.stdout.write(out.join('\n'));
    this.off = off;
    rmSync(path.dirname(file), { recursive: true, force: true });
  }

  /** A figure off its bound fails the run even if every assertion passed. */
  getLastError() {
    return this.off ? new Error(`${this.off} hardening figure(s) off their bound`) : undefined;
  }
}
module.exports = HardeningSummary;
