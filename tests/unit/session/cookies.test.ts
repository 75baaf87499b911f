import { IncomingMessage } from 'node:http';
import { Socket } from 'node:net';
import { isSecureRequest, type CookieConfig } from '../../../app/session/cookies';

function from(address: string, headers: [string, string][]): IncomingMessage {
  const socket = new Socket();
  Object.defineProperty(socket, 'remoteAddress', { value: address });
  const req = new IncomingMessage(socket);
  req.rawHeaders = headers.flat();
  for (const [k, v] of headers) req.headers[k.toLowerCase()] = v;
  return req;
}

describe('isSecureRequest, which decides the cookies\' Secure flag', () => {
  const proxy: CookieConfig = { underIisnode: false, cookieSecure: false, identity: 'proxy', trustedProxies: ['10.0.0.5', '192.168.0.0/24'] };

  test('when a trusted proxy says https, then the request is secure; from anyone else the header is ignored', () => {
    expect(isSecureRequest(from('10.0.0.5', [['X-Forwarded-Proto', 'https']]), proxy)).toBe(true);
    expect(isSecureRequest(from('::ffff:192.168.0.9', [['X-Forwarded-Proto', 'HTTPS']]), proxy)).toBe(true);
    expect(isSecureRequest(from('10.0.0.6', [['X-Forwarded-Proto', 'https']]), proxy)).toBe(false);
    expect(isSecureRequest(from('10.0.0.5', [['X-Forwarded-Proto', 'http']]), proxy)).toBe(false);
  });

  test('when a client sent its own X-Forwarded-Proto and the proxy appended its own, then the proxy\'s (last) value counts', () => {
    expect(isSecureRequest(from('10.0.0.5', [['X-Forwarded-Proto', 'https, http']]), proxy)).toBe(false);
    expect(isSecureRequest(from('10.0.0.5', [['X-Forwarded-Proto', 'http'], ['X-Forwarded-Proto', 'https']]), proxy)).toBe(true);
  });

  test('when another identity is used, then X-Forwarded-Proto means nothing; under iisnode IIS\'s HTTPS variable decides', () => {
    expect(isSecureRequest(from('10.0.0.5', [['X-Forwarded-Proto', 'https']]), { ...proxy, identity: 'negotiate' })).toBe(false);
    const iis: CookieConfig = { underIisnode: true, cookieSecure: false, identity: 'iisnode', trustedProxies: [] };
    expect(isSecureRequest(from('', [['X-iisnode-HTTPS', 'on']]), iis)).toBe(true);
    expect(isSecureRequest(from('', [['X-iisnode-HTTPS', 'off']]), iis)).toBe(false);
  });

  test('when DESKSIDE_COOKIE_SECURE is on, then every request is treated as secure', () => {
    expect(isSecureRequest(from('10.9.9.9', []), { ...proxy, cookieSecure: true })).toBe(true);
  });
});
