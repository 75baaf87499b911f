import { PROBLEM_TYPES } from './problem';

/**
 * The OpenAPI document as a page for people (/api): the same document the API
 * serves, turned into plain tables by this module and rendered by views/api.ejs,
 * with no script and nothing from another site.
 */

type Json = Record<string, unknown>;

const obj = (x: unknown): Json => (x !== null && typeof x === 'object' && !Array.isArray(x) ? (x as Json) : {});
const str = (x: unknown): string => (typeof x === 'string' ? x : '');

export interface TypeText {
  /** Plain words, e.g. "string (date-time) or null". */
  text: string;
  /** Component schemas it names, to link to. */
  refs: string[];
}

/** A schema in a few words: its type, format, allowed values, and the schemas it names. */
export function typeText(schema: unknown): TypeText {
  const s = obj(schema);
  if (typeof s.$ref === 'string') {
    const name = s.$ref.split('/').pop()!;
    return { text: name, refs: [name] };
  }
  const parts = (xs: unknown[], joiner: string): TypeText => {
    const each = xs.map(typeText);
    return { text: each.map((e) => e.text).join(joiner), refs: each.flatMap((e) => e.refs) };
  };
  if (Array.isArray(s.anyOf)) return parts(s.anyOf, ' or ');
  if (Array.isArray(s.allOf)) {
    const base = parts(s.allOf, ' and ');
    return { text: `${base.text} and more`, refs: base.refs };
  }
  if (s.type === 'array') {
    const item = typeText(s.items);
    return { text: `list of ${item.text}`, refs: item.refs };
  }
  if (Array.isArray(s.enum)) return { text: `one of ${s.enum.map((v) => JSON.stringify(v)).join(', ')}`, refs: [] };
  const type = str(s.type) || 'any value';
  const limits = [s.format ? str(s.format) : '', typeof s.maxLength === 'number' ? `at most ${s.maxLength} characters` : '', typeof s.minimum === 'number' && typeof s.maximum === 'number' ? `${s.minimum}–${s.maximum}` : ''].filter(Boolean);
  return { text: limits.length ? `${type} (${limits.join(', ')})` : type, refs: [] };
}

export interface FieldRow {
  name: string;
  type: TypeText;
  required: boolean;
  description: string;
}

/** The fields of an object schema (its own and those of schemas it extends). */
export function fieldsOf(schema: unknown, schemas: Json): FieldRow[] {
  const s = obj(schema);
  if (typeof s.$ref === 'string') return fieldsOf(schemas[s.$ref.split('/').pop()!], schemas);
  const inherited = Array.isArray(s.allOf) ? s.allOf.flatMap((x) => fieldsOf(x, schemas)) : [];
  const required = new Set(Array.isArray(s.required) ? s.required.map(String) : []);
  const own = Object.entries(obj(s.properties)).map(([name, p]) => ({ name, type: typeText(p), required: required.has(name), description: str(obj(p).description) }));
  return [...inherited, ...own];
}

export interface OperationView {
  id: string;
  method: string;
  path: string;
  summary: string;
  description: string;
  who: string;
  parameters: { name: string; in: string; required: boolean; type: TypeText; description: string }[];
  body?: { types: string[]; fields: FieldRow[]; schema: string };
  responses: { status: string; description: string; type?: TypeText; headers: string[] }[];
}

function whoMayCall(security: unknown): string {
  const options = Array.isArray(security) ? security.map((s) => Object.keys(obj(s))) : [];
  const words = options.map((keys) => (keys.length === 0 ? 'anyone (guests too)' : keys.map((k) => ({ token: 'a token', windows: 'Windows sign-in', session: 'the session cookie', csrf: 'X-CSRF-Token' })[k] ?? k).join(' with ')));
  return words.join(', ');
}

function responseOf(r: unknown, doc: Json): Json {
  const x = obj(r);
  return typeof x.$ref === 'string' ? obj(obj(obj(doc.components).responses)[x.$ref.split('/').pop()!]) : x;
}

export interface DocsView {
  title: string;
  description: string;
  base: string;
  operations: OperationView[];
  webhooks: OperationView[];
  schemas: { name: string; description: string; fields: FieldRow[] }[];
  problems: { type: string; status: number; title: string }[];
}

function operation(method: string, path: string, op: Json, shared: unknown[], doc: Json, schemas: Json): OperationView {
  const own: unknown[] = Array.isArray(op.parameters) ? (op.parameters as unknown[]) : [];
  const params = [...shared, ...own].map((p) => {
    const x = obj(p);
    return { name: str(x.name), in: str(x.in), required: x.required === true, type: typeText(x.schema), description: str(x.description) };
  });
  const content = obj(obj(op.requestBody).content);
  const firstSchema = Object.values(content).map((m) => obj(m).schema)[0];
  return {
    id: str(op.operationId),
    method: method.toUpperCase(),
    path,
    summary: str(op.summary),
    description: str(op.description),
    who: whoMayCall(op.security ?? doc.security),
    parameters: params,
    body: firstSchema ? { types: Object.keys(content), fields: fieldsOf(firstSchema, schemas), schema: typeText(firstSchema).text } : undefined,
    responses: Object.entries(obj(op.responses)).map(([status, r]) => {
      const x = responseOf(r, doc);
      const media = Object.entries(obj(x.content))[0];
      return { status, description: str(x.description), type: media ? typeText(obj(media[1]).schema) : undefined, headers: Object.keys(obj(x.headers)) };
    }),
  };
}

export function docsView(doc: Json): DocsView {
  const schemas = obj(obj(doc.components).schemas);
  const operations: OperationView[] = [];
  for (const [path, item] of Object.entries(obj(doc.paths))) {
    const shared = Array.isArray(obj(item).parameters) ? (obj(item).parameters as unknown[]) : [];
    for (const method of ['get', 'post', 'patch', 'put', 'delete']) {
      const op = obj(item)[method];
      if (op) operations.push(operation(method, path, obj(op), shared, doc, schemas));
    }
  }
  const webhooks = Object.values(obj(doc.webhooks)).map((w) => operation('post', '(your receiver)', obj(obj(w).post), [], doc, schemas));
  return {
    title: str(obj(doc.info).title),
    description: str(obj(doc.info).description),
    base: str(obj(Array.isArray(doc.servers) ? doc.servers[0] : {}).url),
    operations,
    webhooks,
    schemas: Object.entries(schemas).map(([name, s]) => ({ name, description: str(obj(s).description), fields: fieldsOf(s, schemas) })),
    problems: Object.entries(PROBLEM_TYPES).map(([type, p]) => ({ type, status: p.status, title: p.title })),
  };
}
