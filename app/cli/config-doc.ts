/**
 * `npm run docs:config`: rewrite README's configuration table from the table of keys
 * (config/table.ts), so the table and the parser cannot drift (a unit test fails when
 * the README's table differs from what this would write).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { configTableMarkdown, withConfigTable } from '../config/schema';
import { APP_ROOT } from '../paths';

const file = path.join(APP_ROOT, 'README.md');
writeFileSync(file, withConfigTable(readFileSync(file, 'utf8')));
process.stdout.write(`README.md: ${configTableMarkdown().split('\n').length - 2} configuration keys\n`);
