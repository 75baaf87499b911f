import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { XMLParser } from 'fast-xml-parser';
import { COLLECTIONS, ELEMENT_ATTRIBUTES, IISNODE_ATTRIBUTES, IISNODE_YML_KEYS, LOCATION_ATTRIBUTES, SECTION_GROUPS, SECTIONS, STOCK_MIME_TYPES, parseIisnodeYml } from '../support/iis-facts';

/**
 * web.config against what a stock IIS 10 (with iisnode and URL Rewrite 2.1) already holds:
 * the checks IIS makes before it serves a single URL, each of which otherwise ends in
 * HTTP 500.19 on the first request. The facts are data in tests/support/iis-facts.ts.
 */
const root = path.resolve(__dirname, '..', '..');
const webConfigXml = readFileSync(path.join(root, 'web.config'), 'utf8');

interface Element {
  name: string;
  attrs: Record<string, string>;
  children: Element[];
}

type Ordered = Record<string, unknown> & { ':@'?: Record<string, string> };

function toElements(nodes: Ordered[]): Element[] {
  const out: Element[] = [];
  for (const node of nodes) {
    const name = Object.keys(node).find((k) => k !== ':@')!;
    if (name.startsWith('#') || name.startsWith('?')) continue;
    out.push({ name, attrs: node[':@'] ?? {}, children: toElements(node[name] as Ordered[]) });
  }
  return out;
}

function configurationOf(xml: string): Element {
  const parser = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '', preserveOrder: true, parseAttributeValue: false });
  const top = toElements(parser.parse(xml) as Ordered[]);
  const configuration = top.find((e) => e.name === 'configuration');
  if (!configuration) throw new Error('no <configuration> element');
  return configuration;
}

/** The sections under <configuration>, and those inside each <location> (for one path of the site). */
function sectionsOf(configuration: Element, problems: string[] = []): Element[] {
  return configuration.children.flatMap((el) => {
    if (el.name !== 'location') return [el];
    for (const attr of Object.keys(el.attrs)) if (!LOCATION_ATTRIBUTES.includes(attr)) problems.push(`<location>: unrecognized attribute "${attr}"`);
    if (!el.attrs.path) problems.push('<location>: no path');
    return el.children;
  });
}

const isUint = (v: string) => /^\d+$/.test(v);
const isBool = (v: string) => v === 'true' || v === 'false';

/** Every objection a stock IIS 10 would raise against this web.config; none means it loads. */
function stockIisProblems(xml: string, unlocked: string[]): string[] {
  const problems: string[] = [];

  const checkElement = (el: Element, where: string) => {
    const allowed = ELEMENT_ATTRIBUTES[where];
    if (!allowed) problems.push(`<${where}>: no schema facts for this element (add them to tests/support/iis-facts.ts with their source)`);
    for (const [attr, value] of Object.entries(el.attrs)) {
      if (allowed && !allowed.includes(attr)) problems.push(`<${where}>: unrecognized attribute "${attr}"`);
      const type = where === 'system.webServer/iisnode' ? IISNODE_ATTRIBUTES[attr] : undefined;
      if (type === 'uint' && !isUint(value)) problems.push(`<${where}>: ${attr}="${value}" is not a number`);
      if (type === 'bool' && !isBool(value)) problems.push(`<${where}>: ${attr}="${value}" is not true or false`);
    }
    const collection = COLLECTIONS[where];
    if (collection) {
      const present = new Set(collection.stock.map((k) => k.toLowerCase()));
      for (const child of el.children) {
        const key = child.attrs[collection.key]?.toLowerCase();
        if (child.name === 'clear') present.clear();
        else if (child.name !== 'remove' && child.name !== collection.item) continue;
        else if (!key) problems.push(`<${where}>: <${child.name}> without its ${collection.key}`);
        else if (child.name === 'remove') present.delete(key);
        else {
          if (present.has(key)) problems.push(`<${where}>: duplicate entry ${collection.key}="${child.attrs[collection.key]}" (already there; <remove> it first)`);
          present.add(key);
        }
      }
    }
    for (const child of el.children) checkElement(child, `${where}/${child.name}`);
  };

  const visit = (el: Element, where: string) => {
    if (SECTION_GROUPS.includes(where)) {
      for (const child of el.children) visit(child, `${where}/${child.name}`);
    } else if (SECTIONS[where]) {
      if (SECTIONS[where] === 'Deny' && !unlocked.includes(where)) problems.push(`<${where}>: locked by default and not unlocked (overrideModeDefault="Deny")`);
      checkElement(el, where);
    } else {
      problems.push(`<${where}>: not a configuration section IIS knows`);
    }
  };

  for (const section of sectionsOf(configurationOf(xml), problems)) visit(section, section.name);
  return problems;
}

