import type { NextFunction, Request, Response } from 'express';
import type { Config } from '../../config/schema';
import { isDatabaseUnavailable } from '../../db/errors';
import type { Logger } from '../../logging';
import { HttpError, SignInRequired } from '../../web/http-error';
import { originOf } from './links';

/**
 * API errors as RFC 9457 problem details (`application/problem+json`), never an HTML
 * page and never a stack. `errors` names each field, query parameter or header at fault.
 */

/** One thing wrong with the request: in the body (`pointer`, a JSON Pointer), the query or a header. */
export interface ProblemField {
  detail: string;
  pointer?: string;
  parameter?: string;
  header?: string;
}

/** Every problem type the API answers with: its status and a short, fixed title. */
export const PROBLEM_TYPES = {
  'invalid-json': { status: 400, title: 'The body is not valid JSON' },
  'invalid-parameters': { status: 400, title: 'The query parameters are not valid' },
  'identity-refused': { status: 400, title: 'The request carried sign-in information that cannot be genuine' },
  'sign-in-required': { status: 401, title: 'Sign in or send a token' },
  'invalid-token': { status: 401, title: 'The token is not valid' },
  forbidden: { status: 403, title: 'Not allowed' },
  'insufficient-scope': { status: 403, title: 'The token may only read' },
  'csrf-token': { status: 403, title: 'The CSRF token is missing or wrong' },
  'not-found': { status: 404, title: 'Not found' },
  'method-not-allowed': { status: 405, title: 'Method not allowed' },
  'precondition-failed': { status: 412, title: 'The ticket changed since you read it' },
  'body-too-large': { status: 413, title: 'The body is too large' },
  'unsupported-media-type': { status: 415, title: 'Send JSON' },
  'validation-failed': { status: 422, title: 'The request has invalid fields' },
  'precondition-required': { status: 428, title: 'If-Match is required' },
  'rate-limited': { status: 429, title: 'Too many requests with this token' },
  internal: { status: 500, title: 'Deskside hit an unexpected problem' },
  unavailable: { status: 503, title: 'Deskside is temporarily unavailable' },
} as const;

export type ProblemType = keyof typeof PROBLEM_TYPES;

export class ApiProblem extends HttpError {
  constructor(
    readonly type: ProblemType,
    readonly detail: string,
    readonly opts: { errors?: ProblemField[]; headers?: Record<string, string | string[]>; extra?: Record<string, unknown> } = {},
  ) {
    super(PROBLEM_TYPES[type].status, `${type}: ${detail}`, detail);
    this.name = 'ApiProblem';
  }
}

export const invalidFields = (errors: ProblemField[], detail = 'Some fields are not valid; see errors.') => new ApiProblem('validation-failed', detail, { errors });

/** Form-style field errors from a service (`{ title: 'Enter …' }`) as problem fields on the JSON body. */
export function bodyErrors(errors: Record<string, string>, rename: Record<string, string> = {}): ProblemField[] {
  return Object.entries(errors).map(([field, detail]) => ({ pointer: `/${rename[field] ?? field}`, detail }));
}

/** Where the problem types are explained (the API page's section for each). */
export function problemTypeUri(req: Request, config: Config, type: ProblemType): string {
  return `${originOf(req, config)}/api#problem-${type}`;
}

/** Library and page errors in API terms. */
function toProblem(err: unknown): ApiProblem {
  if (err instanceof ApiProblem) return err;
  if (err instanceof SignInRequired) return new ApiProblem('sign-in-required', 'This needs a signed-in person: send a token (Authorization: Bearer …) or sign in with Windows.');
  if (err instanceof HttpError) {
    if (err.status === 403) return new ApiProblem('forbidden', err.publicMessage);
    if (err.status === 404) return new ApiProblem('not-found', err.publicMessage);
    if (err.status === 503) return new ApiProblem('unavailable', err.publicMessage);
    if (err.status === 400) return new ApiProblem('invalid-parameters', err.publicMessage);
    return new ApiProblem('internal', 'Deskside hit an unexpected problem; nothing was changed by this request. Please try again.');
  }
  if (isDatabaseUnavailable(err)) return new ApiProblem('unavailable', 'Deskside cannot reach its database right now. Please try again in a minute.');
  const e = err as { status?: number; type?: string };
  if (e?.type === 'entity.parse.failed') return new ApiProblem('invalid-json', 'The body could not be read as JSON; nothing was changed.');
  if (e?.type === 'entity.too.large' || e?.status === 413) return new ApiProblem('body-too-large', 'The body is larger than Deskside accepts (128 KB); nothing was changed.');
  if (e?.type === 'charset.unsupported' || e?.type === 'encoding.unsupported' || e?.status === 415) return new ApiProblem('unsupported-media-type', 'Send the body as UTF-8 JSON, uncompressed.');
  if (e?.status === 400 || e?.type === 'request.aborted' || e?.type === 'request.size.invalid') return new ApiProblem('invalid-json', 'The body could not be read; nothing was changed.');
  return new ApiProblem('internal', 'Deskside hit an unexpected problem; please try again.');
}

/**
 * The API's one error handler. Sign-in problems carry the transport's challenges (so
 * `Invoke-RestMethod -UseDefaultCredentials` and `curl --negotiate` answer them) and Bearer.
 */
export function problemHandler(deps: { config: Config; logger: Logger; challenges: () => string[] }) {
  return function handle(err: unknown, req: Request, res: Response, _next: NextFunction): void {
    const problem = toProblem(err);
    const status = problem.status;
    if (status >= 500) deps.logger.error({ err, reqId: res.locals.reqId, url: req.originalUrl.slice(0, 300) }, 'API request failed');
    if (res.headersSent) {
      res.destroy();
      return;
    }
    if (problem.type === 'sign-in-required') {
      for (const c of deps.challenges()) res.append('WWW-Authenticate', c);
      res.append('WWW-Authenticate', 'Bearer realm="Deskside"');
    }
    for (const [name, value] of Object.entries(problem.opts.headers ?? {})) res.setHeader(name, value);
    res.status(status);
    res.setHeader('Cache-Control', 'no-store');
    const body = {
      type: problemTypeUri(req, deps.config, problem.type),
      title: PROBLEM_TYPES[problem.type].title,
      status,
      detail: problem.detail,
      instance: req.originalUrl.slice(0, 2000),
      ...(problem.opts.errors?.length ? { errors: problem.opts.errors } : {}),
      ...problem.opts.extra,
      requestId: res.locals.reqId as string | undefined,
    };
    res.type('application/problem+json').send(JSON.stringify(body));
  };
}
