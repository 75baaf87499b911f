import fc from 'fast-check';
import request from 'supertest';
import { client, csrfFrom, makeApp, type TestApp } from '../support/app';
import { listRoutes } from '../support/routes';
import { fingerprint } from '../support/snapshot';
import { recordFigure } from './figures';

/**
 * Property-based bad input: generated requests across every route and parameter. No
 * answer may be a 500, and a request that is refused (4xx) must leave the data as it was.
 */
const RUNS = Number(process.env.DESKSIDE_FUZZ_RUNS ?? 10_000);

/** Percent-encode any string byte by byte (lone surrogates included, unlike encodeURIComponent). */
function enc(s: string): string {
  return [...Buffer.from(s, 'utf8')].map((b) => (/[A-Za-z0-9._~-]/.test(String.fromCharCode(b)) ? String.fromCharCode(b) : `%${b.toString(16).toUpperCase().padStart(2, '0')}`)).join('');
}

const nasty = fc.oneof(
  fc.string({ maxLength: 40 }),
  fc.string({ unit: 'grapheme', maxLength: 30 }),
  fc.constantFrom('', ' ', '0', '-1', '1e9', '99999999999999999999', 'NaN', 'null', 'undefined', '[]', '{}', '..', '../../etc/passwd', '%00', '\u0000', '\uFEFF', '\uD800', "' OR 1=1 --", '<script>alert(1)</script>', '*)(uid=*', 'CORP\\alice', 'me', 'none', 'é'.repeat(300)),
  fc.integer({ min: -2_147_483_649, max: 2_147_483_649 }).map(String),
  fc.constant('x'.repeat(5000)),
);
const percentGarbage = fc.constantFrom('%FF', '%C3%28', '%E0%80%AF', '%', '%zz', '%00', '%ED%A0%80');

