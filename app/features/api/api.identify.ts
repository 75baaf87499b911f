import type { NextFunction, Request, Response } from 'express';
import type { Role } from '../../access/roles';
import type { Config } from '../../config/schema';
import type { Csrf } from '../../web/csrf';
import { buildViewer, clientAddressOf, subjectOfSession, type IdentifyDeps } from '../../web/identify';
import { HttpError, ServiceUnavailable } from '../../web/http-error';
import { GUEST, type RequestViewer } from '../../web/viewer';
import { agentFlagOf } from '../../people/people.queries';
import { recognise, resumeSession, wantsToStayGuest } from '../../session/session';
import { authenticate, takeRequest, type Authentication } from '../api-tokens/tokens.service';
import type { TokenWithPerson } from '../api-tokens/tokens.queries';
import { ApiProblem } from './problem';

export interface ApiIdentifyDeps extends IdentifyDeps {
  csrf: Csrf;
}

/** Methods that change nothing: a read-only token may use them, and a session needs no CSRF token for them. */
export const SAFE_METHODS: ReadonlySet<string> = new Set(['GET', 'HEAD', 'OPTIONS']);

const BEARER = /^Bearer[ \t]+(\S{1,200})[ \t]*$/i;

const INVALID_TOKEN: Record<Exclude<Authentication, { kind: 'ok' }>['reason'], string> = {
  malformed: 'That is not a Deskside token (they start with dsk_).',
  unknown: 'No such token: it may have been mistyped or deleted.',
  expired: 'The token has expired; make a new one at /me/tokens.',
  revoked: 'The token has been revoked; make a new one at /me/tokens.',
};

function invalidToken(detail: string): ApiProblem {
  return new ApiProblem('invalid-token', detail, {
    headers: { 'WWW-Authenticate': `Bearer realm="Deskside", error="invalid_token", error_description="${detail.replace(/["\\]/g, '')}"` },
  });
}

/**
 * Who is calling the API, in this order (issue 19):
 * 1. a personal access token (`Authorization: Bearer dsk_…`): a token that does not work
 *    is a 401, never a fall-through to another way in;
 * 2. the transport's word on this very request (IIS Windows authentication, the trusted
 *    proxy header, Kerberos), so `Invoke-RestMethod -UseDefaultCredentials` and
 *    `curl --negotiate` need no token; no session is begun for it;
 * 3. Deskside's session cookie, where anything but a read needs the CSRF token in
 *    `X-CSRF-Token` (the cookie is ambient; a token and the transport's credentials cannot
 *    be sent by another site's page with a JSON body without a CORS preflight we never grant);
 * otherwise a guest. Roles come from the directory (cached) and config on every request.
 */
