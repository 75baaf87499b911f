#!/usr/bin/env node
// `npm run package`: a release folder for IIS, built for the machine it runs on and named
// for it: deskside-<version>-<platform>-<arch>-node-abi<N>, with release.json saying the
// same. better-sqlite3 (and kerberos, when it installs) are compiled code: `npm ci` fetches
// or builds them for this operating system, CPU and Node.js ABI only, so a release built on
// Linux cannot run under IIS. Asked for another target (--target win32-x64 on Linux), this
// refuses before doing anything. Install-/Update-Deskside.ps1 check release.json and the
// driver's file format again on the server.
'use strict';

const { execFileSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const ROOT = path.resolve(__dirname, '..');
const RELEASE_FILES = ['server.js', 'web.config', 'iisnode.yml', 'package.json', 'package-lock.json', 'README.md'];
const RELEASE_DIRS = ['dist', 'views', 'public', 'deploy'];

/** The operating system a compiled file (a .node addon) is for, from its first bytes. */
function nativeFormat(head) {
  if (head[0] === 0x4d && head[1] === 0x5a) return 'win32'; // "MZ": Windows PE
  if (head[0] === 0x7f && head[1] === 0x45 && head[2] === 0x4c && head[3] === 0x46) return 'linux'; // ELF
  const magic = head.length >= 4 ? head.readUInt32BE(0) : 0;
  if ([0xfeedfacf, 0xcffaedfe, 0xcafebabe].includes(magic)) return 'darwin'; // Mach-O
  return 'unknown';
}

function readHead(file) {
  const fd = fs.openSync(file, 'r');
  try {
    const head = Buffer.alloc(4);
    fs.readSync(fd, head, 0, 4, 0);
    return head;
  } finally {
    fs.closeSync(fd);
  }
}

function thisRuntime() {
  return { platform: process.platform, arch: process.arch, abi: process.versions.modules, node: process.versions.node };
}

function releaseName(pkg, runtime) {
  return `${pkg.name}-${pkg.version}-${runtime.platform}-${runtime.arch}-node-abi${runtime.abi}`;
}

function parseArgs(argv) {
  const args = { out: path.join(ROOT, 'release'), target: undefined };
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--target') args.target = argv[++i];
    else if (argv[i] === '--out') args.out = path.resolve(argv[++i]);
    else throw new Error(`unknown argument ${argv[i]}; usage: npm run package -- [--target win32-x64] [--out folder]`);
  }
  return args;
}

/** A release can only be built for the machine that builds it. */
function checkTarget(target, runtime) {
  const here = `${runtime.platform}-${runtime.arch}`;
  if (target && target !== here) {
    throw new Error(
      `this machine builds ${here} releases, not ${target}: better-sqlite3 is compiled for the machine that runs npm ci. ` +
        `Build a ${target} release on a ${target} machine with the server's Node.js major version, or build on the server itself (README "Deploying to IIS").`,
    );
  }
}

function nativeModules(dir) {
  const found = [];
  const walk = (d) => {
    for (const entry of fs.readdirSync(d, { withFileTypes: true })) {
      const full = path.join(d, entry.name);
      if (entry.isDirectory()) walk(full);
      else if (entry.name.endsWith('.node')) found.push({ file: path.relative(dir, full).split(path.sep).join('/'), format: nativeFormat(readHead(full)) });
    }
  };
  if (fs.existsSync(dir)) walk(dir);
  return found;
}

/** `npm ci --omit=dev` in the release folder, with the npm that runs this script. */
function npmInstall(dir) {
  const npm = process.env.npm_execpath;
  const args = ['ci', '--omit=dev', '--no-audit', '--no-fund'];
  if (npm && npm.endsWith('.js')) execFileSync(process.execPath, [npm, ...args], { cwd: dir, stdio: 'inherit' });
  else execFileSync(process.platform === 'win32' ? 'npm.cmd' : 'npm', args, { cwd: dir, stdio: 'inherit', shell: process.platform === 'win32' });
}

function gitCommit() {
  try {
    return execFileSync('git', ['rev-parse', 'HEAD'], { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return null;
  }
}

/**
 * Stages the release, installs its production dependencies and writes release.json.
 * Throws, leaving nothing behind, when any compiled module is for another system.
 */
function buildRelease({ out, target, runtime = thisRuntime(), install = npmInstall, root = ROOT }) {
  checkTarget(target, runtime);
  if (!fs.existsSync(path.join(root, 'dist', 'server.js'))) throw new Error('dist/server.js is missing: run "npm run build" first (npm run package does)');
  const pkg = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8'));
  const name = releaseName(pkg, runtime);
  const dest = path.join(out, name);
  fs.rmSync(dest, { recursive: true, force: true });
  fs.mkdirSync(dest, { recursive: true });
  try {
    for (const file of RELEASE_FILES) fs.copyFileSync(path.join(root, file), path.join(dest, file));
    for (const dir of RELEASE_DIRS) fs.cpSync(path.join(root, dir), path.join(dest, dir), { recursive: true });
    install(dest);
    const natives = nativeModules(path.join(dest, 'node_modules'));
    if (!natives.some((n) => n.file.endsWith('better_sqlite3.node'))) throw new Error('npm ci left no compiled better-sqlite3 driver in the release');
    // Packages that ship prebuilds/<platform>-<arch>/ for every system load their own at
    // run time; anything else compiled must be for this one.
    const foreign = natives.filter((n) => n.format !== runtime.platform && !/(^|\/)prebuilds\//.test(n.file));
    if (foreign.length) throw new Error(`compiled modules for another system in a ${runtime.platform} release: ${foreign.map((n) => `${n.file} (${n.format})`).join(', ')}`);
    const manifest = {
      name: pkg.name,
      version: pkg.version,
      platform: runtime.platform,
      arch: runtime.arch,
      nodeAbi: runtime.abi,
      nodeVersion: runtime.node,
      commit: gitCommit(),
      builtAt: new Date().toISOString(),
      nativeModules: natives,
    };
    fs.writeFileSync(path.join(dest, 'release.json'), `${JSON.stringify(manifest, null, 2)}\n`);
    return { dest, manifest };
  } catch (err) {
    fs.rmSync(dest, { recursive: true, force: true });
    throw err;
  }
}

module.exports = { nativeFormat, releaseName, checkTarget, parseArgs, buildRelease };

if (require.main === module) {
  try {
    const { dest, manifest } = buildRelease(parseArgs(process.argv.slice(2)));
    process.stdout.write(`Release for ${manifest.platform}-${manifest.arch}, Node.js ABI ${manifest.nodeAbi} (Node ${manifest.nodeVersion}):\n  ${dest}\n`);
    if (manifest.platform !== 'win32') process.stdout.write('This release is not for Windows: IIS needs one built on Windows x64.\n');
  } catch (err) {
    process.stderr.write(`npm run package: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  }
}
