/** Field name -> message, in form order; empty when the input is good. */
export type FieldErrors = Record<string, string>;

/** A form field as a string; anything else (absent, repeated, an object) is empty. */
export function text(v: unknown): string {
  return typeof v === 'string' ? v : '';
}

const NUL = String.fromCharCode(0);

/** Normalise what a person typed: Windows line endings, no NULs, trimmed ends. */
export function cleanText(v: unknown): string {
  return text(v).replace(/\r\n?/g, '\n').split(NUL).join('').trim();
}

/** cleanText, with every run of whitespace (new lines included) made one space. */
export function oneLine(v: unknown): string {
  return cleanText(v).replace(/\s+/g, ' ');
}

export function hasErrors(errors: FieldErrors): boolean {
  return Object.keys(errors).length > 0;
}
