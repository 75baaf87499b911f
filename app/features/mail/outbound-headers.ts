/**
 * The headers every notification carries. The shape fits nodemailer's message options
 * (`subject`, `messageId`, `inReplyTo`, `references`, `headers`), so the sender spreads it in.
 */
import { notificationMessageId, ticketRootMessageId, type ThreadingContext } from './threading';

/**
 * RFC 3834 `Auto-Submitted: auto-generated`: well-behaved responders (Exchange, Gmail,
 * sieve vacation) do not answer it. Exchange only honours its own header, and "All" there
 * also keeps read receipts, out-of-office and other automatic replies from coming back.
 */
export const AUTOMATIC_MAIL_HEADERS: Readonly<Record<string, string>> = Object.freeze({
  'Auto-Submitted': 'auto-generated',
  'X-Auto-Response-Suppress': 'All',
});

const SUBJECT_MAX = 160;

/**
 * `[#123] Title`: one subject for every notification about a ticket, whatever happened, so
 * clients that thread by subject (Outlook's conversation topic) agree with the References.
 * Line breaks and runs of white space become one space; a long title is cut with "…".
 */
export function notificationSubject(ticketId: number, title: string): string {
  const oneLine = title.replace(/\s+/g, ' ').trim();
  const cut = oneLine.length > SUBJECT_MAX ? `${oneLine.slice(0, SUBJECT_MAX - 1).trimEnd()}…` : oneLine;
  return cut ? `[#${ticketId}] ${cut}` : `[#${ticketId}]`;
}

export interface NotificationHeaders {
  subject: string;
  messageId: string;
  inReplyTo: string;
  references: string[];
  headers: Record<string, string>;
}

/**
 * Everything but the body and addresses of one notification. `alsoReferences`: Message-IDs
 * of mail this notification answers (say, the requester's reply that became the comment),
 * added after the ticket's root so the thread stays whole in clients that follow them.
 */
export function notificationHeaders(
  n: { ticketId: number; eventId: number; recipient: string; title: string; alsoReferences?: readonly string[] },
  ctx: ThreadingContext,
): NotificationHeaders {
  const root = ticketRootMessageId(n.ticketId, ctx);
  const extra = (n.alsoReferences ?? []).filter((id) => /^<[^<>\s]+>$/.test(id) && id !== root);
  return {
    subject: notificationSubject(n.ticketId, n.title),
    messageId: notificationMessageId(n, ctx),
    inReplyTo: extra.length ? extra[extra.length - 1] : root,
    references: [root, ...new Set(extra)],
    headers: { ...AUTOMATIC_MAIL_HEADERS },
  };
}
