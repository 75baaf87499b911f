import { createHash } from 'node:crypto';
import type { Transaction } from 'kysely';
import type * as Mailparser from 'mailparser';
import type { ParsedMail } from 'mailparser';
import type { MailConfig } from '../../config/schema';
import type { Database } from '../../db/database';
import type { DB, MailInboundOutcome } from '../../db/schema';
import { ensurePerson } from '../../people/people.queries';
import { dropUploads, keepUploads, type AttachmentSettings, type StoredUpload } from '../attachments/attachments.service';
import { listCategories } from '../categories/categories.queries';
import { LIMITS } from '../tickets/ticket-values';
import type { EventListener } from '../tickets/ticket-events';
import { getTicketForUpdate } from '../tickets/tickets.queries';
import { insertComment, insertNewTicket } from '../tickets/tickets.service';
import { detectAutomatic } from './auto-reply';
import { NO_FILES, stageMailFiles, type MailFiles } from './inbound-files';
import { fromParsedMail, header } from './inbound-message';
import { arrivalsSince, findInbound, insertInbound, peopleByEmail, recordArrival, updateInbound } from './mail.queries';
import { extractReply } from './reply-text';
import { decideSenderRate, senderKey, windowStart } from './sender-rate';
import { ticketFromReferences, ticketFromSubject, titleFromSubject, type ThreadingContext } from './threading';

/**
 * What becomes of one message from the desk's mailbox. The mailbox reader (reader.ts) hands
 * each message here and then files it where this says: `processed` (acted on, or
 * deliberately left alone) or `failed` (could not be read). Every message handled gets a
 * row in mail_inbound under its Message-ID, in the same transaction as whatever it caused,
 * so the same message (a second copy, or one a crash left in the inbox) is acted on once.
 *
 * - Machine mail (auto-replies, out-of-office, bounces, bulk; lists unless the desk is one)
 *   never becomes a ticket or comment, and so never gets an acknowledgement.
 * - Mail from the desk's own address is its own notifications come back: left alone.
 * - A sender over DESKSIDE_MAIL_SENDER_LIMIT in the window is held back (loops, floods).
 * - The sender is matched to a person by e-mail address; an unknown one becomes a requester
 *   or is refused, as DESKSIDE_MAIL_UNKNOWN_SENDERS says.
 * - A reply is matched to its ticket by our Message-IDs in In-Reply-To/References (their
 *   MAC cannot be forged), else by `[#123]` in the subject, but only from the ticket's
 *   requester or an agent. Through either, the requester or an agent adds a reply (quoted
 *   text and signature cut; the whole message kept for "show the original"); anyone else
 *   who has our Message-IDs (a colleague copied in) adds an internal note, as only the
 *   requester and agents may reply on a ticket. Otherwise the message is a new ticket.
 * - Its files become the ticket's or reply's files, through the attachment service and
 *   under its limits (inbound-files.ts); what does not fit is named in the text.
 */

export interface InboundDeps {
  database: Database;
  mail: Pick<MailConfig, 'unknownSenders' | 'acceptListMail' | 'senderLimit'>;
  /** The desk's own addresses, lower-case. */
  ownAddresses: string[];
  threading: ThreadingContext;
  /** Where the tickets and replies' events go: the outbox listener, so acknowledgements are queued with them. */
  listener: EventListener;
  /** Where an e-mail's files go, and how much is accepted: the web form's store and limits. Absent: files are left out. */
  attachments?: AttachmentSettings;
}

export type Folder = 'processed' | 'failed';

export interface InboundResult {
  outcome: MailInboundOutcome | 'duplicate';
  folder: Folder;
  reason: string | null;
  ticketId: number | null;
}

const MAX_KEY = 450;

/** A message's identity for "once only": its Message-ID, or a hash of the bytes when it has none (or an absurd one). */
export function messageKey(messageId: string | null | undefined, raw: Buffer): string {
  const id = messageId?.trim();
  if (id && id.length <= MAX_KEY) return id;
  return `sha256:${createHash('sha256').update(raw).digest('hex')}`;
}

/** Text cut to `max` characters, saying so. */
function cut(text: string, max: number, note: string): string {
  if (text.length <= max) return text;
  const tail = `\n\n[${note}]`;
  return `${text.slice(0, max - tail.length).trimEnd()}${tail}`;
}

const CUT_NOTE = 'cut here: the whole message is under “the whole e-mail”';

/** Record a message that nothing else is written for (ignored, unreadable). */
async function recordOnly(d: InboundDeps, key: string, m: { messageId: string | null; from: string | null; subject: string | null }, outcome: MailInboundOutcome, reason: string, folder: Folder): Promise<InboundResult> {
  const row = { messageKey: key, messageId: m.messageId, fromAddress: m.from, subject: m.subject, outcome, reason, ticketId: null, eventId: null, personId: null, original: null, at: new Date().toISOString() };
  await d.database.write((trx) => insertInbound(trx, d.database.dialect, row));
  return { outcome, folder, reason, ticketId: null };
}

