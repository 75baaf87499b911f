import type { NextFunction, Request, Response } from 'express';
import { resolveRoles, type Role } from '../access/roles';
import type { Config } from '../config/schema';
import type { Database } from '../db/database';
import type { DirectoryCache } from '../directory/cache';
import { ensurePerson } from '../features/people/people.queries';
import { parseLogin } from '../identity/login';
import { endSession, readSession, SESSION_COOKIE, startSession } from '../identity/sessions';
import type { SessionRow } from '../identity/sessions.queries';
import { setAgentFlag } from '../features/tickets/tickets.queries';
import type { Identity, IdentityProvider } from '../identity/types';
import type { Keys } from '../secret';
import type { Logger } from '../logging';
import { readCookies, serialiseCookie } from './cookies';
import { returnToFor } from './guards';
import { HttpError, ServiceUnavailable, SignInRequired } from './http-error';
import { GUEST, type RequestViewer } from './viewer';

/** Set by "sign out": the transport's identity is ignored until the person signs in again. */
export const GUEST_COOKIE = 'deskside_guest';

export interface IdentifyDeps {
  config: Config;
  database: Database;
  keys: Keys;
  identity: IdentityProvider;
  directory: DirectoryCache;
  logger: Logger;
}

export function isSecureRequest(req: Request, config: Config): boolean {
  if ((req.socket as { encrypted?: boolean }).encrypted) return true;
  if (config.underIisnode) return /^on$/i.test(String(req.headers['x-iisnode-https'] ?? ''));
  return false;
}

/**
 * Who is calling: the identity provider (IIS, a proxy) or, failing that, Deskside's own
 * session; then their roles from the directory and config. Sets res.locals.viewer.
 */
export function identify(deps: IdentifyDeps) {
  const { config, database, keys, identity, logger } = deps;
  const db = database.db;

  return async function identifyMiddleware(req: Request, res: Response, next: NextFunction): Promise<void> {
    try {
      const result = await identity.identify(req);
      if (result.kind === 'rejected') {
        logger.warn(
          { security: true, event: 'credentials-rejected', provider: identity.name, reason: result.reason, remoteAddress: req.socket.remoteAddress, reqId: res.locals.reqId, url: req.originalUrl.slice(0, 200) },
          'the browser offered sign-in credentials that did not verify',
        );
        // Answered with the 401 help page once the page locals exist (refuseRejectedCredentials).
        res.locals.viewer = GUEST;
        res.locals.credentialsRejected = true;
        return next();
      }
      if (result.kind === 'refused') {
        logger.warn(
          { security: true, event: 'identity-refused', reason: result.reason, remoteAddress: req.socket.remoteAddress, reqId: res.locals.reqId, url: req.originalUrl.slice(0, 200) },
          'refused a request carrying forged or malformed identity headers',
        );
        throw new HttpError(400, `identity refused: ${result.reason}`, 'This request carried sign-in information that cannot be genuine, so it was refused.');
      }

      const cookies = readCookies(req);
      res.locals.cookies = cookies;
      const secure = isSecureRequest(req, config);
      const setCookie = (c: string) => res.append('Set-Cookie', c);
      const wantsGuest = cookies.get(GUEST_COOKIE) === '1' && req.path !== '/sign-in';

      let session = await readSession(db, keys.session, cookies.get(SESSION_COOKIE));
      if (!session && cookies.has(SESSION_COOKIE)) {
        setCookie(serialiseCookie(SESSION_COOKIE, '', { secure, maxAgeSeconds: 0 }));
      }

      if (result.kind === 'person') {
        for (const [name, value] of Object.entries(result.responseHeaders ?? {})) res.setHeader(name, value);
      }
      if (result.kind === 'person' && !wantsGuest && (!session || session.login_key !== result.identity.key)) {
        session = await beginSession(deps, req, res, result.identity, session?.id);
      }

      if (!session) {
        res.locals.viewer = GUEST;
        return next();
      }
      res.locals.viewer = await buildViewer(deps, session);
      next();
    } catch (err) {
      if (err instanceof HttpError) return next(err);
      // Everything above is database work (directory failures are absorbed by its
      // cache): if it fails, the database is unavailable, which is a 503, not a 500.
      logger.error({ err, reqId: res.locals.reqId }, 'could not read sessions or people from the database');
      next(new ServiceUnavailable());
    }
  };
}

