/** Formatting helpers shared by every view. Pure functions of their arguments. */

const UNITS: [Intl.RelativeTimeFormatUnit, number][] = [
  ['year', 365 * 24 * 3600],
  ['month', 30 * 24 * 3600],
  ['week', 7 * 24 * 3600],
  ['day', 24 * 3600],
  ['hour', 3600],
  ['minute', 60],
];

// Building an Intl formatter costs far more than using one; a list page formats 50 times.
const relativeFormats = new Map<string, Intl.RelativeTimeFormat>();

function relativeFormat(locale: string): Intl.RelativeTimeFormat {
  let f = relativeFormats.get(locale);
  if (!f) {
    f = new Intl.RelativeTimeFormat(locale, { numeric: 'auto' });
    if (relativeFormats.size < 50) relativeFormats.set(locale, f);
  }
  return f;
}

/**
 * Intl's format() is the costly part of a list page's times, and a page asks for the same
 * few texts ("3 days ago") and instants (a quiet queue shows every agent the same rows)
 * again and again: its answers are kept, a few thousand at most.
 */
const FORMATTED_MAX = 5_000;
const relativeTexts = new Map<string, string>();
const exactTexts = new Map<string, string>();

function remember(texts: Map<string, string>, key: string, text: string): string {
  if (texts.size >= FORMATTED_MAX) texts.delete(texts.keys().next().value as string);
  texts.set(key, text);
  return text;
}

function relativeText(locale: string, value: number, unit: Intl.RelativeTimeFormatUnit): string {
  const key = `${locale}\0${unit}\0${value}`;
  return relativeTexts.get(key) ?? remember(relativeTexts, key, relativeFormat(locale).format(value, unit));
}

export function relativeTime(date: Date, now: Date = new Date(), locale = 'en-GB'): string {
  const seconds = Math.round((date.getTime() - now.getTime()) / 1000);
  const abs = Math.abs(seconds);
  if (abs < 45) return 'just now';
  for (const [unit, size] of UNITS) {
    if (abs >= size) return relativeText(locale, Math.round(seconds / size), unit);
  }
  return relativeText(locale, Math.round(seconds / 60), 'minute');
}

const exactFormats = new Map<string, Intl.DateTimeFormat>();

/** The exact time, in UTC, for the hover title; public/js/time.js localises it. */
export function exactTime(date: Date, locale = 'en-GB'): string {
  // The text shows minutes, never seconds: every instant of one UTC minute reads the same.
  const key = `${locale}\0${Math.floor(date.getTime() / 60_000)}`;
  const known = exactTexts.get(key);
  if (known !== undefined) return known;
  let f = exactFormats.get(locale);
  if (!f) {
    try {
      f = new Intl.DateTimeFormat(locale, { dateStyle: 'medium', timeStyle: 'short', timeZone: 'UTC' });
    } catch {
      f = new Intl.DateTimeFormat('en-GB', { dateStyle: 'medium', timeStyle: 'short', timeZone: 'UTC' });
    }
    if (exactFormats.size < 50) exactFormats.set(locale, f);
  }
  return remember(exactTexts, key, `${f.format(date)} UTC`);
}

const knownLocales = new Map<string, string>();

/** The first language of Accept-Language that Intl knows, else en-GB. */
export function localeFrom(acceptLanguage: string | undefined): string {
  const header = acceptLanguage ?? '';
  const known = knownLocales.get(header);
  if (known) return known;
  const found = findLocale(header);
  if (knownLocales.size < 200) knownLocales.set(header, found);
  return found;
}

function findLocale(acceptLanguage: string): string {
  const first = (acceptLanguage ?? '').split(',')[0]?.split(';')[0]?.trim();
  if (first && /^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*$/.test(first)) {
    try {
      return Intl.DateTimeFormat.supportedLocalesOf([first])[0] ?? 'en-GB';
    } catch {
      return 'en-GB';
    }
  }
  return 'en-GB';
}

export function plural(n: number, one: string, many = `${one}s`): string {
  return `${n.toLocaleString('en-GB')} ${n === 1 ? one : many}`;
}

/** 1,048,576 bytes → "1 MB"; the units Windows Explorer shows. */
export function fileSize(bytes: number): string {
  const units = ['bytes', 'KB', 'MB', 'GB'];
  let n = bytes;
  let u = 0;
  while (n >= 1024 && u < units.length - 1) {
    n /= 1024;
    u++;
  }
  if (u === 0) return bytes === 1 ? '1 byte' : `${bytes.toLocaleString('en-GB')} bytes`;
  return `${n < 10 && !Number.isInteger(n) ? n.toFixed(1) : Math.round(n).toLocaleString('en-GB')} ${units[u]}`;
}
