import type { Request, Response } from 'express';
import { clearCookie, isSecureRequest, readCookies, serialiseCookie, setCookie, type CookieConfig } from '../session/cookies';

const FLASH_COOKIE = 'deskside_flash';

/**
 * A one-time message for the page a post redirects to ("Your ticket has been raised").
 * It travels in a short-lived cookie, not the URL, so it shows once, in the browser of
 * the person who did it, and never to someone who opens a copied link. The cookie holds
 * only a code and the page it is for; the words come from the page's own table.
 */
export function setFlash(req: Request, res: Response, config: CookieConfig, code: string, forPath: string): void {
  setCookie(res, serialiseCookie(FLASH_COOKIE, encodeURIComponent(`${code}|${forPath}`), { secure: isSecureRequest(req, config), maxAgeSeconds: 120 }));
}

/** The flash code meant for this page, if any, cleared once shown; a flash for another page is left for it. */
export function takeFlash(req: Request, res: Response, config: CookieConfig, forPath: string): string | undefined {
  const raw = readCookies(req).get(FLASH_COOKIE);
  if (raw === undefined) return undefined;
  let value: string;
  try {
    value = decodeURIComponent(raw);
  } catch {
    value = '';
  }
  const bar = value.indexOf('|');
  if (bar < 0 || value.slice(bar + 1) !== forPath) return undefined;
  clearCookie(req, res, FLASH_COOKIE, config);
  return value.slice(0, bar);
}
