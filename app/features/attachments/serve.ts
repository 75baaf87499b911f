import type { ByteRange } from '../../storage/blob-store';
import type { ServedType } from './content-types';
import { contentDisposition } from './disposition';

/**
 * The decisions for answering GET/HEAD of an attachment, without req or res: status,
 * headers and which bytes. Conditional and range handling follow RFC 9110 §13 and §14.
 *
 * Multiple ranges (`bytes=0-1,5-9`) are answered with the whole file (200), which the RFC
 * allows (a server may ignore Range): nobody needs multipart/byteranges for a screenshot
 * or a log, and it keeps many-range requests from costing more than one download.
 */

export type RangeRequest =
  /** No usable Range header (absent, another unit, malformed, or several ranges): send everything. */
  | { kind: 'whole' }
  | { kind: 'partial'; range: ByteRange }
  /** A syntactically valid single range that lies wholly beyond the end: 416. */
  | { kind: 'unsatisfiable' };

const RANGE = /^bytes[ \t]*=[ \t]*(\d*)[ \t]*-[ \t]*(\d*)[ \t]*$/i;

export function parseRange(header: string | undefined, size: number): RangeRequest {
  if (header === undefined) return { kind: 'whole' };
  const m = RANGE.exec(header);
  if (!m) return { kind: 'whole' };
  const [, first, last] = m;
  if (first === '' && last === '') return { kind: 'whole' };
  if (first === '') {
    // A suffix: the last n bytes.
    const n = Number(last);
    if (n === 0) return { kind: 'unsatisfiable' };
    return size === 0 ? { kind: 'unsatisfiable' } : { kind: 'partial', range: { start: Math.max(0, size - n), end: size - 1 } };
  }
  const start = Number(first);
  const end = last === '' ? size - 1 : Number(last);
  if (last !== '' && end < start) return { kind: 'whole' };
  if (start >= size) return { kind: 'unsatisfiable' };
  return { kind: 'partial', range: { start, end: Math.min(end, size - 1) } };
}

/** Strong, from the content hash: the same bytes always have the same tag. */
export function etagFor(sha256: string): string {
  return `"${sha256}"`;
}

/** If-None-Match uses the weak comparison: W/"x" matches "x". */
function noneMatch(header: string, etag: string): boolean {
  if (header.trim() === '*') return true;
  return header.split(',').some((t) => t.trim().replace(/^W\//, '') === etag);
}

export interface ServeRequest {
  method: string;
  /** Header values as received (Express: req.get('range') etc.). */
  range?: string;
  ifNoneMatch?: string;
  ifRange?: string;
}

export interface ServeFile {
  sha256: string;
  size: number;
  /** The name to offer when saving (the safe name). */
  name: string;
  type: ServedType;
}

export interface ServeOptions {
  /** The caller wants it shown in the page (a thumbnail); honoured only for inline-safe images. */
  inline?: boolean;
  /** Private caches (the browser) may keep it this long; never shared caches. 0: nobody keeps a copy (no-store). */
  maxAgeSeconds?: number;
}

export interface ServeDecision {
  status: 200 | 206 | 304 | 416;
  headers: Record<string, string>;
  /** Which bytes to send; null: no body (304, 416, HEAD). */
  body: ByteRange | 'whole' | null;
}

export const DEFAULT_MAX_AGE_SECONDS = 3600;

export function decideServe(req: ServeRequest, file: ServeFile, opts: ServeOptions = {}): ServeDecision {
  const etag = etagFor(file.sha256);
  const common: Record<string, string> = {
    ETag: etag,
    // Attachments belong to a ticket's people: a proxy must never keep a copy.
    'Cache-Control': opts.maxAgeSeconds === 0 ? 'private, no-store' : `private, max-age=${opts.maxAgeSeconds ?? DEFAULT_MAX_AGE_SECONDS}`,
    'X-Content-Type-Options': 'nosniff',
    // Even if a browser rendered it, the document gets no script, no origin, no forms.
    'Content-Security-Policy': 'sandbox',
    'Accept-Ranges': 'bytes',
  };
  const isHead = req.method.toUpperCase() === 'HEAD';
  if (req.ifNoneMatch !== undefined && noneMatch(req.ifNoneMatch, etag)) return { status: 304, headers: common, body: null };

  const entity = {
    ...common,
    'Content-Type': file.type.contentType,
    'Content-Disposition': contentDisposition(opts.inline && file.type.inline ? 'inline' : 'attachment', file.name),
  };
  // If-Range: only a strong match with our tag keeps the range; we send no Last-Modified,
  // so a date can never be shown to match.
  const rangeStands = req.range !== undefined && (req.ifRange === undefined || req.ifRange.trim() === etag);
  const wanted = rangeStands ? parseRange(req.range, file.size) : ({ kind: 'whole' } as const);

  if (wanted.kind === 'unsatisfiable') {
    return { status: 416, headers: { ...common, 'Content-Range': `bytes */${file.size}`, 'Content-Length': '0' }, body: null };
  }
  if (wanted.kind === 'partial') {
    const { start, end } = wanted.range;
    return {
      status: 206,
      headers: { ...entity, 'Content-Range': `bytes ${start}-${end}/${file.size}`, 'Content-Length': String(end - start + 1) },
      body: isHead ? null : wanted.range,
    };
  }
  return { status: 200, headers: { ...entity, 'Content-Length': String(file.size) }, body: isHead ? null : 'whole' };
}
