import Ajv2020, { type ValidateFunction } from 'ajv/dist/2020';
import addFormats from 'ajv-formats';
import type { Express } from 'express';
import request from 'supertest';
import { openApiDocument } from '../../app/features/api/openapi';

/**
 * Calling the JSON API in tests: every answer is checked against the OpenAPI document
 * (status documented for the operation, content type, body schema, required headers)
 * before the test sees it, so the document cannot drift from what the API does.
 */

type Json = Record<string, unknown>;
const obj = (x: unknown): Json => (x !== null && typeof x === 'object' ? (x as Json) : {});

const BASE = 'https://deskside.test/openapi.json';
const doc = openApiDocument();
const ajv = new Ajv2020({ strict: false, allErrors: true });
addFormats(ajv);
/** Refs inside the document point at `#/components/…`; compiled schemas point at the registered copy. */
const absolute = (schema: unknown): Json => JSON.parse(JSON.stringify(schema).replace(/"#\/components\//g, `"${BASE}#/components/`)) as Json;
ajv.addSchema({ $id: BASE, components: absolute(doc.components) });
const paths = obj(doc.paths);
const components = obj(doc.components);
const compiled = new Map<string, ValidateFunction>();

function validator(schema: Json): ValidateFunction {
  const key = JSON.stringify(schema);
  let v = compiled.get(key);
  if (!v) compiled.set(key, (v = ajv.compile(absolute(schema))));
  return v;
}

const resolve = (x: Json): Json => (typeof x.$ref === 'string' ? x.$ref.split('/').slice(1).reduce<Json>((o, k) => obj(o[k]), doc) : x);

/** Which path of the document an API path is (`/tickets/12` → `/tickets/{id}`). */
function templateOf(path: string): string | undefined {
  return Object.keys(paths).find((t) => new RegExp(`^${t.replace(/\{[^}]+\}/g, '[^/]+').replace(/\./g, '\\.')}$`).test(path));
}

export interface ApiAnswer {
  status: number;
  headers: Record<string, string>;
  text: string;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- tests read answers field by field, as supertest's body
  body: any;
}

/** Every answer the suite has checked, for the coverage test. */
export const seen: { method: string; template: string | undefined; status: number }[] = [];

/** Throws when the answer is not what the document says this operation answers. */
export function checkAgainstDocument(method: string, url: string, res: ApiAnswer): void {
  const path = new URL(url, 'http://x').pathname.replace(/^\/api\/v1/i, '');
  const template = templateOf(path);
  seen.push({ method, template, status: res.status });
  const where = `${method} ${url} → ${res.status}`;
  const op = template ? obj(obj(paths[template])[method === 'HEAD' ? 'get' : method.toLowerCase()]) : {};
  const documented = obj(op.responses);
  let response: Json;
  if (Object.keys(documented).length === 0) {
    // No such operation: only a problem can be the answer.
    if (![404, 405].includes(res.status)) throw new Error(`${where}: no operation in the document, yet not a 404/405`);
    response = resolve(obj(obj(components.responses).ProblemDefault));
  } else {
    const r = documented[String(res.status)] ?? documented[`${String(res.status)[0]}XX`] ?? documented.default;
    if (!r) throw new Error(`${where}: status not documented`);
    response = resolve(obj(r));
    // A documented error must be listed explicitly unless it is one `default` stands for.
    if (!documented[String(res.status)] && res.status < 500 && res.status !== 405) throw new Error(`${where}: ${res.status} is not listed for this operation`);
  }
  for (const [name, h] of Object.entries(obj(response.headers))) {
    if (obj(h).required && res.headers[name.toLowerCase()] === undefined) throw new Error(`${where}: the document requires the ${name} header`);
  }
  if (method === 'HEAD') return;
  const type = (res.headers['content-type'] ?? '').split(';')[0].trim();
  const media = obj(response.content)[type];
  if (!media) throw new Error(`${where}: content type "${type}" is not documented (documented: ${Object.keys(obj(response.content)).join(', ') || 'none'})`);
  const validate = validator(obj(obj(media).schema));
  if (!validate(JSON.parse(res.text))) throw new Error(`${where}: the body does not match the document: ${ajv.errorsText(validate.errors, { separator: '\n  ' })}\n${res.text.slice(0, 2000)}`);
}

export interface Caller {
  /** An API token (Authorization: Bearer). */
  token?: string;
  /** A login the trusted proxy names (the test app's Windows identity). */
  login?: string;
  /** A cookie-keeping agent (a browser session); with `csrf`, its token in X-CSRF-Token. */
  agent?: request.Agent;
  csrf?: string;
  headers?: Record<string, string>;
}

export interface SendOptions {
  /** A value to send as JSON, or raw text. */
  body?: unknown;
  type?: string;
  headers?: Record<string, string>;
}

/** A caller of the API in tests; each answer is checked against the document. */
export function api(app: Express, caller: Caller = {}) {
  async function send(method: 'GET' | 'POST' | 'PATCH' | 'PUT' | 'DELETE' | 'HEAD' | 'OPTIONS', url: string, opts: SendOptions = {}): Promise<ApiAnswer> {
    const full = url.startsWith('/api/') ? url : `/api/v1${url}`;
    const base = caller.agent ?? request(app);
    const verbs: Record<typeof method, (url: string) => request.Test> = {
      GET: (u) => base.get(u),
      POST: (u) => base.post(u),
      PATCH: (u) => base.patch(u),
      PUT: (u) => base.put(u),
      DELETE: (u) => base.delete(u),
      HEAD: (u) => base.head(u),
      OPTIONS: (u) => base.options(u),
    };
    let t = verbs[method](full);
    const headers: Record<string, string> = { ...caller.headers, ...opts.headers };
    if (caller.token) headers.Authorization = `Bearer ${caller.token}`;
    if (caller.login) headers['X-Remote-User'] = caller.login;
    if (caller.csrf) headers['X-CSRF-Token'] = caller.csrf;
    for (const [k, v] of Object.entries(headers)) t = t.set(k, v);
    if (opts.body !== undefined) {
      t = t.set('Content-Type', opts.type ?? 'application/json').send(typeof opts.body === 'string' ? opts.body : JSON.stringify(opts.body));
    } else if (opts.type) t = t.set('Content-Type', opts.type);
    const res = await t;
    const answer: ApiAnswer = { status: res.status, headers: res.headers, text: res.text ?? '', body: res.text ? safeJson(res.text) : undefined };
    checkAgainstDocument(method, full, answer);
    return answer;
  }
  return {
    send,
    get: (url: string, opts?: SendOptions) => send('GET', url, opts),
    post: (url: string, body: unknown, opts: SendOptions = {}) => send('POST', url, { ...opts, body }),
    patch: (url: string, body: unknown, opts: SendOptions = {}) => send('PATCH', url, { ...opts, body }),
  };
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
