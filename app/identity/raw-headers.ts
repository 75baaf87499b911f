import type { IncomingMessage } from 'node:http';

/**
 * Every value of one header, read from rawHeaders. Node folds duplicate headers into
 * one comma-joined string in req.headers, which would hide a forged second copy; the
 * raw list keeps each occurrence.
 */
export function rawHeaderValues(req: IncomingMessage, name: string): string[] {
  const wanted = name.toLowerCase();
  const raw = req.rawHeaders;
  const values: string[] = [];
  for (let i = 0; i + 1 < raw.length; i += 2) {
    if (raw[i].toLowerCase() === wanted) values.push(raw[i + 1]);
  }
  return values;
}
