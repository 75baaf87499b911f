import type { Response } from 'express';

/**
 * CSV as Excel opens it well and safely: RFC 4180 (CRLF line ends, fields with a comma,
 * quote or line break in double quotes, quotes doubled), UTF-8 with a byte-order mark (or
 * Excel reads accents as Windows-1252), and text cells that a spreadsheet would take as a
 * formula (starting with =, +, -, @, tab or carriage return) prefixed with an apostrophe,
 * so `=HYPERLINK(…)` in a ticket title stays text (OWASP "CSV injection").
 */
export type CsvValue = string | number | null | undefined;

export const CSV_BOM = '\uFEFF';

const FORMULA_START = /^[=+\-@\t\r]/;
const NEEDS_QUOTES = /[",\r\n]/;

export function csvCell(value: CsvValue): string {
  if (value === null || value === undefined) return '';
  // Numbers are written by us, never typed by anyone: -3 is a number, not a formula.
  if (typeof value === 'number') return Number.isFinite(value) ? String(value) : '';
  const text = FORMULA_START.test(value) ? `'${value}` : value;
  return NEEDS_QUOTES.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

export function csvLine(cells: readonly CsvValue[]): string {
  return `${cells.map(csvCell).join(',')}\r\n`;
}

/** A download's file name: letters, digits, dot, dash and underscore only. */
function safeName(name: string): string {
  return name.replace(/[^A-Za-z0-9._-]/g, '-').slice(0, 100) || 'export.csv';
}

/**
 * Stream rows as a CSV download. Rows are written as they come, waiting whenever the
 * client reads slower than they are made (so memory stays flat however many there are),
 * and stop being asked for when the client goes away. Lines are sent in batches of about
 * 64 KB to keep the number of writes down.
 */
export async function sendCsv(res: Response, fileName: string, header: readonly string[], rows: AsyncIterable<readonly CsvValue[]> | Iterable<readonly CsvValue[]>): Promise<void> {
  res.status(200);
  res.setHeader('Content-Type', 'text/csv; charset=utf-8');
  res.setHeader('Content-Disposition', `attachment; filename="${safeName(fileName)}"`);
  res.setHeader('X-Content-Type-Options', 'nosniff');
  let gone = false;
  res.once('close', () => (gone = true));
  let buffer = CSV_BOM + csvLine(header);
  const flush = async () => {
    const ok = res.write(buffer);
    buffer = '';
    if (!ok && !gone) await drainedOrClosed(res);
  };
  for await (const row of rows) {
    if (gone) return;
    buffer += csvLine(row);
    if (buffer.length >= 65_536) await flush();
  }
  if (gone) return;
  if (buffer) res.write(buffer);
  res.end();
}

function drainedOrClosed(res: Response): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      res.off('drain', done);
      res.off('close', done);
      resolve();
    };
    res.on('drain', done);
    res.on('close', done);
  });
}
