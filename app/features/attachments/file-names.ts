/**
 * Uploaded file names, made safe to store, to send back in Content-Disposition and to
 * save on a Windows desktop. The bytes never live under this name (the store is
 * content-addressed); the name only travels back to people.
 */

/** Longest stored name, in UTF-8 bytes (NTFS allows 255 UTF-16 units; leave room for " (2)"). */
export const MAX_NAME_BYTES = 200;
/** Longest original name kept for display, in UTF-16 units. */
export const MAX_ORIGINAL_LENGTH = 1000;
export const FALLBACK_NAME = 'file';

export interface UploadName {
  /** What the person's browser sent, less any path: for display only, always escaped. */
  original: string;
  /** Safe to store, to send in headers and to save on any file system. */
  safe: string;
}

/** C0/C1 controls, line/paragraph separators, BOM, and every bidirectional embedding, override, isolate and mark. */
const INVISIBLE = /[\p{Cc}\u2028\u2029\ufeff\u202a-\u202e\u2066-\u2069\u200e\u200f\u061c]/gu;
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;
/** Characters Windows refuses in names (":" would also open an NTFS alternate data stream). */
const WINDOWS_FORBIDDEN = /[<>:"|?*]/g;
/** Device names, which Windows opens instead of a file whatever the extension (aux.txt is AUX). */
const RESERVED = /^(con|prn|aux|nul|com[0-9¹²³]|lpt[0-9¹²³]|conin\$|conout\$)$/i;
/** A trailing extension worth keeping when a name is shortened. */
const EXTENSION = /\.[^.\s]{1,16}$/u;

/**
 * A name as sent, with every invisible or direction-changing character written out
 * (`evil[U+202E]gpj.exe`), so showing it can never make it look like something else.
 */
export function visibleName(name: string): string {
  return withoutLoneSurrogates(name).replace(INVISIBLE, (c) => `[U+${c.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}]`);
}

/** A lone half of a surrogate pair cannot be encoded as UTF-8; drop it. */
export function withoutLoneSurrogates(s: string): string {
  return s.replace(LONE_SURROGATE, '');
}

export function uploadName(sent: string | undefined | null): UploadName {
  const base = lastSegment(withoutLoneSurrogates(sent ?? ''));
  const original = withoutLoneSurrogates(base.replaceAll('\u0000', '').slice(0, MAX_ORIGINAL_LENGTH));
  return { original, safe: safeFileName(base) };
}

/**
 * The name with any path, invisible or direction-changing characters, Windows-forbidden
 * characters, trailing dots and spaces removed, a Windows device name defused, and at
 * most `maxBytes` UTF-8 bytes (the extension kept). Never empty; idempotent.
 */
export function safeFileName(sent: string, maxBytes = MAX_NAME_BYTES): string {
  // Normalise after removing invisibles: a removed mark may have kept an accent from composing.
  let name = lastSegment(withoutLoneSurrogates(sent).replace(INVISIBLE, '').normalize('NFC'))
    .replace(WINDOWS_FORBIDDEN, '_')
    .trim();
  name = trimEnd(capBytes(name, maxBytes));
  if (RESERVED.test(stem(name))) name = trimEnd(capBytes(`_${name}`, maxBytes));
  return name === '' ? FALLBACK_NAME : name;
}

/** The part after the last "/" or "\" (browsers on Windows once sent whole paths). */
function lastSegment(name: string): string {
  return name.slice(Math.max(name.lastIndexOf('/'), name.lastIndexOf('\\')) + 1);
}

/** Windows drops trailing dots and spaces, so "evil.exe. " would save as "evil.exe"; other white space goes too. */
function trimEnd(name: string): string {
  return name.replace(/[.\s]+$/u, '');
}

/** What Windows compares with device names: up to the first dot, trailing spaces ignored. */
function stem(name: string): string {
  const dot = name.indexOf('.');
  return (dot < 0 ? name : name.slice(0, dot)).replace(/ +$/, '');
}

const utf8Length = (s: string) => Buffer.byteLength(s, 'utf8');

function capBytes(name: string, maxBytes: number): string {
  if (utf8Length(name) <= maxBytes) return name;
  const ext = EXTENSION.exec(name)?.[0] ?? '';
  const keepExt = ext !== '' && ext.length < name.length && utf8Length(ext) <= maxBytes / 4;
  const budget = maxBytes - (keepExt ? utf8Length(ext) : 0);
  const body = keepExt ? name.slice(0, name.length - ext.length) : name;
  let out = '';
  let used = 0;
  for (const ch of body) {
    const n = utf8Length(ch);
    if (used + n > budget) break;
    out += ch;
    used += n;
  }
  // A cut may leave the kept part ending in dots or spaces ("report .pdf" is fine, "report." alone is not).
  return keepExt ? `${trimEnd(out) || FALLBACK_NAME}${ext}` : out;
}
