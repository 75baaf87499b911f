/**
 * `npm run docs:config`: rewrite README's configuration table from KEY_DOCS, so the
 * table and the schema cannot drift (a unit test fails when a key is missing).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { KEY_DOCS } from '../config/schema';
import { APP_ROOT } from '../paths';

const file = path.join(APP_ROOT, 'README.md');
const start = '<!-- config-table:start -->';
const end = '<!-- config-table:end -->';
const readme = readFileSync(file, 'utf8');
const a = readme.indexOf(start);
const b = readme.indexOf(end);
if (a < 0 || b < a) throw new Error(`README.md has no ${start} … ${end} markers`);
const rows = KEY_DOCS.map((k) => `| \`${k.key}\` | ${k.default} | ${k.description.replace(/\|/g, '\\|')} |`);
const table = ['| Key | Default | What it does |', '| --- | --- | --- |', ...rows].join('\n');
writeFileSync(file, `${readme.slice(0, a + start.length)}\n${table}\n${readme.slice(b)}`);
process.stdout.write(`README.md: ${KEY_DOCS.length} configuration keys\n`);
