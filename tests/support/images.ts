import { crc32, deflateSync } from 'node:zlib';

/**
 * Real PNG files for upload tests (a browser decodes them, so thumbnails show): an RGB
 * image of `width` × `height` with a gradient, or with noise, which does not compress,
 * when a file of a given size is wanted.
 */
export function png(width: number, height: number, opts: { noise?: boolean; seed?: number } = {}): Buffer {
  let state = opts.seed ?? 7;
  const rand = () => (state = (Math.imul(state, 1664525) + 1013904223) >>> 0) >>> 24;
  const rows: Buffer[] = [];
  for (let y = 0; y < height; y++) {
    const row = Buffer.alloc(1 + width * 3);
    for (let x = 0; x < width; x++) {
      const o = 1 + x * 3;
      if (opts.noise) [row[o], row[o + 1], row[o + 2]] = [rand(), rand(), rand()];
      else [row[o], row[o + 1], row[o + 2]] = [(x * 255) / Math.max(1, width - 1), (y * 255) / Math.max(1, height - 1), 180];
    }
    rows.push(row);
  }
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header.set([8, 2, 0, 0, 0], 8); // 8-bit RGB, no interlace
  return Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), chunk('IHDR', header), chunk('IDAT', deflateSync(Buffer.concat(rows))), chunk('IEND', Buffer.alloc(0))]);
}

function chunk(type: string, data: Buffer): Buffer {
  const head = Buffer.alloc(8);
  head.writeUInt32BE(data.length, 0);
  head.write(type, 4, 'ascii');
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(Buffer.concat([head.subarray(4), data])), 0);
  return Buffer.concat([head, data, crc]);
}
