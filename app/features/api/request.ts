import express, { type NextFunction, type Request, type Response } from 'express';
import { SAFE_METHODS } from './api.identify';
import { ApiProblem, invalidFields, type ProblemField } from './problem';

/**
 * Reading what an API caller sent: JSON bodies only, of a known size, with known fields of
 * the right types; query parameters the route knows; If-Match. Anything else is refused
 * (an unknown field is more likely a typo than something to ignore).
 */

/** How a ticket may reach the desk through the API: e-mail comes only from the mailbox. */
export const API_CHANNELS = ['web', 'phone', 'walk-in'] as const;

/** The most people one search answers with. */
export const PEOPLE_LIMIT = 20;

/** Ticket texts are capped at 20,000 characters; JSON escapes can triple that. */
export const JSON_BODY_LIMIT = '128kb';

const JSON_TYPES = /^application\/(json|merge-patch\+json)$/i;
const parse = express.json({ limit: JSON_BODY_LIMIT, type: () => true, strict: true });

/** For anything but a read: `Content-Type: application/json` (or merge-patch+json), parsed. */
export function readJsonBody(req: Request, res: Response, next: NextFunction): void {
  if (SAFE_METHODS.has(req.method)) return next();
  const mediaType = (req.headers['content-type'] ?? '').split(';')[0].trim();
  if (!JSON_TYPES.test(mediaType)) {
    return next(
      new ApiProblem('unsupported-media-type', `Send the body as JSON with Content-Type: application/json${mediaType ? ` (not ${mediaType.slice(0, 100)})` : ''}.`, {
        headers: { 'Accept-Post': 'application/json', 'Accept-Patch': 'application/json, application/merge-patch+json' },
        errors: [{ header: 'Content-Type', detail: 'Must be application/json' }],
      }),
    );
  }
  parse(req, res, next);
}

export type FieldType = 'string' | 'integer' | 'boolean' | 'string-or-null' | 'integer-or-null';

const TYPE_TEXT: Record<FieldType, string> = {
  string: 'a string',
  integer: 'a whole number',
  boolean: 'true or false',
  'string-or-null': 'a string or null',
  'integer-or-null': 'a whole number or null',
};

function hasType(v: unknown, t: FieldType): boolean {
  if (v === null) return t.endsWith('-or-null');
  if (t.startsWith('string')) return typeof v === 'string';
  if (t.startsWith('integer')) return typeof v === 'number' && Number.isSafeInteger(v);
  return typeof v === 'boolean';
}

/**
 * The JSON body as an object of the fields `shape` names, each of its type; anything else
 * is a 422 naming every field at fault (unknown ones included).
 */
export function bodyFields(req: Request, shape: Record<string, FieldType>): Record<string, unknown> {
  const body: unknown = req.body;
  if (body === null || typeof body !== 'object' || Array.isArray(body)) throw invalidFields([{ pointer: '', detail: 'The body must be a JSON object' }]);
  const errors: ProblemField[] = [];
  for (const [k, v] of Object.entries(body as Record<string, unknown>)) {
    if (!Object.hasOwn(shape, k)) errors.push({ pointer: `/${k.replace(/~/g, '~0').replace(/\//g, '~1')}`, detail: `Unknown field; accepted: ${Object.keys(shape).join(', ')}` });
    else if (!hasType(v, shape[k])) errors.push({ pointer: `/${k}`, detail: `Must be ${TYPE_TEXT[shape[k]]}` });
  }
  if (errors.length) throw invalidFields(errors);
  return body as Record<string, unknown>;
}

/** The query's parameters, each once and known to the route; a 400 names the others. */
export function queryParams(req: Request, allowed: readonly string[]): Record<string, string> {
  const errors: ProblemField[] = [];
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(req.query)) {
    if (!allowed.includes(k)) errors.push({ parameter: k.slice(0, 100), detail: `Unknown parameter; accepted: ${allowed.join(', ')}` });
    else if (typeof v !== 'string') errors.push({ parameter: k, detail: 'Give it once' });
    else out[k] = v;
  }
  if (errors.length) throw new ApiProblem('invalid-parameters', 'Some query parameters are not valid; see errors.', { errors });
  return out;
}

/**
 * The versions `If-Match` accepts (`"3"`, a list, or `*`). Missing: 428. Weak tags never
 * match (If-Match compares strongly), so `W/"3"` is refused like a stale one.
 */
export function ifMatch(req: Request): { any: true } | { any: false; versions: number[] } {
  const header = req.headers['if-match'];
  if (header === undefined || header.trim() === '') {
    throw new ApiProblem('precondition-required', 'Send If-Match with the ETag from GET /api/v1/tickets/{id}, so a change made meanwhile is not overwritten.', {
      errors: [{ header: 'If-Match', detail: 'Missing' }],
    });
  }
  if (header.trim() === '*') return { any: true };
  const versions: number[] = [];
  for (const part of header.split(',')) {
    const m = /^\s*"(\d{1,9})"\s*$/.exec(part);
    if (m) versions.push(Number(m[1]));
  }
  return { any: false, versions };
}