const idArb = fc.oneof(fc.integer({ min: -5, max: 6 }).map(String), nasty.map((s) => enc(s)), percentGarbage);
const pathArb = fc.oneof(
  fc.constant('/'),
  fc.constant('/tickets'),
  fc.constant('/tickets/new'),
  idArb.map((id) => `/tickets/${id}`),
  idArb.map((id) => `/tickets/${id}/comments`),
  fc.constant('/me'),
  fc.constant('/sign-in'),
  fc.constant('/sign-out'),
  fc.constant('/admin/categories'),
  fc.constant('/admin/mail'),
  fc.constant('/admin/mail/test'),
  fc.constant('/me/notifications'),
  fc.tuple(idArb, idArb).map(([a, b]) => `/tickets/${a}/mail/${b}`),
  idArb.map((id) => `/admin/categories/${id}`),
  fc.constant('/admin/teams'),
  idArb.map((id) => `/admin/teams/${id}`),
  fc.constant('/admin/service-levels'),
  fc.constant('/dashboard'),
  idArb.map((id) => `/dashboard/${id}.csv`),
  fc.constant('/healthz'),
  // The JSON API, its page, tokens and webhooks.
  fc.constant('/api/v1/tickets'),
  idArb.map((id) => `/api/v1/tickets/${id}`),
  idArb.map((id) => `/api/v1/tickets/${id}/comments`),
  fc.constantFrom('/api/v1/me', '/api/v1/people', '/api/v1/categories', '/api/v1/known-issues', '/api/v1/openapi.json', '/api', '/me/tokens', '/admin/tokens', '/admin/webhooks'),
  idArb.map((id) => `/api/v1/known-issues/${id}`),
  idArb.map((id) => `/me/tokens/${id}/revoke`),
  idArb.map((id) => `/admin/webhooks/${id}`),
  percentGarbage.map((g) => `/${g}`),
  nasty.map((s) => `/${enc(s)}`),
);
const queryKeys = fc.constantFrom('status', 'priority', 'category', 'assignee', 'requester', 'q', 'sort', 'page', 'limit', 'cursor', 'returnTo', 'created', 'saved', '__proto__', 'constructor');
// (status and page also drive /admin/mail's outbox tabs.)
const queryArb = fc.array(fc.tuple(queryKeys, fc.oneof(nasty, percentGarbage)), { maxLength: 5 }).map((pairs) =>
  pairs.length ? `?${pairs.map(([k, v]) => `${k}=${/^%/.test(v) ? v : enc(v)}`).join('&')}` : '',
);
const fieldKeys = fc.constantFrom(
  'title', 'description', 'category', 'priority', 'status', 'assignee', 'version', 'body', 'internal', 'action', 'name', 'sortOrder', 'active', 'login', 'returnTo', 'to', 'my_tickets', 'assigned', 'new_tickets', '__proto__',
  'team', 'defaultTeam', 'directoryGroup', 'members', 'timeZone', 'holidays', 'atRiskPercent', 'hours.mon.0.start', 'hours.mon.0.end', 'targets.urgent.response', 'exceptions.0.category', 'exceptions.0.priority',
  'scope', 'role', 'days', 'url', 'events', 'format', 'linkBase', 'requester', 'channel', 'teams', 'priorities',
);
/** A JSON value of any kind, for the API's fields. */
const jsonValue = fc.oneof(nasty, fc.integer(), fc.double(), fc.boolean(), fc.constant(null), fc.array(fc.integer(), { maxLength: 3 }), fc.dictionary(fc.string({ maxLength: 5 }), fc.string({ maxLength: 5 }), { maxKeys: 2 }));
const bodyArb = fc.oneof(
  fc.array(fc.tuple(fieldKeys, jsonValue), { maxLength: 6 }).map((pairs) => ({ kind: 'json' as const, json: JSON.stringify(Object.fromEntries(pairs)), pairs: [] as [string, string][] })),
  fc.array(fc.tuple(fieldKeys, fc.oneof(nasty, percentGarbage)), { maxLength: 8 }).map((pairs) => ({ kind: 'form' as const, pairs })),
  fc.constant({ kind: 'oversized' as const, pairs: [] as [string, string][] }),
  fc.constantFrom('application/json', 'text/plain', 'multipart/form-data; boundary=x', 'application/x-www-form-urlencoded; charset=latin1').map((type) => ({ kind: 'other' as const, type, pairs: [] as [string, string][] })),
  fc.constant({ kind: 'invalid-utf8' as const, pairs: [] as [string, string][] }),
);
const who = fc.constantFrom(undefined, 'TEST\\alice', 'TEST\\bob', 'TEST\\agent1', 'TEST\\admin1');
const method = fc.constantFrom('GET', 'GET', 'POST', 'POST', 'POST', 'PUT', 'DELETE', 'PATCH', 'HEAD', 'OPTIONS');

