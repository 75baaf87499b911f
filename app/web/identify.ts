import type { NextFunction, Request, Response } from 'express';
import { resolveRoles, type Role } from '../access/roles';
import { normaliseAddress } from '../identity/proxy';
import type { IdentityProvider } from '../identity/types';
import { parseLogin } from '../login';
import { ensurePerson, setAgentFlag } from '../people/people.queries';
import { beginSession, resumeSession, wantsToStayGuest, type SessionDeps, type SessionRow } from '../session/session';
import { returnToFor } from './guards';
import { HttpError, ServiceUnavailable, SignInRequired } from './http-error';
import { GUEST, type RequestViewer } from './viewer';

const SIGN_IN_PATH = /^\/sign-in\/?$/i;

export interface IdentifyDeps extends SessionDeps {
  identity: IdentityProvider;
}

/** The client's address as this request established it (under iisnode, IIS's REMOTE_ADDR). */
export function clientAddressOf(req: Request, res: Response): string {
  return (res.locals.clientAddress as string | undefined) ?? normaliseAddress(req.socket.remoteAddress);
}

/**
 * Who is calling: the identity provider (IIS, a proxy) or, failing that, Deskside's own
 * session; then their roles from the directory and config. Sets res.locals.viewer.
 */
export function identify(deps: IdentifyDeps) {
  const { identity, logger } = deps;

  return async function identifyMiddleware(req: Request, res: Response, next: NextFunction): Promise<void> {
    try {
      const result = await identity.identify(req);
      if ((result.kind === 'anonymous' || result.kind === 'person') && result.address !== undefined) res.locals.clientAddress = result.address;
      const remoteAddress = clientAddressOf(req, res);
      if (result.kind === 'rejected') {
        logger.warn(
          { security: true, event: 'credentials-rejected', provider: identity.name, reason: result.reason, remoteAddress, reqId: res.locals.reqId, url: req.originalUrl.slice(0, 200) },
          'the browser offered sign-in credentials that did not verify',
        );
        // Answered with the 401 help page once the page locals exist (refuseRejectedCredentials).
        res.locals.viewer = GUEST;
        res.locals.credentialsRejected = true;
        return next();
      }
      if (result.kind === 'refused') {
        logger.warn(
          { security: true, event: 'identity-refused', reason: result.reason, remoteAddress, reqId: res.locals.reqId, url: req.originalUrl.slice(0, 200) },
          'refused a request carrying forged or malformed identity headers',
        );
        throw new HttpError(400, `identity refused: ${result.reason}`, 'This request carried sign-in information that cannot be genuine, so it was refused.');
      }

      let session = await resumeSession(deps, req, res);
      if (result.kind === 'person') {
        for (const [name, value] of Object.entries(result.responseHeaders ?? {})) res.setHeader(name, value);
        // Express matches routes case-insensitively, so /Sign-In/ is the sign-in page too.
        const stayGuest = wantsToStayGuest(req) && !SIGN_IN_PATH.test(req.path);
        if (!stayGuest && (!session || session.login_key !== result.identity.key)) {
          session = await beginSession(deps, req, res, result.identity, session?.id, res.locals.reqId as string | undefined);
        }
      }

      res.locals.viewer = session ? await buildViewer(deps, subjectOfSession(session)) : GUEST;
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
 * Whoever a request acts for, however they were recognised (a session, the transport on
 * this very request, an API token): the fields a viewer is built from.
 */
export interface ViewerSubject {
  personId: number;
  login: string;
  loginKey: string;
  /** The people table's agent flag as it stands (kept true to the directory below). */
  isAgent: number;
  displayName: string | null;
  email: string | null;
  authType: string;
  source: string;
  sessionId?: string;
}

export function subjectOfSession(session: SessionRow): ViewerSubject {
  return {
    personId: session.person_id,
    login: session.login,
    loginKey: session.login_key,
    isAgent: session.is_agent,
    displayName: session.display_name,
    email: session.email,
    authType: session.auth_type,
    source: session.source,
    sessionId: session.id,
  };
}

/** The viewer for a recognised person: their roles from the directory (cached) and config, now. */
export async function buildViewer(deps: Pick<IdentifyDeps, 'config' | 'database' | 'directory'>, s: ViewerSubject): Promise<RequestViewer> {
  const login = parseLogin(s.login);
  const lookup = login ? await deps.directory.get(login) : null;
  // With the directory unreachable and nothing recent known, only config logins count.
  const groups = lookup && (lookup.state === 'ok' || lookup.state === 'stale') ? lookup.person?.groups ?? [] : [];
  const { roles, grants } = resolveRoles({ key: s.loginKey, groups }, deps.config);
  // The assignee list shows people Deskside has seen as agents; keep that flag true to
  // what the directory says now (but not from a stale answer during an outage).
  const agentNow = roles.includes('agent');
  const trustworthy = !lookup || lookup.state === 'ok' || lookup.state === 'off';
  if (trustworthy && agentNow !== (s.isAgent === 1)) await setAgentFlag(deps.database.db, s.personId, agentNow);
  if (lookup && !lookup.fromCache && lookup.person) {
    const p = lookup.person;
    await ensurePerson(deps.database.db, s.login, s.loginKey, {
      displayName: p.displayName,
      email: p.email,
      department: p.department,
      title: p.title,
    });
  }
  return {
    anonymous: false,
    personId: s.personId,
    roles: new Set<Role>(roles),
    grants,
    groups,
    login: s.login,
    key: s.loginKey,
    displayName: lookup?.person?.displayName ?? s.displayName ?? undefined,
    email: lookup?.person?.email ?? s.email ?? undefined,
    authType: s.authType,
    source: s.source,
    sessionId: s.sessionId,
    directoryPerson: lookup?.person ?? null,
    directory: lookup,
  };
}
