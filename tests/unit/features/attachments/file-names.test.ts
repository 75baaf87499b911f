import fc from 'fast-check';
import { FALLBACK_NAME, MAX_NAME_BYTES, safeFileName, uploadName } from '../../../../app/features/attachments/file-names';

const BIDI_OR_CONTROL = /[\p{Cc}\u202a-\u202e\u2066-\u2069\u200e\u200f\u061c]/u;
const RESERVED_STEM = /^(con|prn|aux|nul|com[0-9¹²³]|lpt[0-9¹²³]|conin\$|conout\$)$/i;
/** Survives a UTF-8 round trip: no half surrogate pairs. */
const wellFormed = (s: string) => Buffer.from(s, 'utf8').toString('utf8') === s;
const stemOf = (name: string) => name.split('.')[0].replace(/ +$/, '');

/** Names assembled from the pieces attackers and old browsers actually send, plus anything at all. */
const piece = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 12 }),
  fc.string({ unit: 'grapheme', maxLength: 12 }),
  fc.constantFrom('/', '\\', '..', '.', ' ', '\u202e', '\u2066', '\u200f', '\u061c', '\u0000', '\r\n', '\u0085', 'CON', 'aux', 'Com1', 'LPT9', 'nul', '.txt', '.png', 'é', 'e\u0301', '\u200ee\u0301', '😀', '\u3000', ':', '*', '"', 'C:\\Users\\bob\\', 'x'.repeat(120), 'ü'.repeat(90)),
);
const nastyName = fc.array(piece, { maxLength: 10 }).map((parts) => parts.join(''));

describe('safe file names', () => {
  test('when any name is made safe, then it has no separators, controls, bidi marks or Windows-forbidden characters, is not a device name, fits the cap, is never empty, and is idempotent', () => {
    fc.assert(
      fc.property(nastyName, (sent) => {
        const safe = safeFileName(sent);
        expect(safe).not.toMatch(/[/\\<>:"|?*]/);
        expect(safe).not.toMatch(BIDI_OR_CONTROL);
        expect(safe).not.toMatch(/[\u2028\u2029\ufeff]/);
        expect(safe).not.toMatch(/[.\s]$/u);
        expect(RESERVED_STEM.test(stemOf(safe))).toBe(false);
        expect(Buffer.byteLength(safe, 'utf8')).toBeLessThanOrEqual(MAX_NAME_BYTES);
        expect(safe.length).toBeGreaterThan(0);
        expect(wellFormed(safe)).toBe(true);
        expect(safeFileName(safe)).toBe(safe);
      }),
      { numRuns: 3000 },
    );
  });

  test.each([
    ['../../etc/passwd', 'passwd'],
    ['C:\\Users\\bob\\Desktop\\report.pdf', 'report.pdf'],
    ['/home/bob/notes.txt', 'notes.txt'],
    ['invoice\u202Etxt.exe', 'invoicetxt.exe'],
    ['a\u2066b\u2069c\u200e\u200f\u061cd.png', 'abcd.png'],
    ['tab\there\nnew\u0000line.log', 'tabherenewline.log'],
    ['CON', '_CON'],
    ['aux.txt', '_aux.txt'],
    ['Com1.tar.gz', '_Com1.tar.gz'],
    ['lpt9', '_lpt9'],
    ['nul .txt', '_nul .txt'],
    ['console.txt', 'console.txt'],
    ['evil.exe. . ', 'evil.exe'],
    ['what?.txt', 'what_.txt'],
    ['', FALLBACK_NAME],
    ['...', FALLBACK_NAME],
    ['\u202e', FALLBACK_NAME],
    ['C:\\dir\\', FALLBACK_NAME],
    ['  screenshot.png  ', 'screenshot.png'],
    ['Rapport d\u2019activité.docx', 'Rapport d\u2019activité.docx'],
    ['cafe\u0301.txt', 'café.txt'],
  ])('when %j is uploaded, then it is stored as %j', (sent, expected) => {
    expect(safeFileName(sent)).toBe(expected);
  });

  test('when a name is longer than the cap, then it is cut at a character boundary and keeps its extension', () => {
    const safe = safeFileName(`${'ü'.repeat(150)}.jpeg`);
    expect(safe.endsWith('.jpeg')).toBe(true);
    expect(Buffer.byteLength(safe)).toBeLessThanOrEqual(MAX_NAME_BYTES);
    expect(Buffer.byteLength(safe)).toBeGreaterThan(MAX_NAME_BYTES - 2);
    expect(safe).toBe(`${'ü'.repeat(97)}.jpeg`);
    // An emoji (4 bytes, a surrogate pair) is never split.
    expect(wellFormed(safeFileName('😀'.repeat(60)))).toBe(true);
    // Something that only looks like an extension is not kept at the expense of the name.
    expect(safeFileName(`${'a'.repeat(300)}.${'b'.repeat(100)}`)).toBe('a'.repeat(200));
  });

  test('when a name is uploaded, then the original (less its path) is kept for display beside the safe one', () => {
    expect(uploadName('C:\\Users\\bob\\inv\u202Efdp.exe')).toEqual({ original: 'inv\u202Efdp.exe', safe: 'invfdp.exe' });
    expect(uploadName(undefined)).toEqual({ original: '', safe: FALLBACK_NAME });
    expect(uploadName('x'.repeat(5000)).original).toHaveLength(1000);
    expect(uploadName('a\uD800b').original).toBe('ab');
  });
});
