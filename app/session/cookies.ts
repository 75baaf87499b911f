import type { IncomingMessage, ServerResponse } from 'node:http';
import type { BlockList } from 'node:net';
import type { Config } from '../config/schema';
import { buildAddressList, isTrusted } from '../identity/proxy';
import { rawHeaderValues } from '../identity/raw-headers';

const parsed = new WeakMap<IncomingMessage, Map<string, string>>();

/**
 * The request's cookies, parsed once per request. The first occurrence of a name wins,
 * as browsers order them (most specific path first).
 */
export function readCookies(req: IncomingMessage): Map<string, string> {
  const known = parsed.get(req);
  if (known) return known;
  const out = new Map<string, string>();
  const header = req.headers.cookie;
  if (header && header.length <= 8192) {
    for (const part of header.split(';')) {
      const eq = part.indexOf('=');
      if (eq <= 0) continue;
      const name = part.slice(0, eq).trim();
      const value = part.slice(eq + 1).trim();
      if (!out.has(name)) out.set(name, value);
    }
  }
  parsed.set(req, out);
  return out;
}

export interface CookieOptions {
  maxAgeSeconds?: number;
  secure: boolean;
  httpOnly?: boolean;
}

export function serialiseCookie(name: string, value: string, opts: CookieOptions): string {
  const parts = [`${name}=${value}`, 'Path=/', 'SameSite=Lax'];
  if (opts.httpOnly !== false) parts.push('HttpOnly');
  if (opts.secure) parts.push('Secure');
  if (opts.maxAgeSeconds !== undefined) parts.push(`Max-Age=${Math.max(0, Math.floor(opts.maxAgeSeconds))}`);
  return parts.join('; ');
}

export type CookieConfig = Pick<Config, 'underIisnode' | 'cookieSecure' | 'identity' | 'trustedProxies'>;

const proxyLists = new WeakMap<object, BlockList>();

/**
 * Did the request reach us over HTTPS? Decides the cookies' Secure flag. Directly (a TLS
 * socket), through IIS (the HTTPS server variable iisnode promotes), or through a
 * trusted reverse proxy's X-Forwarded-Proto; from anyone else that header is the
 * client's own word and is ignored. DESKSIDE_COOKIE_SECURE makes it always so.
 */
export function isSecureRequest(req: IncomingMessage, config: CookieConfig): boolean {
  if (config.cookieSecure) return true;
  if ((req.socket as { encrypted?: boolean }).encrypted) return true;
  if (config.underIisnode) return /^on$/i.test(String(req.headers['x-iisnode-https'] ?? ''));
  if (config.identity === 'proxy' && config.trustedProxies.length) {
    let list = proxyLists.get(config.trustedProxies);
    if (!list) proxyLists.set(config.trustedProxies, (list = buildAddressList(config.trustedProxies)));
    if (!isTrusted(list, req.socket.remoteAddress)) return false;
    // The value the trusted proxy itself added is the last one in the list.
    const proto = rawHeaderValues(req, 'x-forwarded-proto').join(',').split(',').pop()?.trim();
    return /^https$/i.test(proto ?? '');
  }
  return false;
}

/** Add a cookie to the response, keeping any set before it. */
export function setCookie(res: ServerResponse, cookie: string): void {
  res.appendHeader('Set-Cookie', cookie);
}

/** Tell the browser to forget a cookie. */
export function clearCookie(req: IncomingMessage, res: ServerResponse, name: string, config: CookieConfig): void {
  setCookie(res, serialiseCookie(name, '', { secure: isSecureRequest(req, config), maxAgeSeconds: 0 }));
}
