import { readFileSync } from 'node:fs';
import path from 'node:path';
import { XMLParser } from 'fast-xml-parser';

/**
 * web.config and iisnode.yml are production configuration that no test server runs;
 * this suite reads them the way IIS and iisnode do and checks each setting that keeps
 * the site safe, so nobody breaks one unnoticed.
 */
const root = path.resolve(__dirname, '..', '..');
const webConfigXml = readFileSync(path.join(root, 'web.config'), 'utf8');
const parser = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '', isArray: (name) => ['add', 'rule', 'remove'].includes(name) });
// eslint-disable-next-line @typescript-eslint/no-explicit-any
const cfg: any = parser.parse(webConfigXml).configuration;
const ws = cfg['system.webServer'];

/** iisnode.yml as iisnode parses it: one `key: value` per line, # comments. */
function parseIisnodeYml(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split(/\r?\n/)) {
    const trimmed = line.replace(/#.*$/, '').trim();
    if (!trimmed) continue;
    const colon = trimmed.indexOf(':');
    out[trimmed.slice(0, colon).trim()] = trimmed.slice(colon + 1).trim();
  }
  return out;
}
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

  test('when a request is rewritten, then client-sent X-iisnode headers are refused first', () => {
    const rules = ws.rewrite.rules.rule;
    const refuse = rules[0];
    expect(refuse.action.type).toBe('CustomResponse');
    expect(refuse.action.statusCode).toBe('400');
    expect(refuse.stopProcessing).toBe('true');
    expect(refuse.conditions.logicalGrouping).toBe('MatchAny');
    const inputs = refuse.conditions.add.map((c: { input: string }) => c.input);
    for (const v of ['LOGON_USER', 'AUTH_USER', 'AUTH_TYPE']) expect(inputs).toContain(`{HTTP_X_IISNODE_${v}}`);
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
    expect(segments).toEqual(expect.arrayContaining(['node_modules', 'iisnode', '.git', 'App_Data']));
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

  test('when iisnode runs, then it promotes the identity variables and never shows errors or a debugger', () => {
    const el = ws.iisnode;
    expect(el.promoteServerVars.split(',')).toEqual(expect.arrayContaining(['LOGON_USER', 'AUTH_USER', 'AUTH_TYPE']));
    expect(el.devErrorsEnabled).toBe('false');
    expect(el.debuggingEnabled).toBe('false');
    expect(el.node_env).toBe('production');
  });

  test('when appSettings become environment variables, then every key is one Deskside knows', () => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { KEY_DOCS } = require('../../app/config/schema') as typeof import('../../app/config/schema');
    const known = new Set(KEY_DOCS.map((k) => k.key));
    for (const s of cfg.appSettings.add as { key: string }[]) expect(known.has(s.key)).toBe(true);
    const identity = (cfg.appSettings.add as { key: string; value: string }[]).find((s) => s.key === 'DESKSIDE_IDENTITY');
    expect(identity?.value).toBe('iisnode');
  });
});

describe('iisnode.yml', () => {
  test('when iisnode reads it, then it holds the same safe settings as web.config', () => {
    const el = ws.iisnode as Record<string, string>;
    for (const key of Object.keys(el)) expect({ key, value: yml[key] }).toEqual({ key, value: el[key] });
    expect(yml.devErrorsEnabled).toBe('false');
    expect(yml.debuggingEnabled).toBe('false');
    expect(yml.promoteServerVars.split(',')).toEqual(expect.arrayContaining(['LOGON_USER', 'AUTH_USER', 'AUTH_TYPE']));
  });
});
