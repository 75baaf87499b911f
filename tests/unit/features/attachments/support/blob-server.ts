import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { servedType } from '../../../../../app/features/attachments/content-types';
import { readHead, sendBlob } from '../../../../../app/features/attachments/send';
import { decideServe } from '../../../../../app/features/attachments/serve';
import type { BlobStore } from '../../../../../app/storage/blob-store';

/** A tiny server that answers /<sha256> from the store the way the attachments route will. */
export async function startBlobServer(store: BlobStore, name = 'file.bin'): Promise<{ url: string; close(): Promise<void> }> {
  const server = http.createServer((req, res) => {
    void (async () => {
      const sha256 = (req.url ?? '').slice(1);
      const info = await store.stat(sha256);
      if (!info) {
        res.statusCode = 404;
        return res.end();
      }
      const type = servedType(name, await readHead(store, sha256, info.size));
      const decision = decideServe({ method: req.method ?? 'GET', range: header(req, 'range'), ifNoneMatch: header(req, 'if-none-match'), ifRange: header(req, 'if-range') }, { sha256, size: info.size, name, type });
      await sendBlob(res, store, sha256, decision);
    })().catch((err) => {
      res.statusCode = 500;
      res.end(String(err));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}


function header(req: http.IncomingMessage, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v.join(', ') : v;
}
