/**
 * What a person actually wrote in an e-mail reply: the quoted message, the client's header
 * block ("From: … Sent: …", "On … wrote:"), `>` quotes and signatures removed, for the
 * comment that goes on the ticket. The whole body stays available (`full`) for "show the
 * original". Heuristics, tuned on the clients our users have (Outlook desktop and web, Gmail,
 * Apple Mail; English and German); when in doubt they keep text rather than lose it, and
 * they never return an empty reply for a body that had text.
 */
import type * as HtmlToText from 'html-to-text';
import type { HtmlToTextOptions } from 'html-to-text';

export interface ReplyText {
  /** What the person wrote. Never empty when `full` is not. */
  reply: string;
  /** The whole body as text (the HTML converted when there was no text part). */
  full: string;
  /** Something was removed. */
  trimmed: boolean;
}

const HTML_OPTIONS: HtmlToTextOptions = {
  wordwrap: false,
  selectors: [
    // Outlook writes every line as <p class=MsoNormal> with no margin: one line, not a paragraph.
    { selector: 'p.MsoNormal', format: 'block', options: { leadingLineBreaks: 1, trailingLineBreaks: 1 } },
    { selector: 'a', options: { hideLinkHrefIfSameAsText: true, ignoreHref: false } },
    { selector: 'img', format: 'skip' },
    { selector: 'h1', options: { uppercase: false } },
    { selector: 'h2', options: { uppercase: false } },
    { selector: 'h3', options: { uppercase: false } },
    { selector: 'table', format: 'dataTable', options: { uppercaseHeaderCells: false } },
  ],
};

/** HTML mail as plain text: links keep their address, images and styles go, no line wrapping. */
export function htmlToText(html: string): string {
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- loaded on first use, so a process with mail off never loads it (decision 0019)
  return tidy((require('html-to-text') as typeof HtmlToText).convert(html, HTML_OPTIONS));
}