/** A message that cannot be read at all (unparseable, too large): filed under Deskside/Failed with why. */
export async function recordFailed(d: InboundDeps, key: string, m: { messageId: string | null; from: string | null; subject: string | null }, reason: string): Promise<InboundResult> {
  if (await findInbound(d.database.db, key)) return { outcome: 'duplicate', folder: 'failed', reason: 'already recorded as failed', ticketId: null };
  return recordOnly(d, key, m, 'failed', reason, 'failed');
}

class Duplicate extends Error {}

/** Read one raw message and act on it (see the module comment). Throws only when the database cannot be written. */
export async function processMessage(d: InboundDeps, raw: Buffer, now: Date = new Date()): Promise<InboundResult> {
  let parsed: ParsedMail;
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- loaded on first use, so a process with mail off never loads it (decision 0019)
    parsed = await (require('mailparser') as typeof Mailparser).simpleParser(raw, { skipImageLinks: true, skipTextLinks: true });
  } catch (err) {
    return recordFailed(d, messageKey(null, raw), { messageId: null, from: null, subject: null }, `mailparser could not read it: ${(err as Error).message}`);
  }
  const msg = fromParsedMail(parsed);
  const messageId = parsed.messageId?.trim() || null;
  const key = messageKey(messageId, raw);
  const about = { messageId, from: msg.from, subject: msg.subject ? msg.subject.slice(0, 400) : null };

  if (await findInbound(d.database.db, key)) return { outcome: 'duplicate', folder: 'processed', reason: 'the same Message-ID was handled before', ticketId: null };
  if (!msg.from) return recordFailed(d, key, about, 'it has no sender address (From) to match or answer');
  if (d.ownAddresses.includes(msg.from)) return recordOnly(d, key, about, 'ignored', `it comes from the desk's own address ${msg.from}`, 'processed');
  const automatic = detectAutomatic(msg);
  if (automatic && !(automatic.kind === 'mailing-list' && d.mail.acceptListMail)) {
    return recordOnly(d, key, about, 'ignored', `${automatic.kind.replace('-', ' ')}: ${automatic.reason}`.slice(0, 1000), 'processed');
  }

  // Files are made durable before the transaction whose rows point at them (the attachment
  // service's rule); if that transaction then decides otherwise, the sweeper takes the bytes.
  const files = d.attachments && parsed.attachments.length > 0 && (await mayAct(d, msg.from, now)) ? await stageMailFiles(d.attachments, parsed.attachments) : NO_FILES;
  try {
    const stored = await keepUploads(files.files);
    return await d.database.write((trx) => actOn(d, trx, { parsed, msg: { ...msg, from: msg.from! }, key, about, now, stored, files }));
  } catch (err) {
    if (err instanceof Duplicate) return { outcome: 'duplicate', folder: 'processed', reason: 'another reader handled the same Message-ID first', ticketId: null };
    // The row's unique key: another reader (a lease that ran out under us) got there first.
    if (/unique|duplicate key/i.test((err as Error).message) && (await findInbound(d.database.db, key))) {
      return { outcome: 'duplicate', folder: 'processed', reason: 'another reader handled the same Message-ID first', ticketId: null };
    }
    throw err;
  } finally {
    await dropUploads(files.files);
  }
}

/**
 * Whether the message will be acted on as far as can be told before its transaction (which
 * decides for good): no point storing the files of a refused sender or a flood.
 */
async function mayAct(d: InboundDeps, from: string, now: Date): Promise<boolean> {
  if (d.mail.unknownSenders === 'reject' && (await peopleByEmail(d.database.db, from)).length === 0) return false;
  const arrivals = await arrivalsSince(d.database.db, senderKey(from), windowStart(now, d.mail.senderLimit).toISOString());
  return decideSenderRate(arrivals, now, d.mail.senderLimit).allowed;
}

