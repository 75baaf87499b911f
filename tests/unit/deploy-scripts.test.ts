import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { Language, Parser, type Node } from 'web-tree-sitter';

/**
 * No PowerShell and no IIS run in our CI. What can be checked here is that the scripts an
 * administrator runs, and the PowerShell the README gives them to paste, are well-formed
 * PowerShell (parsed with tree-sitter's PowerShell grammar, which reports what it cannot
 * read as ERROR or MISSING nodes), and that the scripts call only functions the shared
 * module defines and exports.
 */
const root = path.resolve(__dirname, '..', '..');
const deployDir = path.join(root, 'deploy');
const scripts = readdirSync(deployDir).filter((f) => /\.ps(m?)1$/.test(f));
const read = (file: string) => readFileSync(path.join(deployDir, file), 'utf8');

let parser: Parser;
beforeAll(async () => {
  await Parser.init();
  parser = new Parser();
  // Bytes rather than a path: given a path, web-tree-sitter reads it with a dynamic
  // import('fs/promises'), which Jest's module sandbox refuses.
  const grammar = readFileSync(require.resolve('tree-sitter-powershell/tree-sitter-powershell.wasm'));
  parser.setLanguage(await Language.load(new Uint8Array(grammar)));
});

function parse<T>(source: string, use: (root: Node) => T): T {
  const tree = parser.parse(source);
  if (!tree) throw new Error('tree-sitter returned no tree');
  try {
    return use(tree.rootNode);
  } finally {
    tree.delete();
  }
}

function descendants(node: Node): Node[] {
  return [node, ...node.children.flatMap((c) => (c ? descendants(c) : []))];
}

/** Where PowerShell's grammar cannot read the source, as "line:column text". */
function syntaxErrors(source: string): string[] {
  return parse(source, (rootNode) =>
    descendants(rootNode)
      .filter((n) => n.isError || n.isMissing)
      .map((n) => `${n.isMissing ? 'missing' : 'error'} at ${n.startPosition.row + 1}:${n.startPosition.column + 1} ${JSON.stringify(n.text.slice(0, 60))}`),
  );
}

function commandsCalled(source: string): string[] {
  return parse(source, (rootNode) => descendants(rootNode).filter((n) => n.type === 'command_name').map((n) => n.text));
}

function functionsDefined(source: string): string[] {
  return parse(source, (rootNode) => descendants(rootNode).filter((n) => n.type === 'function_name').map((n) => n.text));
}

// Our own commands, as opposed to cmdlets and programs: they must come from Deskside.psm1.
const ours = (name: string) => /-(Deskside|AppCmd|AppPool|SiteConfiguration|NodeRuntime|NativeFormat|SettingsLine)/.test(name);

describe('the deploy scripts', () => {
  test('when the deploy folder is listed, then it holds the install and update scripts and their module', () => {
    expect(scripts.sort()).toEqual(['Deskside.psm1', 'Install-Deskside.ps1', 'Update-Deskside.ps1']);
  });

  test.each(scripts)('when PowerShell reads %s, then it parses without an error or a missing token', (file) => {
    expect(syntaxErrors(read(file))).toEqual([]);
  });

  test.each([
    ['a function left open', 'Deskside.psm1', (s: string) => s.replace(/\}\s*Export-ModuleMember/, 'Export-ModuleMember')],
    ['an unterminated string', 'Install-Deskside.ps1', (s: string) => s.replace("Write-Host '== Starting the site'", "Write-Host '== Starting the site")],
    ['a condition without its closing parenthesis', 'Install-Deskside.ps1', (s: string) => s.replace('if ($AppPoolCredential) {', 'if ($AppPoolCredential {')],
    ['an argument list left open', 'Update-Deskside.ps1', (s: string) => s.replace("@('list', 'vdir', \"$SiteName/\", '/text:physicalPath')", "@('list', 'vdir', \"$SiteName/\", '/text:physicalPath'")],
  ])('when a script has %s, then the check reports it', (_what, file, breakIt) => {
    const source = read(file);
    const broken = breakIt(source);
    expect(broken).not.toBe(source);
    expect(syntaxErrors(broken).length).toBeGreaterThan(0);
  });

  test('when a script calls one of our commands, then the module defines it, and exports it to the scripts', () => {
    const module = read('Deskside.psm1');
    const defined = functionsDefined(module);
    const exported = [...module.slice(module.indexOf('Export-ModuleMember')).matchAll(/'([A-Za-z-]+)'/g)].map((m) => m[1]);
    expect(exported.length).toBeGreaterThan(0);
    for (const name of exported) expect({ name, defined: defined.includes(name) }).toEqual({ name, defined: true });
    for (const name of commandsCalled(module).filter(ours)) expect({ name, defined: defined.includes(name) }).toEqual({ name, defined: true });
    for (const file of ['Install-Deskside.ps1', 'Update-Deskside.ps1']) {
      const called = commandsCalled(read(file)).filter(ours);
      expect(called.length).toBeGreaterThan(0);
      for (const name of called) expect({ file, name, exported: exported.includes(name) }).toEqual({ file, name, exported: true });
    }
  });

  test('when an administrator runs them, then they insist on elevation and offer -WhatIf', () => {
    for (const file of ['Install-Deskside.ps1', 'Update-Deskside.ps1']) {
      const source = read(file);
      expect(source.split('\n')[0]).toBe('#Requires -RunAsAdministrator');
      expect(source).toMatch(/\[CmdletBinding\(SupportsShouldProcess = \$true\)\]/);
    }
  });

  test('when a release is mirrored into the site, then App_Data, the iisnode logs and the settings files are left alone', () => {
    const module = read('Deskside.psm1');
    const copy = module.slice(module.indexOf('function Copy-DesksideRelease'), module.indexOf('function Grant-DesksideAccess'));
    expect(copy).toMatch(/'\/MIR'/);
    expect(copy).toMatch(/'\/XD', \(Join-Path \$SitePath 'App_Data'\), \(Join-Path \$SitePath 'iisnode'\)/);
    expect(copy).toMatch(/'\/XF', 'settings\.env', '\.env'/);
  });
});

describe('the PowerShell in the README', () => {
  const readme = readFileSync(path.join(root, 'README.md'), 'utf8');
  // Fenced ```powershell blocks, also those indented inside list items.
  const blocks = [...readme.matchAll(/^( *)```powershell\n([\s\S]*?)^\1```/gm)].map((m) => {
    const line = readme.slice(0, m.index).split('\n').length;
    const code = m[2].split('\n').map((l) => l.slice(m[1].length)).join('\n');
    return [`the block at line ${line}`, code] as const;
  });

  test('when the README is read, then it gives the administrator PowerShell to paste', () => {
    expect(blocks.length).toBeGreaterThanOrEqual(5);
  });

  test.each(blocks)('when PowerShell reads %s, then it parses without an error or a missing token', (_where, code) => {
    expect(syntaxErrors(code)).toEqual([]);
  });
});
