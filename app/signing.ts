import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * Signing with the keys secret.ts derives: HMAC-SHA-256, compared in constant time.
 * Session cookies and form tokens are built from these, so every process that shares
 * the secret accepts every other's.
 */
export function hmac(key: Buffer | string, value: string): string {
  return createHmac('sha256', key).update(value).digest('base64url');
}

export function safeEqual(a: string, b: string): boolean {
  const ba = Buffer.from(a);
  const bb = Buffer.from(b);
  return ba.length === bb.length && timingSafeEqual(ba, bb);
}

/** `value.signature`, so a cookie can be rejected before any database lookup. */
export function sign(key: Buffer, value: string): string {
  return `${value}.${hmac(key, value)}`;
}

/** The signed value, or null when the signature is missing or wrong. */
export function unsign(key: Buffer, signed: string | undefined): string | null {
  if (!signed || signed.length > 512) return null;
  const dot = signed.lastIndexOf('.');
  if (dot <= 0) return null;
  const value = signed.slice(0, dot);
  return safeEqual(signed.slice(dot + 1), hmac(key, value)) ? value : null;
}

/** A new random secret for a session cookie or an API token: 256 bits, URL-safe. */
export function randomToken(): string {
  return randomBytes(32).toString('base64url');
}

/**
 * What the database keeps of a session or API token: its SHA-256 (hex), so a copy of the
 * database cannot be turned into working cookies or tokens.
 */
export function tokenDigest(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}
