import { API_ROUTES } from '../../app/features/api/api.routes';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import fc from 'fast-check';
import { XMLParser } from 'fast-xml-parser';
import { parseIisnodeYml } from '../support/iis-facts';
import { parseConfig } from '../../app/config/schema';
import { defaultMaxBodyBytes } from '../../app/features/attachments/multipart';

/**
 * web.config and iisnode.yml are production configuration that no test server runs;
 * this suite reads them the way IIS and iisnode do and checks each setting that keeps
 * the site safe, so nobody breaks one unnoticed.
 */
const root = path.resolve(__dirname, '..', '..');
const webConfigXml = readFileSync(path.join(root, 'web.config'), 'utf8');
const parser = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '', isArray: (name) => ['add', 'rule', 'remove'].includes(name) });
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- web.config as parsed XML has no type; the tests check its shape
const cfg: any = parser.parse(webConfigXml).configuration;
const ws = cfg['system.webServer'];

const yml = parseIisnodeYml(readFileSync(path.join(root, 'iisnode.yml'), 'utf8'));

describe('web.config', () => {
  test('when IIS loads it, then the iisnode handler is the root entry, which loads the compiled app', () => {
    const handler = ws.handlers.add.find((h: { modules: string }) => h.modules === 'iisnode');
    expect(handler).toBeDefined();
    // iisnode looks for iisnode.yml, the log folder and watchedFiles beside the handler's
    // script (Azure/iisnode cmoduleconfiguration.cpp ApplyYamlConfigOverrides, interceptor.js).
    expect(handler.path).toBe('server.js');
    const pkg = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8'));
    expect(pkg.main).toBe(handler.path);
    expect(readFileSync(path.join(root, 'server.js'), 'utf8')).toMatch(/^require\('\.\/dist\/server\.js'\);$/m);
  });

  test('when a request is rewritten, then the rule refusing client-sent X-iisnode headers runs first, on the raw headers', () => {
    const rules = ws.rewrite.rules.rule;
    const refuse = rules[0];
    expect(refuse.action).toMatchObject({ type: 'CustomResponse', statusCode: '400' });
    expect(refuse.stopProcessing).toBe('true');
    expect(refuse.match.url).toBe('.*');
    expect(refuse.conditions.add).toHaveLength(1);
    expect(refuse.conditions.add[0].input).toBe('{ALL_RAW}');
    // IIS looks {HTTP_X_...} up with each _ read as -, so no such input can see X-iisnode-LOGON_USER.
    const inputs = rules.flatMap((r: { conditions?: { add?: { input: string }[] } }) => r.conditions?.add ?? []).map((c: { input: string }) => c.input);
    expect(inputs.filter((i: string) => /HTTP_X_IISNODE/i.test(i))).toEqual([]);
  });

  test('when a file exists under public/, then IIS serves it and everything else goes to the app', () => {
    const rules = ws.rewrite.rules.rule;
    const statics = rules.find((r: { name: string }) => r.name === 'Static files');
    expect(statics.match.url).toBe('^public/.+');
    expect(statics.conditions.add[0]).toMatchObject({ input: '{REQUEST_FILENAME}', matchType: 'IsFile' });
    expect(statics.action.type).toBe('None');
    const last = rules[rules.length - 1];
    expect(last.match.url).toBe('.*');
    expect(last.action).toMatchObject({ type: 'Rewrite', url: 'server.js' });
  });

  test('when a URL names node_modules, the iisnode logs or .git, then IIS hides it', () => {
    const segments = ws.security.requestFiltering.hiddenSegments.add.map((s: { segment: string }) => s.segment);
    expect(segments).toEqual(expect.arrayContaining(['node_modules', 'iisnode', '.git', 'App_Data', 'dist', 'deploy']));
  });

  test('when the API and its pages are asked for through IIS, then no segment of their addresses is one IIS hides', () => {
    const hidden = new Set<string>(ws.security.requestFiltering.hiddenSegments.add.map((s: { segment: string }) => s.segment.toLowerCase()));
    const paths = ['/api', '/me/tokens', '/admin/tokens', '/admin/webhooks', ...API_ROUTES.map((r) => `/api/v1${r.path}`)];
    const refused = paths.filter((p) => p.split('/').some((segment) => hidden.has(segment.toLowerCase())));
    expect(refused).toEqual([]);
  });

  test('when files are posted, then IIS lets through under /tickets what Deskside reads with its default limits, and keeps 1 MB elsewhere', () => {
    const { maxPostBytes } = parseConfig({}).attachments;
    const location = cfg.location;
    expect(location.path).toBe('tickets');
    const limit = Number(location['system.webServer'].security.requestFiltering.requestLimits.maxAllowedContentLength);
    expect(limit).toBeGreaterThanOrEqual(defaultMaxBodyBytes(maxPostBytes));
    expect(Number(ws.security.requestFiltering.requestLimits.maxAllowedContentLength)).toBe(1048576);
  });

  test('when the app answers an error, then IIS passes its page through unchanged', () => {
    expect(ws.httpErrors.existingResponse).toBe('PassThrough');
  });

  test('when the site starts, then Windows and anonymous authentication are both enabled', () => {
    const auth = ws.security.authentication;
    expect(auth.anonymousAuthentication.enabled).toBe('true');
    expect(auth.windowsAuthentication.enabled).toBe('true');
    const providers = auth.windowsAuthentication.providers.add.map((p: { value: string }) => p.value);
    expect(providers).toEqual(['Negotiate', 'NTLM']);
  });

  test('when a Windows sign-in completes, then IIS forgets it with the request instead of trusting the connection', () => {
    // Deskside's session cookie carries the person afterwards; a pooled connection must not.
    expect(ws.security.authentication.windowsAuthentication.authPersistSingleRequest).toBe('true');
  });

  test('when iisnode runs, then it promotes the identity variables and never shows errors or a debugger', () => {
    const el = ws.iisnode;
    expect(el.promoteServerVars.split(',')).toEqual(expect.arrayContaining(['LOGON_USER', 'AUTH_USER', 'AUTH_TYPE']));
    expect(el.devErrorsEnabled).toBe('false');
    expect(el.debuggingEnabled).toBe('false');
    expect(el.node_env).toBe('production');
  });

  test('when appSettings become environment variables, then they hold only what every site shares', () => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- loaded inside the test so a config import error fails this test alone
    const { KEY_DOCS } = require('../../app/config/schema') as typeof import('../../app/config/schema');
    const known = new Set(KEY_DOCS.map((k) => k.key));
    const settings = cfg.appSettings.add as { key: string; value: string }[];
    for (const s of settings) expect(known.has(s.key)).toBe(true);
    // Every update replaces web.config: a site's groups, directory and database belong in
    // App_Data\settings.env. NODE_ENV comes from <iisnode node_env>; both would put it in
    // node's environment twice.
    expect(settings).toEqual([{ key: 'DESKSIDE_IDENTITY', value: 'iisnode' }]);
    expect(ws.iisnode.node_env).toBe('production');
  });
});