/** The sections a text unlocks with appcmd, in any of the spellings appcmd accepts. */
function unlockedIn(text: string): string[] {
  return [...text.matchAll(/unlock['",\s]+config\b[^\n]*?[-/]section:([A-Za-z./]+)/g)].map((m) => m[1]);
}

const unlockSources: Record<string, string> = {
  'web.config': webConfigXml,
  'README.md': readFileSync(path.join(root, 'README.md'), 'utf8'),
  'deploy/Install-Deskside.ps1': readFileSync(path.join(root, 'deploy', 'Install-Deskside.ps1'), 'utf8'),
};

const lockedSectionsUsed = (() => {
  const used: string[] = [];
  const visit = (el: Element, where: string) => {
    if (SECTION_GROUPS.includes(where)) for (const child of el.children) visit(child, `${where}/${child.name}`);
    else if (SECTIONS[where] === 'Deny') used.push(where);
  };
  for (const section of sectionsOf(configurationOf(webConfigXml))) visit(section, section.name);
  return [...new Set(used)].sort();
})();

describe('web.config on a stock IIS 10', () => {
  test('when IIS reads it, then nothing duplicates a stock entry, every attribute exists and only the unlocked sections are locked ones', () => {
    expect(stockIisProblems(webConfigXml, lockedSectionsUsed)).toEqual([]);
    expect(lockedSectionsUsed).toEqual([
      'system.webServer/security/authentication/anonymousAuthentication',
      'system.webServer/security/authentication/windowsAuthentication',
    ]);
  });

  test.each([
    ['App_Data hidden again without removing the stock entry', '<remove segment="App_Data" />', '', /duplicate entry segment="App_Data"/],
    ['a stock MIME type added again', '<clientCache ', '<mimeMap fileExtension=".svg" mimeType="image/svg+xml" /><clientCache ', /duplicate entry fileExtension="\.svg"/],
    ['an iisnode attribute iisnode does not have', 'node_env="production"', 'node_env="production" nodeProcessCommandline="node.exe"', /unrecognized attribute "nodeProcessCommandline"/],
    ['an iisnode number that is not one', 'maxLogFiles="20"', 'maxLogFiles="twenty"', /maxLogFiles="twenty" is not a number/],
    ['a section locked by default', '<authentication>', '<access sslFlags="Ssl" /><authentication>', /security\/access>: locked by default/],
    ['a section IIS does not know', '<httpErrors ', '<httpError existingResponse="PassThrough" /><httpErrors ', /httpError>: not a configuration section/],
    ['a <location> attribute IIS does not have', '<location path="tickets">', '<location path="tickets" inherit="false">', /<location>: unrecognized attribute "inherit"/],
    ['an attribute IIS does not have inside a <location>', '<requestLimits maxAllowedContentLength="105906176" />', '<requestLimits maxAllowedContentLength="105906176" maxBodySize="1" />', /requestLimits>: unrecognized attribute "maxBodySize"/],
  ])('when web.config has %s, then the stock model reports it', (_what, find, replace, problem) => {
    expect(webConfigXml).toContain(find);
    const broken = webConfigXml.replace(find, replace);
    expect(stockIisProblems(broken, lockedSectionsUsed).join('\n')).toMatch(problem);
  });

  test('when a locked section is used but not in the unlock list, then the stock model reports it', () => {
    const unlockedOnlyOne = ['system.webServer/security/authentication/anonymousAuthentication'];
    expect(stockIisProblems(webConfigXml, unlockedOnlyOne)).toEqual([
      '<system.webServer/security/authentication/windowsAuthentication>: locked by default and not unlocked (overrideModeDefault="Deny")',
    ]);
  });

  test.each(Object.keys(unlockSources))('when %s tells an administrator what to unlock, then it is exactly the locked sections web.config uses', (source) => {
    expect([...new Set(unlockedIn(unlockSources[source]))].sort()).toEqual(lockedSectionsUsed);
  });

  test('when IIS serves a file under public/, then it knows the file type (an unknown one is 404.3)', () => {
    const mapped = configurationOf(webConfigXml)
      .children.find((e) => e.name === 'system.webServer')
      ?.children.find((e) => e.name === 'staticContent')
      ?.children.filter((e) => e.name === 'mimeMap')
      .map((e) => e.attrs.fileExtension.toLowerCase()) ?? [];
    const files = readdirSync(path.join(root, 'public'), { recursive: true, withFileTypes: true }).filter((d) => d.isFile());
    expect(files.length).toBeGreaterThan(0);
    for (const file of files) {
      const ext = path.extname(file.name).toLowerCase();
      expect({ file: file.name, known: ext in STOCK_MIME_TYPES || mapped.includes(ext) }).toEqual({ file: file.name, known: true });
    }
  });
});

describe('iisnode.yml as iisnode reads it', () => {
  const text = readFileSync(path.join(root, 'iisnode.yml'), 'utf8');

  test('when iisnode parses it, then every line reads and every key is one iisnode knows, with a value of its type', () => {
    const yml = parseIisnodeYml(text);
    expect(Object.keys(yml).length).toBeGreaterThan(0);
    const known = Object.fromEntries(Object.entries(IISNODE_YML_KEYS).map(([k, t]) => [k.toLowerCase(), t]));
    for (const [key, value] of Object.entries(yml)) {
      const type = known[key.toLowerCase()];
      expect({ key, known: Boolean(type) }).toEqual({ key, known: true });
      if (type === 'uint') expect({ key, value, ok: isUint(value) }).toEqual({ key, value, ok: true });
      if (type === 'bool') expect({ key, value, ok: /^(true|false|1|0|yes|no)$/i.test(value) }).toEqual({ key, value, ok: true });
    }
  });

  test.each([
    ['has no colon', 'loggingEnabled true'],
    ['has text between its key and its colon', 'logging Enabled: true'],
    ['starts with its colon', ': true'],
  ])('when a line %s, then parsing fails as it does in iisnode', (_what, line) => {
    expect(() => parseIisnodeYml(`${text}\n${line}\n`)).toThrow(/iisnode\.yml line \d+/);
  });

  test('when a value contains a #, then iisnode cuts it there, as the port does', () => {
    expect(parseIisnodeYml('logDirectory: logs#1\nnode_env: production # the mode')).toEqual({ logDirectory: 'logs', node_env: 'production' });
  });
});