async function actOn(
  d: InboundDeps,
  trx: Transaction<DB>,
  m: {
    parsed: ParsedMail;
    msg: ReturnType<typeof fromParsedMail> & { from: string };
    key: string;
    about: { messageId: string | null; from: string | null; subject: string | null };
    now: Date;
    stored: StoredUpload[];
    files: MailFiles;
  },
): Promise<InboundResult> {
  const { parsed, msg, key, about, now, stored } = m;
  // Said in the ticket, so nobody wonders where a file went.
  const leftOut = m.files.leftOut.length ? `\n\n[Not attached from the e-mail: ${m.files.leftOut.join('; ')}]` : '';
  const withFiles = stored.length ? ` with ${stored.length} file${stored.length === 1 ? '' : 's'}` : '';
  const dialect = d.database.dialect;
  const at = now.toISOString();
  // First, so a second reader racing on the same message fails here, before writing anything.
  if (await findInbound(trx, key)) throw new Duplicate();
  const inboundId = await insertInbound(trx, dialect, { messageKey: key, messageId: about.messageId, fromAddress: msg.from, subject: about.subject, outcome: 'ignored', reason: null, ticketId: null, eventId: null, personId: null, original: null, at });

  const sender = senderKey(msg.from);
  const limit = d.mail.senderLimit;
  const decision = decideSenderRate(await arrivalsSince(trx, sender, windowStart(now, limit).toISOString()), now, limit);
  await recordArrival(trx, sender, at);
  if (!decision.allowed) {
    const reason = `${decision.count} messages from ${sender} within ${limit.windowMinutes} minutes (the limit is ${limit.maxMessages}); left unanswered. Mail from them is let through again after ${decision.retryAfter!.toISOString()} if they pause.`;
    await updateInbound(trx, inboundId, { outcome: 'rate-limited', reason });
    return { outcome: 'rate-limited', folder: 'processed', reason, ticketId: null };
  }

  let person = (await peopleByEmail(trx, msg.from))[0];
  if (!person) {
    if (d.mail.unknownSenders === 'reject') {
      const reason = `no person in Deskside has the address ${msg.from} (DESKSIDE_MAIL_UNKNOWN_SENDERS=reject)`;
      await updateInbound(trx, inboundId, { outcome: 'rejected', reason });
      return { outcome: 'rejected', folder: 'processed', reason, ticketId: null };
    }
    const name = parsed.from?.value.find((a) => a.address?.toLowerCase() === msg.from)?.name?.trim();
    const created = await ensurePerson(trx, msg.from, msg.from, { displayName: name ? name.slice(0, 200) : null, email: msg.from });
    person = { id: created.id, login: created.login, is_agent: 0 };
  }
  const isAgent = person.is_agent === 1;
  const context = about.messageId ? { viaMessageId: about.messageId } : {};

  // Which ticket it answers, if any, and whether this sender may reply on it.
  let ticketId = ticketFromReferences({ inReplyTo: header(msg, 'in-reply-to'), references: header(msg, 'references') }, d.threading);
  let ticket = ticketId ? await getTicketForUpdate(trx, ticketId) : undefined;
  let via = 'its In-Reply-To/References';
  if (!ticket) {
    const bySubject = ticketFromSubject(msg.subject);
    const t = bySubject ? await getTicketForUpdate(trx, bySubject) : undefined;
    if (t && (t.requester_id === person.id || isAgent)) {
      ticket = t;
      via = `[#${t.id}] in its subject`;
    }
  }
  ticketId = ticket?.id ?? null;
  const text = extractReply({ text: msg.text, html: msg.html });

  if (ticket) {
    const mayReply = ticket.requester_id === person.id || isAgent;
    if (!text.full && stored.length === 0) {
      const reason = `a reply to #${ticket.id} with no text`;
      await updateInbound(trx, inboundId, { outcome: 'ignored', reason, ticketId: ticket.id, personId: person.id });
      return { outcome: 'ignored', folder: 'processed', reason, ticketId: ticket.id };
    }
    const said = mayReply ? text.reply : `By e-mail from ${msg.from}, who is not this ticket’s requester (so only agents see it):\n\n${text.reply}`;
    const body = (cut(said, LIMITS.comment - leftOut.length, CUT_NOTE) + leftOut).trim();
    const events = await insertComment(trx, dialect, { personId: person.id, isAgent }, ticket.id, { body, internal: !mayReply }, d.listener, context, stored);
    const eventId = events?.find((e) => e.kind === 'comment' || e.kind === 'note')?.id ?? null;
    const reason = mayReply
      ? `a reply${withFiles} on #${ticket.id}, matched by ${via}`
      : `kept as an internal note${withFiles} on #${ticket.id} (matched by ${via}): the sender is not its requester or an agent`;
    await updateInbound(trx, inboundId, { outcome: 'comment', reason, ticketId: ticket.id, eventId, personId: person.id, original: text.full && text.full !== body ? text.full : null });
    return { outcome: 'comment', folder: 'processed', reason, ticketId: ticket.id };
  }

  const categories = await listCategories(trx, { activeOnly: true });
  const category = categories.find((c) => c.name === 'Other') ?? categories[categories.length - 1];
  if (!category) throw new Error('there is no active category to file tickets from e-mail under');
  const subject = titleFromSubject(msg.subject) || '(no subject)';
  const title = subject.length > LIMITS.title ? `${subject.slice(0, LIMITS.title - 1).trimEnd()}…` : subject;
  const description = cut(text.full || (stored.length ? '(The e-mail had no text, only files.)' : '(The e-mail had no text.)'), LIMITS.description - leftOut.length, 'cut here: the e-mail was longer') + leftOut;
  const newId = await insertNewTicket(trx, dialect, person.id, { title, description, categoryId: category.id, priority: 'normal', channel: 'email' }, at, d.listener, context, stored);
  const reason = `a new ticket #${newId}${withFiles}`;
  await updateInbound(trx, inboundId, { outcome: 'ticket', reason, ticketId: newId, personId: person.id });
  return { outcome: 'ticket', folder: 'processed', reason, ticketId: newId };
}