describe('iisnode.yml', () => {
  test('when iisnode reads it, then it holds exactly the settings of web.config', () => {
    expect(yml).toEqual(ws.iisnode);
    expect(yml.devErrorsEnabled).toBe('false');
    expect(yml.debuggingEnabled).toBe('false');
  });
});

describe('the iisnode settings', () => {
  test('when iisnode starts node, then it names node.exe by full path, quoted for the space in Program Files', () => {
    // Both forms expand environment variables: web.config's through the schema's
    // expanded="true", iisnode.yml's through ExpandEnvironmentStringsW (Azure/iisnode
    // src/config/iisnode_schema.xml, src/iisnode/cmoduleconfiguration.cpp).
    expect(ws.iisnode.nodeProcessCommandLine).toMatch(/^"%ProgramFiles%\\nodejs\\node\.exe"( |$)/);
  });

  test('when iisnode starts node, then the V8 options that bound its memory come after node.exe, as npm run bench starts it', () => {
    // iisnode appends the interceptor and the script to this line (cnodeprocess.cpp), so
    // options here reach node; bench/run.ts reads them from iisnode.yml.
    expect(ws.iisnode.nodeProcessCommandLine.split(' ').slice(1)).toEqual(['--max-semi-space-size=4', '--heap-growing-percent=100']);
    expect(readFileSync(path.join(root, 'bench', 'run.ts'), 'utf8')).toContain("readFileSync(path.join(ROOT, 'iisnode.yml')");
  });

  test('when iisnode forwards a request, then it promotes the identity variables, HTTPS and the client address', () => {
    expect(ws.iisnode.promoteServerVars.split(',')).toEqual(['LOGON_USER', 'AUTH_USER', 'AUTH_TYPE', 'HTTPS', 'REMOTE_ADDR']);
  });

  test('when a release replaces the entry, the app or the settings, then iisnode restarts node', () => {
    const watched = ws.iisnode.watchedFiles.split(';');
    expect(watched).toEqual(expect.arrayContaining(['iisnode.yml', 'server.js', 'dist\\*.js', 'App_Data\\settings.env']));
    expect(ws.iisnode.logDirectory).toBe('iisnode');
  });
});

