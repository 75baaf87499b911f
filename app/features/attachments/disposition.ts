import { withoutLoneSurrogates } from './file-names';

/**
 * Content-Disposition (RFC 6266) carrying a file name every browser saves correctly: an
 * ASCII `filename="…"` for old clients, and `filename*=UTF-8''…` (RFC 5987/8187) when
 * the name is not plain printable ASCII. Browsers that understand filename* prefer it.
 */
export function contentDisposition(kind: 'attachment' | 'inline', name: string): string {
  const fallback = asciiFallback(name);
  const quoted = `"${fallback.replace(/[\\"]/g, (c) => `\\${c}`)}"`;
  if (fallback === name) return `${kind}; filename=${quoted}`;
  return `${kind}; filename=${quoted}; filename*=UTF-8''${encodeExtValue(name)}`;
}

/** Accents dropped ("é" → "e"), anything else outside printable ASCII replaced by "_". */
export function asciiFallback(name: string): string {
  const plain = name
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .replace(/[^\x20-\x7e]/gu, '_');
  return plain === '' ? 'file' : plain;
}

/** RFC 8187 value-chars: attr-char as is, every other UTF-8 byte percent-encoded. */
function encodeExtValue(name: string): string {
  // encodeURIComponent leaves ' ( ) * unencoded, which attr-char does not allow.
  return encodeURIComponent(withoutLoneSurrogates(name)).replace(/['()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}
