import type { Request } from 'express';
import type { Config } from '../../config/schema';
import { isSecureRequest } from '../../session/cookies';

export const API_BASE = '/api/v1';

/**
 * The address the caller used to reach Deskside (`https://helpdesk.corp.example`), for the
 * absolute links in API answers: the Host they sent, and https when the request came over
 * TLS (directly, through IIS, or through a trusted proxy). A forged Host only misleads its sender.
 */
export function originOf(req: Request, config: Config): string {
  const host = req.headers.host && /^[A-Za-z0-9.:[\]-]{1,300}$/.test(req.headers.host) ? req.headers.host : 'localhost';
  return `${isSecureRequest(req, config) ? 'https' : 'http'}://${host}`;
}

/** An absolute API address: `path` is under /api/v1 and already encoded. */
export function apiUrl(req: Request, config: Config, path: string): string {
  return `${originOf(req, config)}${API_BASE}${path}`;
}