describe('the X-iisnode header wall', () => {
  const condition = ws.rewrite.rules.rule[0].conditions.add[0];
  // URL Rewrite matches condition patterns as ECMAScript regular expressions, ignoring case
  // unless ignoreCase="false" (URL Rewrite Module Configuration Reference), with no
  // multiline flag: the same as this RegExp.
  const wall = new RegExp(condition.pattern, condition.ignoreCase === 'false' ? '' : 'i');
  // {ALL_RAW}: every header line as the client sent it, each ending in CRLF.
  const allRaw = (headers: [string, string][]) => headers.map(([k, v]) => `${k}: ${v}\r\n`).join('');
  const ordinary: [string, string][] = [
    ['Host', 'helpdesk.corp.example'],
    ['User-Agent', 'Mozilla/5.0 (Windows NT 10.0; Win64; x64)'],
    ['Accept', 'text/html'],
    ['Cookie', 'deskside_session=abc'],
  ];
  const identityHeaders = ['X-iisnode-LOGON_USER', 'X-iisnode-AUTH_USER', 'X-iisnode-AUTH_TYPE', 'X-iisnode-HTTPS', 'X-iisnode-REMOTE_ADDR', 'X-iisnode-anything'];

  test('when a client sends an X-iisnode header in any letter case, anywhere among its headers, then the pattern matches', () => {
    const anyCase = (s: string) => fc.array(fc.boolean(), { minLength: s.length, maxLength: s.length }).map((up) => [...s].map((c, i) => (up[i] ? c.toUpperCase() : c.toLowerCase())).join(''));
    fc.assert(
      fc.property(fc.constantFrom(...identityHeaders).chain(anyCase), fc.nat(ordinary.length), fc.string(), (name, at, value) => {
        const headers = [...ordinary];
        headers.splice(at, 0, [name, value.replace(/[\r\n]/g, '')]);
        expect(wall.test(allRaw(headers))).toBe(true);
      }),
    );
    expect(wall.test(allRaw([['x-IISNODE-logon_user', 'CORP\\erin'], ...ordinary]))).toBe(true);
  });

  test.each<[string, [string, string][]]>([
    ['an ordinary browser request', ordinary],
    ['iisnode in a value', [...ordinary, ['Referer', 'https://x/?X-iisnode-LOGON_USER=CORP%5Cerin']]],
    ['X-iisnode- inside another header name', [...ordinary, ['X-Not-iisnode-Foo', '1']]],
    ['a header merely starting like one', [...ordinary, ['X-iisnodeish', '1']]],
    ['X-iisnode- after text in a cookie', [['Cookie', 'a=1; X-iisnode-LOGON_USER=CORP\\erin'], ...ordinary]],
  ])('when a request carries %s, then the pattern does not match', (_what, headers) => {
    expect(wall.test(allRaw(headers))).toBe(false);
  });
});
