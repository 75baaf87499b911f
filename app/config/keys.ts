import { readFileSync } from 'node:fs';
import path from 'node:path';
/**
 * What one setting is: its key, its type and bounds or accepted values, its default and
 * what it does. config/table.ts lists every key Deskside reads in these terms; reading a
 * key (this file) and the README's configuration table (cli/config-doc.ts) both come
 * from that one list, so they cannot disagree.
 */

export type Env = Record<string, string | undefined>;

interface Common {
  /** What the key does, for the README table (bounds and accepted values are added from the spec). */
  doc: string;
  /** The README's "Default" column when it is not simply `default` (e.g. it depends on other keys). */
  docDefault?: string;
  /** Never echo the value in a problem (passwords, secrets). */
  secret?: boolean;
}

export interface BooleanKey extends Common {
  type: 'boolean';
  default?: boolean;
}

export interface IntegerKey extends Common {
  type: 'integer';
  default?: number;
  min: number;
  max: number;
  /** Plural noun for messages and the README, e.g. `seconds`, `connections`. */
  unit?: string;
}

/** A decimal number (e.g. seconds, which tests set below one). */
export interface NumberKey extends Common {
  type: 'number';
  default?: number;
  min: number;
  max: number;
  unit: string;
}

export interface EnumKey<T extends string = string> extends Common {
  type: 'enum';
  values: readonly T[];
  default?: T;
}

export interface StringKey extends Common {
  type: 'string';
  default?: string;
  /** Keep surrounding spaces (passwords may have them). */
  raw?: boolean;
  /** A problem with the value, said without its key (the key is added), or undefined. */
  check?: (value: string) => string | undefined;
}

/** A comma-, semicolon- or line-separated list. */
export interface ListKey extends Common {
  type: 'list';
  /** How to split the raw value, when plain separators would break entries (DNs have commas). */
  split?: (raw: string) => string[];
  /** A problem with one entry, said in full, or undefined. */
  checkEntry?: (entry: string, key: string) => string | undefined;
}

export type KeySpec = BooleanKey | IntegerKey | NumberKey | EnumKey | StringKey | ListKey;

/** The value a spec reads to: undefined when the key is unset (or bad) and has no default. */
export type ValueOf<S extends KeySpec> = S extends BooleanKey
  ? boolean
  : S extends IntegerKey | NumberKey
    ? number
    : S extends { type: 'enum'; values: readonly (infer T)[] }
      ? T
      : S extends ListKey
        ? string[]
        : string;

export type Values<T extends Record<string, KeySpec>> = {
  [K in keyof T]: T[K] extends ListKey ? string[] : T[K] extends { default: unknown } ? ValueOf<T[K]> : ValueOf<T[K]> | undefined;
};

const TRUE = /^(true|1|yes|on)$/i;
const FALSE = /^(false|0|no|off)$/i;

export function splitList(value: string): string[] {
  return value
    .split(/[,;\n]/)
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
}

/**
 * A CA file setting, resolved under the app folder and checked at start: readable, and a
 * PEM certificate (problems name the key and the resolved path).
 */
export function caFileSetting(key: string, raw: string | undefined, appRoot: string, problems: string[]): string | undefined {
  if (raw === undefined) return undefined;
  const file = path.resolve(appRoot, raw);
  try {
    const pem = readFileSync(file, 'utf8');
    if (!pem.includes('-----BEGIN CERTIFICATE-----')) problems.push(`${key}="${file}" holds no PEM certificate (-----BEGIN CERTIFICATE-----); export the CA as Base-64 X.509`);
  } catch (err) {
    problems.push(`${key}="${file}" cannot be read (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
  }
  return file;
}

/** A key is set when it has a value other than spaces (web.config ships some keys empty). */
export function isSet(env: Env, key: string): boolean {
  return (env[key]?.trim() ?? '') !== '';
}

/** Read one key by its spec; a bad value is a problem (the spec's default stands in). */
export function readKey(env: Env, key: string, spec: KeySpec, problems: string[]): unknown {
  const given = env[key];
  const raw = spec.type === 'string' && spec.raw ? given : given?.trim();
  if (spec.type === 'list') {
    const entries = raw ? (spec.split ?? splitList)(raw) : [];
    for (const e of entries) {
      const p = spec.checkEntry?.(e, key);
      if (p) problems.push(p);
    }
    return entries;
  }
  if (raw === undefined || raw.trim() === '') return spec.default;
  const shown = spec.secret ? '' : `="${raw}"`;
  switch (spec.type) {
    case 'boolean':
      if (TRUE.test(raw)) return true;
      if (FALSE.test(raw)) return false;
      problems.push(`${key}${shown} is not a boolean; use true or false`);
      return spec.default;
    case 'integer': {
      const n = Number(raw);
      if (!/^\d+$/.test(raw) || n < spec.min || n > spec.max) {
        problems.push(`${key}${shown} must be a whole number ${spec.unit ? `of ${spec.unit} ` : ''}from ${spec.min} to ${spec.max}`);
        return spec.default;
      }
      return n;
    }
    case 'number': {
      const n = Number(raw);
      if (!/^\d+(\.\d+)?$/.test(raw) || !Number.isFinite(n) || n < spec.min || n > spec.max) {
        problems.push(`${key}${shown} must be a number of ${spec.unit} from ${spec.min} to ${spec.max}`);
        return spec.default;
      }
      return n;
    }
    case 'enum': {
      const found = spec.values.find((v) => v === raw.toLowerCase());
      if (found === undefined) problems.push(`${key}${shown} is not valid; accepted values: ${spec.values.join(', ')}`);
      return found ?? spec.default;
    }
    case 'string': {
      const p = spec.check?.(raw);
      if (p) {
        problems.push(`${key}${shown} ${p}`);
        return spec.default;
      }
      return raw;
    }
  }
}

/** Read every key of a table; every bad value is a problem, all reported together by the caller. */
export function readKeys<T extends Record<string, KeySpec>>(env: Env, table: T, problems: string[]): Values<T> {
  const out: Record<string, unknown> = {};
  for (const [key, spec] of Object.entries(table)) out[key] = readKey(env, key, spec, problems);
  return out as Values<T>;
}

/** The README's "Default" column for a key. */
export function defaultText(spec: KeySpec): string {
  if (spec.docDefault !== undefined) return spec.docDefault;
  if (spec.type === 'list' || spec.default === undefined) return 'none';
  return `\`${String(spec.default)}\``;
}

/** The README's "What it does" column: the description, then the bounds or accepted values. */
export function docText(spec: KeySpec): string {
  switch (spec.type) {
    case 'integer':
      return `${spec.doc} Whole number, ${spec.min}–${spec.max}${spec.unit ? ` ${spec.unit}` : ''}.`;
    case 'number':
      return `${spec.doc} ${spec.min}–${spec.max} ${spec.unit}.`;
    case 'enum':
      return `${spec.doc} One of ${spec.values.map((v) => `\`${v}\``).join(', ')}.`;
    case 'boolean':
      return `${spec.doc} \`true\` or \`false\`.`;
    default:
      return spec.doc;
  }
}
