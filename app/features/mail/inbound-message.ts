import type { ParsedMail } from 'mailparser';

/**
 * What the mail logic reads of an incoming message. The inbound worker fills it from
 * mailparser's `simpleParser` result with `fromParsedMail`; tests may write one by hand.
 */
export interface InboundMessage {
  /** Every header field in order as [lower-case name, unfolded raw value]; repeats kept. */
  headers: ReadonlyArray<readonly [string, string]>;
  /** Decoded subject, '' when there is none. */
  subject: string;
  /** The From address, lower-case; null when missing or not an address. */
  from: string | null;
  text: string | null;
  html: string | null;
}

/** The first value of a header field (case-insensitive name), or undefined. */
export function header(msg: Pick<InboundMessage, 'headers'>, name: string): string | undefined {
  const key = name.toLowerCase();
  return msg.headers.find(([k]) => k === key)?.[1];
}

/** Every value of a header field, in order. */
export function headerValues(msg: Pick<InboundMessage, 'headers'>, name: string): string[] {
  const key = name.toLowerCase();
  return msg.headers.filter(([k]) => k === key).map(([, v]) => v);
}

/**
 * mailparser's raw header lines ("Name: value", folded with CRLF + white space) as
 * [name, value] pairs. Raw, not decoded: the checks that use them look at ASCII tokens, and
 * a structured value (mailparser's objects for Content-Type, List-*) would hide the text.
 */
export function headersFromLines(lines: ReadonlyArray<{ key: string; line: string }>): Array<[string, string]> {
  return lines.map(({ key, line }) => {
    const colon = line.indexOf(':');
    const value = colon < 0 ? '' : line.slice(colon + 1);
    return [key.toLowerCase(), value.replace(/\r?\n[ \t]+/g, ' ').trim()];
  });
}

/** The InboundMessage of a message parsed by mailparser's `simpleParser`. */
export function fromParsedMail(parsed: Pick<ParsedMail, 'headerLines' | 'subject' | 'from' | 'text' | 'html'>): InboundMessage {
  const address = parsed.from?.value.find((a) => a.address)?.address;
  return {
    headers: headersFromLines(parsed.headerLines),
    subject: parsed.subject ?? '',
    from: address ? address.toLowerCase() : null,
    text: parsed.text ?? null,
    html: typeof parsed.html === 'string' ? parsed.html : null,
  };
}