describe('bad input', () => {
  let t: TestApp;
  const tokens = new Map<string, { agent: ReturnType<typeof client>; token: string }>();

  beforeAll(async () => {
    // Mail on, so its pages and forms are fuzzed too (no sender runs: nothing is sent).
    t = await makeApp({ env: { NODE_ENV: 'production', DESKSIDE_SMTP_URL: 'smtp://127.0.0.1:1', DESKSIDE_MAIL_FROM: 'helpdesk@corp.example', DESKSIDE_PUBLIC_URL: 'https://helpdesk.corp.example' } });
    const alice = client(t.app, 'TEST\\alice');
    for (let i = 0; i < 3; i++) await alice.post('/tickets', { title: `Ticket ${i}`, description: 'd', category: '1', priority: 'low' });
    for (const login of ['TEST\\alice', 'TEST\\bob', 'TEST\\agent1', 'TEST\\admin1']) {
      const c = client(t.app, login);
      tokens.set(login, { agent: c, token: csrfFrom((await c.get('/tickets/new')).text) });
    }
  });
  afterAll(() => t.close());

  test(`when ${RUNS.toLocaleString('en-GB')} malformed requests arrive, then none is a 500 and refused ones change nothing`, async () => {
    let sent = 0;
    let fiveHundreds = 0;
    let changedOnRefusal = 0;
    let oversized = 0;
    let oversized413 = 0;
    const statuses = new Map<number, number>();
    const problems: string[] = [];
    await fc.assert(
      fc.asyncProperty(method, pathArb, queryArb, bodyArb, who, fc.boolean(), async (m, p, q, body, login, withToken) => {
        const url = p + q;
        const session = login ? tokens.get(login)! : undefined;
        const agent = session ? session.agent.agent : request(t.app);
        let r = (agent as unknown as Record<string, (u: string) => request.Test>)[m.toLowerCase()](url);
        if (login) r = r.set('X-Remote-User', login);
        if (m === 'POST' || m === 'PUT' || m === 'PATCH') {
          const pairs = [...body.pairs];
          if (withToken && session) pairs.push(['_csrf', session.token]);
          const encoded = pairs.map(([k, v]) => `${enc(k)}=${/^%/.test(v) ? v : enc(v)}`).join('&');
          if (body.kind === 'oversized') {
            oversized++;
            r = r.type('form').send(`${withToken && session ? `_csrf=${session.token}&` : ''}description=${'a'.repeat(70_000)}`);
          } else if (body.kind === 'json') r = r.set('Content-Type', 'application/json').set('If-Match', '*').send(body.json);
          else if (body.kind === 'other') r = r.set('Content-Type', body.type).send('{"title":"x"}');
          else if (body.kind === 'invalid-utf8') r = r.set('Content-Type', 'application/x-www-form-urlencoded').send(Buffer.concat([Buffer.from(`${withToken && session ? `_csrf=${session.token}&` : ''}title=`), Buffer.from([0xff, 0xfe, 0xc3, 0x28]), Buffer.from('&description=x&category=1&priority=low')]));
          else r = r.type('form').send(encoded);
        }
        const before = await fingerprint(t.database);
        let res: request.Response;
        try {
          res = await r;
        } catch (err) {
          problems.push(`${m} ${url}: client error ${(err as Error).message}`);
          return;
        }
        sent++;
        statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
        if (body.kind === 'oversized' && (m === 'POST' || m === 'PUT' || m === 'PATCH') && res.status === 413) oversized413++;
        if (res.status >= 500) {
          fiveHundreds++;
          problems.push(`${m} ${url} (${body.kind}) -> ${res.status}`);
        }
        if (res.status >= 400) {
          const after = await fingerprint(t.database);
          if (after !== before) {
            changedOnRefusal++;
            problems.push(`${m} ${url} (${body.kind}) -> ${res.status} but data changed`);
          }
        }
      }),
      { numRuns: RUNS, seed: Number(process.env.DESKSIDE_FUZZ_SEED ?? 20261128), endOnFailure: false },
    );
    const routes = listRoutes(t.app).length;
    recordFigure('malformed requests sent', sent, `>= ${RUNS.toLocaleString('en-GB')}`, sent >= RUNS);
    recordFigure('responses with status 500', fiveHundreds, '0', fiveHundreds === 0);
    recordFigure('refused requests that changed data', changedOnRefusal, '0', changedOnRefusal === 0);
    recordFigure('oversized bodies answered 413', `${oversized413}/${oversized}`, 'all (of those reaching the body parser)', oversized413 > 0);
    void routes;
    // How the answers spread: the run must reach the handlers, not stop at the CSRF wall.
    recordFigure('answers by status', [...statuses].sort((a, b) => a[0] - b[0]).map(([k, v]) => `${k}:${v}`).join(' '), 'some 2xx/3xx and some 400', (statuses.get(400) ?? 0) > 0 && [...statuses.keys()].some((k) => k < 400));
    expect(problems.slice(0, 20)).toEqual([]);
    expect(sent).toBeGreaterThanOrEqual(RUNS);
  });
});
