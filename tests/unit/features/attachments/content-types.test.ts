import { OCTET_STREAM, servedType, sniffImage } from '../../../../app/features/attachments/content-types';
import { asciiFallback, contentDisposition } from '../../../../app/features/attachments/disposition';

const bytes = (...parts: (number[] | string)[]) => Buffer.concat(parts.map((p) => (typeof p === 'string' ? Buffer.from(p, 'latin1') : Buffer.from(p))));
const PNG = bytes([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a], 'rest');
const JPEG = bytes([0xff, 0xd8, 0xff, 0xe0], 'JFIF');
const GIF = bytes('GIF89a', [1, 0, 1, 0]);
const WEBP = bytes('RIFF', [0x24, 0, 0, 0], 'WEBPVP8 ');

describe('served content types', () => {
  test.each([
    ['shot.png', PNG, 'image/png'],
    ['photo.jpg', JPEG, 'image/jpeg'],
    ['anim.gif', GIF, 'image/gif'],
    ['pic.webp', WEBP, 'image/webp'],
    // The bytes decide: a pasted screenshot without an extension is still an image.
    ['image', PNG, 'image/png'],
  ])('when %s starts with its image signature, then it is %s and may be inline', (name, head, type) => {
    expect(servedType(name, head)).toEqual({ contentType: type, inline: true });
  });

  test.each([
    ['evil.png', '<html><script>alert(1)</script>'],
    ['logo.svg', '<svg xmlns="http://www.w3.org/2000/svg"><script/></svg>'],
    ['page.html', '<!doctype html>'],
    ['page.htm', '<html>'],
    ['a.gif', 'GIF90a'],
    ['riff.webp', 'RIFF\0\0\0\0WAVE'],
    ['tiny.png', '\x89PN'],
  ])('when %s is not a raster image by its bytes, then it downloads as application/octet-stream', (name, head) => {
    expect(servedType(name, Buffer.from(head, 'latin1'))).toEqual({ contentType: OCTET_STREAM, inline: false });
  });

  test.each([
    ['error.log', 'text/plain'],
    ['NOTES.TXT', 'text/plain'],
    ['report.pdf', 'application/pdf'],
    ['logs.zip', 'application/zip'],
    ['budget.xlsx', 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet'],
    ['letter.docx', 'application/vnd.openxmlformats-officedocument.wordprocessingml.document'],
    ['setup.exe', OCTET_STREAM],
    ['noextension', OCTET_STREAM],
  ])('when %s is attached, then it downloads as %s', (name, type) => {
    expect(servedType(name, Buffer.from('%PDF-1.7 or anything'))).toEqual({ contentType: type, inline: false });
  });

  test('when fewer bytes than a signature are known, then nothing is sniffed', () => {
    expect(sniffImage(Buffer.alloc(0))).toBeNull();
    expect(sniffImage(Buffer.from([0xff, 0xd8]))).toBeNull();
  });
});

describe('Content-Disposition', () => {
  test('when the name is plain ASCII, then only filename= is sent', () => {
    expect(contentDisposition('attachment', 'report.pdf')).toBe('attachment; filename="report.pdf"');
    expect(contentDisposition('inline', 'shot.png')).toBe('inline; filename="shot.png"');
  });

  test('when the name has quotes or backslashes, then they are escaped in the quoted string', () => {
    expect(contentDisposition('attachment', 'say "hi"\\now.txt')).toBe('attachment; filename="say \\"hi\\"\\\\now.txt"');
  });

  test('when the name is not ASCII, then an ASCII fallback and an RFC 5987 UTF-8 name are both sent', () => {
    expect(contentDisposition('attachment', 'Résumé (final).pdf')).toBe(`attachment; filename="Resume (final).pdf"; filename*=UTF-8''R%C3%A9sum%C3%A9%20%28final%29.pdf`);
    expect(contentDisposition('attachment', '截图.png')).toBe(`attachment; filename="__.png"; filename*=UTF-8''%E6%88%AA%E5%9B%BE.png`);
    expect(contentDisposition('attachment', "it's*.txt")).toBe(`attachment; filename="it's*.txt"`);
    expect(contentDisposition('attachment', "l'été*.txt")).toContain(`filename*=UTF-8''l%27%C3%A9t%C3%A9%2A.txt`);
  });

  test('when a name carries line breaks or controls, then the header value has none', () => {
    const header = contentDisposition('attachment', 'a\r\nSet-Cookie: x=1\u0000.txt');
    expect(header).not.toMatch(/\p{Cc}/u);
    expect(asciiFallback('')).toBe('file');
  });
});
