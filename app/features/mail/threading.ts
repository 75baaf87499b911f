/**
 * Message-IDs that tie mail to tickets, both ways.
 *
 * Out: every notification about ticket 123 says `In-Reply-To: <ticket-123.MAC@host>` and
 * `References: <ticket-123.MAC@host>` (one root per ticket, never itself sent) so Outlook,
 * Gmail and Apple Mail thread the ticket's mail together; its own Message-ID is
 * `<ticket-123.event-456.RCPT.MAC@host>`, derived from the event and the recipient, so a
 * retry of the same outbox row sends the same Message-ID and a receiving server can drop it
 * as a duplicate (contract: at most one notification per event and recipient).
 *
 * In: a reply's `In-Reply-To`/`References` lead back to the ticket, but only through ids we
 * made: the MAC (HMAC-SHA256 under a key derived from the app's secret) means nobody can
 * write `References: <ticket-123@…>` into a message and comment on someone else's ticket.
 * When the key changes, older ids stop matching and the subject's `[#123]` (with its
 * sender check) is what is left.
 */
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';

export interface ThreadingContext {
  /** The right-hand side of our Message-IDs (see `mailHost`), lower-case. */
  host: string;
  /** Key for the ids' MAC: a purpose-specific key derived from the app secret. */
  key: string | Buffer;
}

const MAC_HEX = 16; // 64 bits: forging means guessing online, one message per guess
const RCPT_HEX = 8;

/**
 * The host our Message-IDs end in: the configured mail domain if there is one, else the
 * host name of DESKSIDE_PUBLIC_URL. Throws when neither gives a usable DNS name.
 */
export function mailHost(opts: { domain?: string | null; publicUrl?: string | null }): string {
  let host = opts.domain?.trim() ?? '';
  if (!host && opts.publicUrl) {
    try {
      host = new URL(opts.publicUrl).hostname;
    } catch {
      throw new Error(`DESKSIDE_PUBLIC_URL is not a URL: ${opts.publicUrl}`);
    }
  }
  host = host.toLowerCase().replace(/^\[|\]$/g, '');
  if (!/^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)*$/.test(host)) {
    throw new Error(`no mail host: need a DNS name from the mail domain or DESKSIDE_PUBLIC_URL, got "${host}"`);
  }
  return host;
}

function mac(local: string, ctx: ThreadingContext): string {
  return createHmac('sha256', ctx.key).update(`deskside-message-id:${local}`).digest('hex').slice(0, MAC_HEX);
}

function recipientTag(recipient: string): string {
  return createHash('sha256').update(recipient.trim().toLowerCase()).digest('hex').slice(0, RCPT_HEX);
}

function positiveInt(n: number, what: string): number {
  if (!Number.isSafeInteger(n) || n < 1) throw new Error(`${what} must be a positive integer, not ${n}`);
  return n;
}

/** `<ticket-123.MAC@host>`: the thread root every notification about the ticket refers to. */
export function ticketRootMessageId(ticketId: number, ctx: ThreadingContext): string {
  const local = `ticket-${positiveInt(ticketId, 'ticketId')}`;
  return `<${local}.${mac(local, ctx)}@${ctx.host}>`;
}

/** `<ticket-123.event-456.RCPT.MAC@host>`: one notification's Message-ID, the same on every retry. */
export function notificationMessageId(n: { ticketId: number; eventId: number; recipient: string }, ctx: ThreadingContext): string {
  const local = `ticket-${positiveInt(n.ticketId, 'ticketId')}.event-${positiveInt(n.eventId, 'eventId')}.${recipientTag(n.recipient)}`;
  return `<${local}.${mac(local, ctx)}@${ctx.host}>`;
}

const OUR_ID = /^<?(ticket-(\d{1,15})(?:\.event-(\d{1,15})\.[0-9a-f]{8})?)\.([0-9a-f]{16})@([^<>@\s]+)>?$/i;

/**
 * The ticket (and event, for a notification's own id) of a Message-ID we made for this host
 * and key; null for anyone else's id, another host's, or one whose MAC does not verify.
 */
export function parseOurMessageId(id: string, ctx: ThreadingContext): { ticketId: number; eventId: number | null } | null {
  const m = OUR_ID.exec(id.trim());
  if (!m || m[5].toLowerCase() !== ctx.host) return null;
  const local = m[1].toLowerCase();
  const expected = Buffer.from(mac(local, ctx));
  const given = Buffer.from(m[4].toLowerCase());
  if (!timingSafeEqual(expected, given)) return null;
  const ticketId = Number(m[2]);
  if (!Number.isSafeInteger(ticketId) || ticketId < 1) return null;
  return { ticketId, eventId: m[3] ? Number(m[3]) : null };
}

/** The `<…>` ids in a Message-ID list header (In-Reply-To, References), in order. */
export function messageIdsIn(value: string | null | undefined): string[] {
  return value ? (value.match(/<[^<>\s]+>/g) ?? []) : [];
}

/**
 * The ticket an incoming message replies to, from our ids in its `In-Reply-To` first, then
 * `References` from the newest (last) back; null when none of them is ours.
 */
export function ticketFromReferences(h: { inReplyTo?: string | null; references?: string | null }, ctx: ThreadingContext): number | null {
  const candidates = [...messageIdsIn(h.inReplyTo), ...messageIdsIn(h.references).reverse()];
  for (const id of candidates) {
    const ours = parseOurMessageId(id, ctx);
    if (ours) return ours.ticketId;
  }
  return null;
}

// Reply and forward markers mail clients put before a subject, in the languages our users
// write in and a few more; "[EXTERNAL]"-style tags that gateways add; and "*EXTERNAL*".
const SUBJECT_PREFIX =
  /^\s*(?:(?:re|aw|antw|antwort|fw|fwd|wg|wtr|tr|sv|vs|vb|rv|r|rif|enc|odp|ynt|res)\s*(?:\[\d+\]|\(\d+\))?\s*[:：]|\[(?:external|extern|ext|externe? e-?mail|caution|spam\??|suspected spam)\]|\*(?:external|extern)\*)\s*/i;

/** The subject without leading reply/forward markers and gateway tags (repeated ones too). */
export function withoutSubjectPrefixes(subject: string): string {
  let s = subject;
  for (let prev = ''; prev !== s; ) {
    prev = s;
    s = s.replace(SUBJECT_PREFIX, '');
  }
  return s.trim();
}

const TICKET_TAG = /\[#\s*(\d{1,15})\s*\]/;

/**
 * The ticket number of the first `[#123]` in a subject, wherever prefixes put it ("RE: AW:
 * [EXTERNAL] [#123] …"); the first because ours leads the subject and later ones are quoted
 * history. Null when there is none. Not proof of anything: the caller checks the sender.
 */
export function ticketFromSubject(subject: string | null | undefined): number | null {
  const m = subject ? TICKET_TAG.exec(subject) : null;
  if (!m) return null;
  const n = Number(m[1]);
  return Number.isSafeInteger(n) && n > 0 ? n : null;
}

/** A ticket title from an incoming subject: markers, gateway tags and our `[#123]` tags removed. */
export function titleFromSubject(subject: string | null | undefined): string {
  return withoutSubjectPrefixes((subject ?? '').replace(new RegExp(TICKET_TAG.source, 'g'), ' ').replace(/\s+/g, ' ')).trim();
}
