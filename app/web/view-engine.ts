import ejs from 'ejs';
import { readFileSync } from 'node:fs';
import path from 'node:path';

type Compiled = (locals: object, escapeFn: (value: unknown) => string, include: (file: string, data?: object) => string) => string;

/**
 * EJS as Express's view engine, with includes that cost almost nothing. EJS's own
 * include checks the file system (existsSync) and copies every local into a new object
 * on each call; the queue page includes a partial three times per row, so that was a
 * tenth of the page's CPU time. Here each file is compiled once (when Express's
 * "view cache" is on, as in production), an include resolves relative to the including
 * file (as EJS does), and its locals are the parent's through the prototype chain plus
 * the include's own, so a template sees exactly what EJS would give it.
 */
const RESERVED = new Set(
  ('break case catch class const continue debugger default delete do else export extends false finally for function if import in ' +
    'instanceof let new null return static super switch this throw true try typeof var void while with yield async await of get set ' +
    'undefined arguments eval NaN Infinity locals __locals __output __append __line __lines __filename escapeFn include rethrow').split(' '),
);

/**
 * The names a template's code reads from its locals: identifiers, less keywords,
 * globals, property names and the template's own functions. Undefined when the code
 * is too clever to read this way (template literals, regular expressions, division),
 * in which case the template keeps EJS's `with`.
 */
export function localNames(text: string, file: string): string[] | undefined {
  const template = new ejs.Template(text, { filename: file, client: true, compileDebug: false }) as unknown as { generateSource(): void; source: string };
  template.generateSource();
  const code = template.source.replace(/"(?:[^"\\\n]|\\.)*"|'(?:[^'\\\n]|\\.)*'/g, '""');
  if (/[`/]/.test(code)) return undefined;
  const own = new Set([...code.matchAll(/function\s+([A-Za-z_$][\w$]*)/g)].map((m) => m[1]));
  const names = new Set<string>();
  for (const m of code.matchAll(/(?<![\w$.])[A-Za-z_$][\w$]*/g)) {
    const name = m[0];
    if (!RESERVED.has(name) && !own.has(name) && !(name in globalThis)) names.add(name);
  }
  return [...names];
}

/**
 * Compile with the template's locals bound as plain variables rather than through
 * `with (locals)`, which V8 cannot optimise: every name a template reads is then a
 * runtime lookup along the locals' prototype chain. Same result, a third less CPU.
 * Line tracking (compileDebug) only while developing: it adds a statement per line.
 */
function compileTemplate(text: string, file: string, production: boolean): Compiled {
  const opts = { filename: file, client: true, compileDebug: !production };
  const names = localNames(text, file);
  if (!names) return ejs.compile(text, opts) as unknown as Compiled;
  return ejs.compile(text, { ...opts, _with: false, destructuredLocals: names } as ejs.Options) as unknown as Compiled;
}

const HTML_SPECIAL = /[&<>'"]/;
const HTML_SPECIALS = /[&<>'"]/g;
const HTML_ENTITIES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&#34;', "'": '&#39;' };
const entityOf = (c: string): string => HTML_ENTITIES[c];

/**
 * What `<%= %>` writes: EJS's escapeXML, character for character (the same five characters,
 * the same entities, '' for null and undefined), but a number is written as it is and a
 * string with nothing to escape is returned without a global replace: most values on a
 * page (ids, names, statuses, links) are such, and a queue page writes over 500 of them.
 */
export function escapeHtml(value: unknown): string {
  if (value === undefined || value === null) return '';
  if (typeof value === 'number') return `${value}`;
  // As EJS does: whatever the value says it is (a Date, an array, an object with toString).
  // eslint-disable-next-line @typescript-eslint/no-base-to-string -- a template may write any value, exactly as EJS would
  const text = typeof value === 'string' ? value : String(value);
  return HTML_SPECIAL.test(text) ? text.replace(HTML_SPECIALS, entityOf) : text;
}

export function ejsViewEngine(): (file: string, options: object, cb: (err: Error | null, html?: string) => void) => void {
  const compiled = new Map<string, Compiled>();
  const resolved = new Map<string, string>();

  function load(file: string, cache: boolean): Compiled {
    let fn = cache ? compiled.get(file) : undefined;
    if (!fn) {
      fn = compileTemplate(readFileSync(file, 'utf8'), file, cache);
      if (cache) compiled.set(file, fn);
    }
    return fn;
  }

  function resolve(from: string, target: string): string {
    const key = `${from}\0${target}`;
    let file = resolved.get(key);
    if (!file) {
      file = path.resolve(path.dirname(from), path.extname(target) ? target : `${target}.ejs`);
      if (resolved.size < 1000) resolved.set(key, file);
    }
    return file;
  }

  function render(file: string, data: object, cache: boolean): string {
    const include = (target: string, extra?: object): string => render(resolve(file, target), extra ? Object.assign(Object.create(data) as object, extra) : data, cache);
    try {
      return load(file, cache)(data, escapeHtml, include);
    } catch (err) {
      // Without line tracking, still say which template failed (once, innermost first).
      if (err instanceof Error && !err.message.includes('.ejs')) err.message = `${err.message} (in ${path.basename(file)})`;
      throw err;
    }
  }

  return (file, options, cb) => {
    let html: string;
    try {
      html = render(file, options, (options as { cache?: boolean }).cache === true);
    } catch (err) {
      return cb(err as Error);
    }
    cb(null, html);
  };
}
