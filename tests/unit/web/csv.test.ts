import express from 'express';
import fc from 'fast-check';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { CSV_BOM, csvCell, csvLine, sendCsv, type CsvValue } from '../../../app/web/csv';

/** RFC 4180 read back: fields, quotes doubled inside quoted ones, CRLF between records. */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') {
      row.push(field);
      field = '';
    } else if (c === '\r' && text[i + 1] === '\n') {
      row.push(field);
      rows.push(row);
      row = [];
      field = '';
      i++;
    } else field += c;
  }
  return rows;
}

describe('CSV cells', () => {
  test('when a cell holds a comma, a quote or a line break, then it is quoted with quotes doubled (RFC 4180)', () => {
    expect(csvCell('plain')).toBe('plain');
    expect(csvCell('Printer, floor 3')).toBe('"Printer, floor 3"');
    expect(csvCell('The "big" one')).toBe('"The ""big"" one"');
    expect(csvCell('two\nlines')).toBe('"two\nlines"');
    expect(csvCell('Zoë’s 日本語 ✓')).toBe('Zoë’s 日本語 ✓');
    expect(csvCell(null)).toBe('');
    expect(csvCell(42)).toBe('42');
    expect(csvLine(['a', 1, null, 'b,c'])).toBe('a,1,,"b,c"\r\n');
  });

  test('when text starts with =, +, -, @, a tab or a carriage return, then it is kept as text with an apostrophe in front', () => {
    expect(csvCell('=HYPERLINK("http://evil.example","click")')).toBe(`"'=HYPERLINK(""http://evil.example"",""click"")"`);
    expect(csvCell('+1 555 0100')).toBe("'+1 555 0100");
    expect(csvCell('-2+3')).toBe("'-2+3");
    expect(csvCell('@SUM(A1:A9)')).toBe("'@SUM(A1:A9)");
    expect(csvCell('\tcmd')).toBe("'\tcmd");
    expect(csvCell('\rcmd')).toBe(`"'\rcmd"`);
    // A number we write is a number, not a formula.
    expect(csvCell(-3)).toBe('-3');
    expect(csvCell('a=b')).toBe('a=b');
  });

  test('when any text is written and read back, then it is the same text, with an apostrophe only where a formula could start', () => {
    fc.assert(
      fc.property(fc.array(fc.array(fc.oneof(fc.string(), fc.constantFrom('=1+1', ',', '"', '\r\n', '\n', '@x', '-', '+')), { minLength: 1, maxLength: 5 }), { maxLength: 5 }), (rows) => {
        const back = parseCsv(rows.map((r) => csvLine(r)).join(''));
        expect(back).toEqual(rows.map((r) => r.map((v) => (/^[=+\-@\t\r]/.test(v) ? `'${v}` : v))));
      }),
    );
  });
});

describe('sending CSV', () => {
  async function serve(rows: () => AsyncIterable<CsvValue[]>) {
    const app = express();
    app.get('/x.csv', (_req, res, next) => {
      sendCsv(res, 'tickets 2026/03.csv', ['Id', 'Title'], rows()).catch(next);
    });
    const server = http.createServer(app);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    return { port: (server.address() as AddressInfo).port, close: () => new Promise<void>((r) => server.close(() => r())) };
  }

  test('when rows are sent, then the download starts with a byte-order mark and the header, with a safe file name', async () => {
    const s = await serve(async function* () {
      yield [1, '=cmd'];
      yield [2, 'Café'];
    });
    const res = await fetch(`http://127.0.0.1:${s.port}/x.csv`);
    const body = Buffer.from(await res.arrayBuffer());
    await s.close();
    expect(res.headers.get('content-type')).toBe('text/csv; charset=utf-8');
    expect(res.headers.get('content-disposition')).toBe('attachment; filename="tickets-2026-03.csv"');
    expect(body.subarray(0, 3)).toEqual(Buffer.from(CSV_BOM, 'utf8'));
    expect(body.toString('utf8')).toBe(`${CSV_BOM}Id,Title\r\n1,'=cmd\r\n2,Café\r\n`);
  });

  test('when a client reads slowly, then rows are made only as fast as it reads, and when it goes away no more are made', async () => {
    let made = 0;
    const s = await serve(async function* () {
      for (let i = 0; i < 2_000_000; i++) {
        made++;
        yield [i, 'A ticket title that is about as long as most of them are, say sixty characters'];
      }
    });
    const received = await new Promise<number>((resolve, reject) => {
      http.get(`http://127.0.0.1:${s.port}/x.csv`, (res) => {
        let bytes = 0;
        res.on('data', (c: Buffer) => {
          bytes += c.length;
          res.pause();
          if (bytes > 2_000_000) {
            res.destroy();
            resolve(bytes);
          } else setTimeout(() => res.resume(), 2);
        });
        res.on('error', () => undefined);
      }).on('error', reject);
    });
    await new Promise((r) => setTimeout(r, 200));
    const atClose = made;
    await new Promise((r) => setTimeout(r, 200));
    await s.close();
    // Made ahead of the reader by no more than what the sockets' buffers hold (loopback
    // buffers grow to a few MB each way) and one batch: nowhere near all 170 MB of rows.
    expect(received).toBeGreaterThan(2_000_000);
    expect(made * 85).toBeLessThan(received + 16_000_000);
    expect(made).toBe(atClose);
    expect(made).toBeLessThan(2_000_000);
  }, 30_000);
});
