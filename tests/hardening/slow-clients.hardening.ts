import net from 'node:net';
import { freePort } from '../support/http-client';
import { proxyServerEnv, rawRequest, spawnServer, waitForListening, type RunningServer } from '../support/server-process';
import { recordFigure } from './figures';

/**
 * Slowloris: many clients that open a connection and dribble their headers one byte at
 * a time. Other people's requests must still be answered promptly, and the server must
 * drop the slow connections once their header time is up.
 */

describe('slow clients', () => {
  let server: RunningServer;
  let port: number;
  beforeAll(async () => {
    port = await freePort();
    server = spawnServer(proxyServerEnv(port));
    await waitForListening(server, { port });
  });
  afterAll(() => server?.stop());

  test('when 300 slow clients hold connections open, then others are served and the slow ones are cut off', async () => {
    const SLOW = 300;
    const sockets: net.Socket[] = [];
    let closedByServer = 0;
    await Promise.all(
      Array.from({ length: SLOW }, () =>
        new Promise<void>((resolve) => {
          const s = net.connect(port, '127.0.0.1', () => {
            s.write('GET / HTTP/1.1\r\nHost: h\r\nX-Slow: ');
            resolve();
          });
          s.on('error', () => undefined);
          s.on('close', () => closedByServer++);
          sockets.push(s);
        }),
      ),
    );
    const drip = setInterval(() => {
      for (const s of sockets) if (!s.destroyed) s.write('a');
    }, 1000);
    try {
      // Meanwhile, ordinary requests.
      const latencies: number[] = [];
      for (let i = 0; i < 40; i++) {
        const started = Date.now();
        const res = await rawRequest({ port }, { path: '/healthz', headers: [['Host', 'h']] });
        latencies.push(Date.now() - started);
        expect(res.status).toBe(200);
      }
      latencies.sort((a, b) => a - b);
      const p50 = latencies[Math.floor(latencies.length / 2)];
      recordFigure('p50 of normal requests while 300 slowloris clients hang on (ms)', p50, '< 1000', p50 < 1000);
      expect(p50).toBeLessThan(1000);
      // The header timeout (15 s, checked every 2 s) closes every slow connection.
      const deadline = Date.now() + 30_000;
      while (closedByServer < SLOW && Date.now() < deadline) await new Promise((r) => setTimeout(r, 250));
      recordFigure('slow connections closed by the server', `${closedByServer}/${SLOW}`, `${SLOW}/${SLOW} within 30 s`, closedByServer === SLOW);
      expect(closedByServer).toBe(SLOW);
    } finally {
      clearInterval(drip);
      for (const s of sockets) s.destroy();
    }
  });
});