// Where clients start the quoted message (or the writer's signature, which comes before it) in
// HTML: Outlook web/new Outlook (#appendonsend, #divRplyFwdMsg, #Signature, Outlook for Mac's
// reference container), Outlook desktop (the header block's top border), Gmail (gmail_quote,
// gmail_signature), Apple Mail and Thunderbird (blockquote type=cite, moz-cite-prefix), Yahoo.
const HTML_QUOTE_START = [
  /<div\b[^>]*\bid\s*=\s*["']?(?:appendonsend|divRplyFwdMsg|Signature|mail-editor-reference-message-container)\b/i,
  /<(?:div|blockquote)\b[^>]*\bclass\s*=\s*["']?[^"'>]*\b(?:gmail_quote|gmail_signature|yahoo_quoted|moz-cite-prefix|moz-signature)\b/i,
  /<blockquote\b[^>]*\btype\s*=\s*["']?cite\b/i,
  /<div\b[^>]*\bstyle\s*=\s*["'][^"']*border-top\s*:\s*solid\s+#(?:E1E1E1|B5C4DF)\b/i,
];

/** The reply of a message body: the HTML's quote markers when it has them, else the text rules. */
export function extractReply(body: { text?: string | null; html?: string | null }): ReplyText {
  const text = body.text?.trim() ? tidy(body.text) : null;
  const html = body.html?.trim() ? body.html : null;
  const full = text ?? (html ? htmlToText(html) : '');
  if (!full) return { reply: '', full: '', trimmed: false };

  let reply: string | null = null;
  if (html) {
    const cut = Math.min(...HTML_QUOTE_START.map((re) => re.exec(html)?.index ?? Infinity));
    // Nothing above the marker (a bare forward, odd markup): the text rules decide instead.
    if (cut < Infinity) reply = stripQuotedText(htmlToText(html.slice(0, cut))) || null;
  }
  reply ??= stripQuotedText(full);
  if (!reply) reply = full;
  return { reply, full, trimmed: reply !== full };
}

// ---------------------------------------------------------------------------------------
// Plain-text rules

const ORIGINAL_MESSAGE =
  /^\s*-{2,}\s*(?:original message|ursprüngliche nachricht|original-nachricht|originalnachricht|message d'origine|mensaje original|messaggio originale|oorspronkelijk bericht)\s*-{2,}\s*$/i;
// Outlook's header block: "From:"/"Von:" then, within four lines, "Sent:"/"Gesendet:"/"Date:".
const HEADER_FROM = /^\s*\*?(?:from|von|de|van|da|från|fra|od)\s*:\*?\s+\S/i;
const HEADER_SENT = /^\s*\*?(?:sent|gesendet|date|datum|envoyé|enviado|verzonden|inviato|skickat|sendt|wysłane|data)\s*:\*?\s+\S/i;
// "On Mon, 2 Nov 2026 at 10:00, Alice <alice@example.com> wrote:", "Am 02.11.2026 um 10:00 schrieb Alice:"
const ATTRIBUTION =
  /^\s*(?:on|am|le|el|il|op|den|på|w dniu)\s.*(?:wrote|schrieb|a écrit|escribió|ha scritto|schreef|skrev|napisał)(?=[\s:]).*:\s*$/i;
const SIGNATURE_DASHES = /^-- ?$/;
// A phone's signature line, with the link Outlook for iOS/Android puts after it.
const MOBILE_SIGNATURE =
  /^\s*(?:sent from my \w[\w .-]*|sent from (?:outlook|mail) for \w[\w .-]*|get outlook for (?:ios|android)|sent from yahoo mail[\w .-]*|sent from samsung mobile|von meinem \w[\w .-]* gesendet|gesendet von meinem \w[\w .-]*|von outlook für (?:ios|android) gesendet|holen sie sich outlook für (?:ios|android)|outlook für (?:ios|android) herunterladen|envoyé de mon \w[\w .-]*|enviado desde mi \w[\w .-]*|inviato da \w[\w .-]*)\.?(?:\s*[<[]\S+[>\]])?\s*$/i;
const QUOTED = /^\s*>/;
const BLANK = /^\s*$/;
// Lines left hanging above a cut: Outlook's ____ rule, ---- rules, empty lines.
const SEPARATOR = /^[\s_\-=*]*$/;
const SIGNATURE_MAX_LINES = 12;

/** The text above the first quote marker, header block or signature (see the module comment). */
export function stripQuotedText(text: string): string {
  const lines = tidy(text).split('\n');
  const cut = Math.min(cutAtHeaders(lines), cutAtAttribution(lines), cutAtTrailingQuote(lines), cutAtSignature(lines));
  const kept = lines.slice(0, cut);
  while (kept.length && SEPARATOR.test(kept[kept.length - 1])) kept.pop();
  return kept.join('\n').trim();
}

function cutAtHeaders(lines: string[]): number {
  for (let i = 0; i < lines.length; i++) {
    if (ORIGINAL_MESSAGE.test(lines[i])) return i;
    if (HEADER_FROM.test(lines[i]) && lines.slice(i + 1, i + 5).some((l) => HEADER_SENT.test(l))) return i;
  }
  return Infinity;
}

/**
 * "On … wrote:" may be wrapped over up to three lines. It counts only with a digit in it (a
 * date) and only where quoted lines or nothing follow, so "On the server the log wrote:"
 * followed by the person's own pasted lines is kept.
 */
function cutAtAttribution(lines: string[]): number {
  for (let i = 0; i < lines.length; i++) {
    for (let span = 1; span <= 3 && i + span <= lines.length; span++) {
      const joined = lines.slice(i, i + span).join(' ');
      if (joined.length > 400 || !ATTRIBUTION.test(joined) || !/\d/.test(joined)) continue;
      const next = lines.slice(i + span).find((l) => !BLANK.test(l));
      if (next === undefined || QUOTED.test(next)) return i;
    }
  }
  return Infinity;
}

/** The last run of `>` lines (blank lines within it allowed) when nothing but blanks follows it. */
function cutAtTrailingQuote(lines: string[]): number {
  let end = lines.length;
  while (end > 0 && BLANK.test(lines[end - 1])) end--;
  let start = end;
  while (start > 0 && (QUOTED.test(lines[start - 1]) || BLANK.test(lines[start - 1]))) start--;
  while (start < end && BLANK.test(lines[start])) start++;
  return start < end ? start : Infinity;
}

/** `-- ` (or `--`) above a short block, or a phone's "Sent from my iPhone" line. */
function cutAtSignature(lines: string[]): number {
  for (let i = 0; i < lines.length; i++) {
    if (MOBILE_SIGNATURE.test(lines[i])) return i;
    if (SIGNATURE_DASHES.test(lines[i])) {
      const rest = lines.slice(i + 1);
      const stop = rest.findIndex((l) => QUOTED.test(l) || HEADER_FROM.test(l) || ORIGINAL_MESSAGE.test(l));
      const block = (stop < 0 ? rest : rest.slice(0, stop)).filter((l) => !BLANK.test(l));
      if (block.length <= SIGNATURE_MAX_LINES) return i;
    }
  }
  return Infinity;
}

/** LF line ends, no trailing spaces or non-breaking spaces, at most one blank line in a row. */
function tidy(text: string): string {
  return text
    .replace(/\r\n?/g, '\n')
    .split('\n')
    .map((l) => l.replace(/[\s\u00a0]+$/, ''))
    .join('\n')
    .replace(/\n{3,}/g, '\n\n')
    .trim();
}
