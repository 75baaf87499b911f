import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { requireBuild, ROOT } from '../support/server-process';

interface Runtime {
  platform: string;
  arch: string;
  abi: string;
  node: string;
}
interface Packager {
  nativeFormat(head: Buffer): string;
  releaseName(pkg: { name: string; version: string }, runtime: Pick<Runtime, 'platform' | 'arch' | 'abi'>): string;
  buildRelease(opts: { out: string; target?: string; install?: (dir: string) => void }): { dest: string; manifest: Record<string, unknown> };
}
// eslint-disable-next-line @typescript-eslint/no-require-imports -- the packager is plain CommonJS that node runs directly, so it has no types to import
const packager = require('../../deploy/package-release.js') as Packager;

/**
 * `npm run package`: a release is built for the machine that builds it and says so; it
 * never claims another platform. The npm ci step is replaced by a stub that puts a
 * compiled driver in place, so these run in seconds and offline.
 */
const SCRIPT = path.join(ROOT, 'deploy', 'package-release.js');
const realDriver = path.join(ROOT, 'node_modules', 'better-sqlite3', 'build', 'Release', 'better_sqlite3.node');
const here = `${process.platform}-${process.arch}`;
const elsewhere = process.platform === 'win32' ? 'linux-x64' : 'win32-x64';

const putDriver = (from: string | Buffer) => (dir: string) => {
  const target = path.join(dir, 'node_modules', 'better-sqlite3', 'build', 'Release', 'better_sqlite3.node');
  mkdirSync(path.dirname(target), { recursive: true });
  if (typeof from === 'string') copyFileSync(from, target);
  else writeFileSync(target, from);
};

let out: string;
beforeEach(() => {
  out = mkdtempSync(path.join(os.tmpdir(), 'deskside-release-'));
});
afterEach(() => rmSync(out, { recursive: true, force: true }));

describe('npm run package', () => {
  test('when a compiled module is read, then its first bytes tell Windows, Linux and macOS builds apart', () => {
    expect(packager.nativeFormat(Buffer.from([0x4d, 0x5a, 0x90, 0x00]))).toBe('win32');
    expect(packager.nativeFormat(Buffer.from([0x7f, 0x45, 0x4c, 0x46]))).toBe('linux');
    expect(packager.nativeFormat(Buffer.from([0xcf, 0xfa, 0xed, 0xfe]))).toBe('darwin');
    expect(packager.nativeFormat(Buffer.from('PK\u0003\u0004', 'latin1'))).toBe('unknown');
    expect(packager.nativeFormat(readFileSync(realDriver).subarray(0, 4))).toBe(process.platform);
  });

  test('when a release is named, then the name says its platform, CPU and Node.js ABI', () => {
    expect(packager.releaseName({ name: 'deskside', version: '1.2.3' }, { platform: 'win32', arch: 'x64', abi: '115' })).toBe('deskside-1.2.3-win32-x64-node-abi115');
  });

  test('when asked for another platform than this machine, then it refuses before staging anything and says where to build', () => {
    const run = spawnSync(process.execPath, [SCRIPT, '--target', elsewhere, '--out', out], { encoding: 'utf8' });
    expect(run.status).toBe(1);
    expect(run.stderr).toContain(`this machine builds ${here} releases, not ${elsewhere}`);
    expect(run.stderr).toContain('README "Deploying to IIS"');
    expect(readdirSync(out)).toEqual([]);
  });

  test("when the release is built, then it holds what IIS runs and release.json states this machine's platform, CPU and ABI", () => {
    requireBuild();
    const { dest, manifest } = packager.buildRelease({ out, target: here, install: putDriver(realDriver) });
    expect(path.basename(dest)).toBe(`deskside-${String(manifest.version)}-${here}-node-abi${process.versions.modules}`);
    expect(manifest).toMatchObject({ platform: process.platform, arch: process.arch, nodeAbi: process.versions.modules, nodeVersion: process.versions.node });
    expect(JSON.parse(readFileSync(path.join(dest, 'release.json'), 'utf8'))).toEqual(manifest);
    for (const file of ['server.js', 'web.config', 'iisnode.yml', 'dist/server.js', 'views', 'public', 'deploy/Install-Deskside.ps1', 'deploy/Update-Deskside.ps1']) {
      expect({ file, there: existsSync(path.join(dest, file)) }).toEqual({ file, there: true });
    }
  });

  test('when a compiled module in the release is for another system, then the build fails and leaves no release behind', () => {
    requireBuild();
    const foreign = process.platform === 'win32' ? Buffer.from([0x7f, 0x45, 0x4c, 0x46]) : Buffer.from([0x4d, 0x5a, 0x90, 0x00]);
    expect(() => packager.buildRelease({ out, install: putDriver(foreign) })).toThrow(/compiled modules for another system .*better_sqlite3\.node/);
    expect(readdirSync(out)).toEqual([]);
  });

  test('when a package ships prebuilds for every system, then those do not fail the build', () => {
    requireBuild();
    const install = (dir: string) => {
      putDriver(realDriver)(dir);
      const other = path.join(dir, 'node_modules', 'some-addon', 'prebuilds', elsewhere, 'addon.node');
      mkdirSync(path.dirname(other), { recursive: true });
      writeFileSync(other, process.platform === 'win32' ? Buffer.from([0x7f, 0x45, 0x4c, 0x46]) : Buffer.from([0x4d, 0x5a, 0x90, 0x00]));
    };
    const { manifest } = packager.buildRelease({ out, install });
    expect(manifest.nativeModules).toEqual(expect.arrayContaining([expect.objectContaining({ file: `some-addon/prebuilds/${elsewhere}/addon.node` })]));
  });
});
