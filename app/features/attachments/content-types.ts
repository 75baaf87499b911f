/**
 * Which Content-Type an attachment is served with, and whether a browser may show it
 * inline. The type the uploader's browser declared is never trusted. Only the four raster
 * image formats may be inline, and only when their first bytes say so: a "photo.png"
 * that is really HTML or SVG is served as application/octet-stream, as an attachment.
 */

export interface ServedType {
  contentType: string;
  /** True only for PNG, JPEG, GIF and WebP whose bytes match; everything else downloads. */
  inline: boolean;
}

/** Bytes to read from the start of a file before deciding (the longest signature checked is 12). */
export const SNIFF_BYTES = 16;

export const OCTET_STREAM = 'application/octet-stream';

type ImageType = 'image/png' | 'image/jpeg' | 'image/gif' | 'image/webp';

const startsWith = (head: Uint8Array, bytes: number[], at = 0) => head.length >= at + bytes.length && bytes.every((b, i) => head[at + i] === b);
const ascii = (s: string) => [...s].map((c) => c.charCodeAt(0));

/** The raster image format the bytes are, by magic number, or null. */
export function sniffImage(head: Uint8Array): ImageType | null {
  if (startsWith(head, [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])) return 'image/png';
  if (startsWith(head, [0xff, 0xd8, 0xff])) return 'image/jpeg';
  if (startsWith(head, ascii('GIF87a')) || startsWith(head, ascii('GIF89a'))) return 'image/gif';
  if (startsWith(head, ascii('RIFF')) && startsWith(head, ascii('WEBP'), 8)) return 'image/webp';
  return null;
}

const INLINE_TYPES: ReadonlySet<string> = new Set<ImageType>(['image/png', 'image/jpeg', 'image/gif', 'image/webp']);

/** A stored content type (told from the bytes at upload) that browsers may show inline. */
export function isInlineImage(contentType: string): boolean {
  return INLINE_TYPES.has(contentType);
}

/**
 * Types an attachment may be downloaded as, by extension. Anything not listed (SVG and
 * HTML included) is application/octet-stream. Images are absent on purpose: their type
 * comes from their bytes.
 */
const DOWNLOAD_TYPES: Record<string, string> = {
  txt: 'text/plain',
  log: 'text/plain',
  csv: 'text/csv',
  pdf: 'application/pdf',
  zip: 'application/zip',
  '7z': 'application/x-7z-compressed',
  gz: 'application/gzip',
  json: 'application/json',
  rtf: 'application/rtf',
  doc: 'application/msword',
  dot: 'application/msword',
  xls: 'application/vnd.ms-excel',
  ppt: 'application/vnd.ms-powerpoint',
  docx: 'application/vnd.openxmlformats-officedocument.wordprocessingml.document',
  xlsx: 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
  pptx: 'application/vnd.openxmlformats-officedocument.presentationml.presentation',
  vsdx: 'application/vnd.ms-visio.drawing',
  odt: 'application/vnd.oasis.opendocument.text',
  ods: 'application/vnd.oasis.opendocument.spreadsheet',
  msg: 'application/vnd.ms-outlook',
  eml: 'message/rfc822',
};

function extensionOf(name: string): string {
  const dot = name.lastIndexOf('.');
  return dot < 0 ? '' : name.slice(dot + 1).toLowerCase();
}

/**
 * How to serve a file called `name` (already made safe) whose first bytes are `head`
 * (at least SNIFF_BYTES of them, or the whole file if shorter).
 */
export function servedType(name: string, head: Uint8Array): ServedType {
  const image = sniffImage(head);
  if (image) return { contentType: image, inline: true };
  return { contentType: DOWNLOAD_TYPES[extensionOf(name)] ?? OCTET_STREAM, inline: false };
}