export function identifyApiCaller(deps: ApiIdentifyDeps) {
  const { identity, logger, config } = deps;

  return async function identifyApi(req: Request, res: Response, next: NextFunction): Promise<void> {
    try {
      const authorization = req.headers.authorization;
      if (authorization !== undefined && /^Bearer\b/i.test(authorization)) {
        const m = BEARER.exec(authorization);
        const auth: Authentication = m ? await authenticate(deps.database, m[1]) : { kind: 'invalid', reason: 'malformed' };
        if (auth.kind !== 'ok') {
          logger.info({ event: 'api-token-refused', reason: auth.reason, reqId: res.locals.reqId }, 'refused an API token');
          throw invalidToken(INVALID_TOKEN[auth.reason]);
        }
        res.locals.viewer = await tokenViewer(deps, auth.token, req, config);
        return next();
      }

      const result = await identity.identify(req);
      if ((result.kind === 'anonymous' || result.kind === 'person') && result.address !== undefined) res.locals.clientAddress = result.address;
      if (result.kind === 'refused') {
        logger.warn(
          { security: true, event: 'identity-refused', reason: result.reason, remoteAddress: clientAddressOf(req, res), reqId: res.locals.reqId, url: req.originalUrl.slice(0, 200) },
          'refused an API request carrying forged or malformed identity headers',
        );
        throw new ApiProblem('identity-refused', 'This request carried sign-in information that cannot be genuine, so it was refused.');
      }
      if (result.kind === 'rejected') {
        logger.warn({ security: true, event: 'credentials-rejected', provider: identity.name, reason: result.reason, reqId: res.locals.reqId }, 'API credentials did not verify');
        throw new ApiProblem('sign-in-required', 'The Windows credentials sent did not verify; try again, or send a token.');
      }
      if (result.kind === 'person' && !wantsToStayGuest(req)) {
        for (const [name, value] of Object.entries(result.responseHeaders ?? {})) res.setHeader(name, value);
        const person = await recognise(deps, result.identity);
        const viewer = await buildViewer(deps, {
          personId: person.id,
          login: person.login,
          loginKey: person.login_key,
          isAgent: await agentFlagOf(deps.database.db, person.id),
          displayName: person.display_name,
          email: person.email,
          authType: result.identity.authType,
          source: result.identity.source,
        });
        res.locals.viewer = { ...viewer, via: 'transport' } satisfies RequestViewer;
        return next();
      }

      const session = await resumeSession(deps, req, res);
      if (!session) {
        res.locals.viewer = GUEST;
        return next();
      }
      res.locals.viewer = { ...(await buildViewer(deps, subjectOfSession(session))), via: 'session' } satisfies RequestViewer;
      if (!SAFE_METHODS.has(req.method)) {
        const verdict = deps.csrf.check(req, res);
        if (verdict !== 'ok') {
          throw new ApiProblem(
            'csrf-token',
            verdict === 'cross-site' ? 'This request came from another site, so it was refused.' : 'With the session cookie, send the CSRF token in X-CSRF-Token (GET /api/v1/me gives it).',
            { errors: [{ header: 'X-CSRF-Token', detail: 'Missing or wrong' }] },
          );
        }
      }
      next();
    } catch (err) {
      if (err instanceof HttpError) return next(err);
      logger.error({ err, reqId: res.locals.reqId }, 'could not identify an API caller');
      next(new ServiceUnavailable());
    }
  };
}

/**
 * The viewer a token acts as: its person's roles now, never beyond the token's role. A
 * token stops working when its person no longer holds that role, or the directory says
 * the account is gone or disabled; it then answers 401, as a revoked one does.
 */
async function tokenViewer(deps: ApiIdentifyDeps, t: TokenWithPerson, req: Request, config: Config): Promise<RequestViewer> {
  const viewer = await buildViewer(deps, {
    personId: t.person_id,
    login: t.login,
    loginKey: t.login_key,
    isAgent: t.is_agent,
    displayName: t.display_name,
    email: t.email,
    authType: 'Bearer',
    source: 'token',
  });
  const gone = viewer.directory?.state === 'ok' && (viewer.directoryPerson === null || viewer.directoryPerson.disabled === true);
  if (gone) throw invalidToken('The account this token belongs to is disabled or no longer in the directory.');
  if (t.role === 'agent' && !viewer.roles.has('agent')) throw invalidToken('This token acts as an agent, and its person no longer holds the agent role.');
  const allowed: ReadonlySet<Role> = new Set<Role>(t.role === 'agent' ? ['requester', 'agent'] : ['requester']);
  const capped: RequestViewer = {
    ...viewer,
    roles: new Set([...viewer.roles].filter((r) => allowed.has(r))),
    grants: viewer.grants.filter((g) => allowed.has(g.role)),
    via: 'token',
    apiToken: { id: t.id, name: t.name, scope: t.scope, role: t.role, expiresAt: new Date(t.expires_at) },
  };
  if (t.scope === 'read' && !SAFE_METHODS.has(req.method)) {
    throw new ApiProblem('insufficient-scope', 'This token may only read; make a read-and-write token to change tickets.', {
      headers: { 'WWW-Authenticate': 'Bearer realm="Deskside", error="insufficient_scope", scope="read-write"' },
    });
  }
  const rate = await takeRequest(deps.database, t.id, config.api.rateLimitPerMinute);
  if (!rate.ok) {
    throw new ApiProblem('rate-limited', `This token has made ${config.api.rateLimitPerMinute} requests this minute (DESKSIDE_API_RATE_LIMIT); try again in ${rate.retryAfterSeconds} s.`, {
      headers: { 'Retry-After': String(rate.retryAfterSeconds) },
    });
  }
  return capped;
}
