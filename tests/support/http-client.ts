import http from 'node:http';

/**
 * A small cookie-keeping HTTP client for load and crash tests against a real server
 * process: one keep-alive agent per client, form posts with the page's CSRF token.
 */
export class SessionClient {
  private cookies = new Map<string, string>();
  private token = '';
  private readonly agent = new http.Agent({ keepAlive: true, maxSockets: 1 });

  constructor(
    private readonly port: number,
    private readonly login?: string,
    private readonly header = 'X-Remote-User',
  ) {}

  close(): void {
    this.agent.destroy();
  }

  request(method: string, path: string, form?: Record<string, string>, timeoutMs = 15_000): Promise<{ status: number; location?: string; body: string }> {
    const body = form ? new URLSearchParams({ ...form, _csrf: this.token }).toString() : undefined;
    const headers: Record<string, string> = { Host: `127.0.0.1:${this.port}`, Accept: 'text/html' };
    if (this.login) headers[this.header] = this.login;
    if (this.cookies.size) headers.Cookie = [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
    if (body !== undefined) {
      headers['Content-Type'] = 'application/x-www-form-urlencoded';
      headers['Content-Length'] = String(Buffer.byteLength(body));
    }
    return new Promise((resolve, reject) => {
      const req = http.request({ host: '127.0.0.1', port: this.port, method, path, headers, agent: this.agent, timeout: timeoutMs }, (res) => {
        for (const c of res.headers['set-cookie'] ?? []) {
          const [pair] = c.split(';');
          const eq = pair.indexOf('=');
          const v = pair.slice(eq + 1);
          if (v === '' || /Max-Age=0/.test(c)) this.cookies.delete(pair.slice(0, eq));
          else this.cookies.set(pair.slice(0, eq), v);
        }
        const chunks: Buffer[] = [];
        res.on('data', (d: Buffer) => chunks.push(d));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          const m = /name="_csrf" value="([^"]+)"/.exec(text);
          if (m) this.token = m[1];
          resolve({ status: res.statusCode ?? 0, location: res.headers.location, body: text });
        });
        res.on('error', reject);
      });
      req.on('timeout', () => req.destroy(new Error(`timeout after ${timeoutMs} ms`)));
      req.on('error', reject);
      if (body !== undefined) req.write(body);
      req.end();
    });
  }

  get(path: string) {
    return this.request('GET', path);
  }

  post(path: string, form: Record<string, string>) {
    return this.request('POST', path, form);
  }
}

export async function freePort(): Promise<number> {
  const net = await import('node:net');
  return new Promise((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}