/** After the view locals: a request whose credentials did not verify gets the 401 help page. */
export function refuseRejectedCredentials(req: Request, res: Response, next: NextFunction): void {
  if (res.locals.credentialsRejected === true) return next(new SignInRequired(returnToFor(req), { rejected: true }));
  next();
}

/**
 * Start Deskside's own session for someone the transport (IIS, a proxy, Kerberos) or the
 * password form has just recognised, replacing any session the browser had; clears the
 * "stay a guest" cookie. Returns the new session row.
 */
export async function beginSession(deps: IdentifyDeps, req: Request, res: Response, who: Identity, previousSessionId: string | undefined): Promise<SessionRow | null> {
  const { config, keys, directory, logger } = deps;
  const db = deps.database.db;
  const secure = isSecureRequest(req, config);
  const cookies = (res.locals.cookies as Map<string, string> | undefined) ?? readCookies(req);
  const login = parseLogin(who.login)!;
  const lookup = await directory.get(login);
  const p = lookup.person;
  const person = await ensurePerson(db, who.login, who.key, {
    displayName: p?.displayName,
    email: p?.email,
    department: p?.department,
    title: p?.title,
  });
  if (previousSessionId) await endSession(db, previousSessionId);
  const started = await startSession(db, keys.session, {
    personId: person.id,
    authType: who.authType,
    source: who.source,
    hours: config.sessionHours,
  });
  res.append('Set-Cookie', serialiseCookie(SESSION_COOKIE, started.cookieValue, { secure, maxAgeSeconds: started.maxAgeSeconds }));
  if (cookies.has(GUEST_COOKIE)) res.append('Set-Cookie', serialiseCookie(GUEST_COOKIE, '', { secure, maxAgeSeconds: 0 }));
  logger.info({ event: 'sign-in', login: who.login, source: who.source, authType: who.authType, reqId: res.locals.reqId }, 'signed in');
  return readSession(db, keys.session, started.cookieValue);
}

async function buildViewer(
  deps: IdentifyDeps,
  session: SessionRow,
): Promise<RequestViewer> {
  const login = parseLogin(session.login);
  const lookup = login ? await deps.directory.get(login) : null;
  // With the directory unreachable and nothing recent known, only config logins count.
  const groups = lookup && (lookup.state === 'ok' || lookup.state === 'stale') ? lookup.person?.groups ?? [] : [];
  const { roles, grants } = resolveRoles({ key: session.login_key, groups }, deps.config);
  // The assignee list shows people Deskside has seen as agents; keep that flag true to
  // what the directory says now (but not from a stale answer during an outage).
  const agentNow = roles.includes('agent');
  const trustworthy = !lookup || lookup.state === 'ok' || lookup.state === 'off';
  if (trustworthy && agentNow !== (session.is_agent === 1)) await setAgentFlag(deps.database.db, session.person_id, agentNow);
  if (lookup && !lookup.fromCache && lookup.person) {
    const p = lookup.person;
    await ensurePerson(deps.database.db, session.login, session.login_key, {
      displayName: p.displayName,
      email: p.email,
      department: p.department,
      title: p.title,
    });
  }
  return {
    anonymous: false,
    personId: session.person_id,
    roles: new Set<Role>(roles),
    grants,
    groups,
    login: session.login,
    key: session.login_key,
    displayName: lookup?.person?.displayName ?? session.display_name ?? undefined,
    email: lookup?.person?.email ?? session.email ?? undefined,
    authType: session.auth_type,
    source: session.source,
    sessionId: session.id,
    directoryPerson: lookup?.person ?? null,
    directory: lookup,
  };
}
