import { randomUUID } from 'node:crypto';
import type { Transaction } from 'kysely';
import type { Database } from '../../db/database';
import type { DialectName } from '../../db/dialect';
import { MAX_PARAMETERS } from '../../db/portable';
import type { DB, MailAudience } from '../../db/schema';
import { nowIso } from '../../db/values';
import { isActive, isStatus } from '../tickets/ticket-values';
import type { EventListener, EventsContext } from '../tickets/ticket-events';
import type { RecordedEvent } from '../tickets/tickets.queries';
import { agentsWantingNewTickets, inboundMessageIds, insertOutboxRows, recipientsByIds, type NewOutboxRow, type Preferences } from './mail.queries';
import { notificationSubject } from './outbound-headers';
import { notificationMessageId, type ThreadingContext } from './threading';

/**
 * Who hears of what. Called in the transaction that records ticket events (tickets/ticket-events.ts),
 * so a notification exists exactly when its event does.
 *
 * - The requester: the acknowledgement of a ticket they raised (with its number), every public
 *   reply (or files) by someone else, the ticket resolved or closed by someone else, and public updates of
 *   a known issue their ticket is linked to (those are public events on their ticket, written
 *   into its timeline like a reply; they are how "this is my problem too" keeps people told).
 * - The assignee: the ticket assigned to them (by someone else), and the requester's replies
 *   and files. Files are told with the post they came with, to whoever hears of it.
 * - Agents who asked for it: every new ticket.
 * - Never an internal note, to anyone; never a person about their own action (but the
 *   acknowledgement); never the desk's own address.
 *
 * Events of one ticket recorded together (a reply that also resolves) make one mail per
 * recipient, named after its first event: `e<event id>:<address>` is unique, so there is at
 * most one notification per event and recipient, and a retry sends the same Message-ID.
 */

/** Each person's choices (mail_preferences) that let a mail through. */
type Wish = keyof Preferences;

const AUDIENCE_ORDER: MailAudience[] = ['requester', 'assignee', 'agent'];
/** The most events one mail tells of (the column holds about forty ids). */
const MAX_EVENTS_PER_MAIL = 30;

export interface OutboxSettings {
  threading: ThreadingContext;
  /** The desk's own addresses, lower-case: never mailed (a loop). */
  ownAddresses: string[];
}

interface Planned {
  ticketId: number;
  personId: number;
  audience: MailAudience;
  wish: Wish;
  events: RecordedEvent[];
}

const ADDRESS = /^[^\s@<>()",;]+@[^\s@<>()",;]+$/;

/** The ticket facts the plan needs, as they are after the events' changes. */
interface TicketFacts {
  id: number;
  title: string;
  requester_id: number;
  assignee_id: number | null;
}

async function ticketFacts(trx: Transaction<DB>, ids: number[]): Promise<Map<number, TicketFacts>> {
  const out = new Map<number, TicketFacts>();
  for (let i = 0; i < ids.length; i += MAX_PARAMETERS) {
    const rows = await trx
      .selectFrom('tickets')
      .select(['id', 'title', 'requester_id', 'assignee_id'])
      .where('id', 'in', ids.slice(i, i + MAX_PARAMETERS))
      .execute();
    for (const r of rows) out.set(r.id, r);
  }
  return out;
}

/** The events that could mean mail, in the order they were recorded. */
const MAILABLE = new Set<RecordedEvent['kind']>(['created', 'comment', 'status', 'assignee', 'issue-update', 'attached']);

/**
 * Who should hear of each event, before anyone's choices and addresses are looked at.
 * Pure, apart from `newTicketAgents` (asked only when a ticket was created).
 */
export function planRecipients(events: RecordedEvent[], tickets: Map<number, TicketFacts>, newTicketAgents: number[]): Planned[] {
  const plans = new Map<string, Planned>();
  const add = (e: RecordedEvent, personId: number | null, audience: MailAudience, wish: Wish) => {
    if (personId === null) return;
    const key = `${e.ticketId}:${personId}`;
    const p = plans.get(key);
    if (!p) plans.set(key, { ticketId: e.ticketId, personId, audience, wish, events: [e] });
    else {
      if (!p.events.includes(e)) p.events.push(e);
      // Someone who is both requester and assignee hears as the requester (the plainer mail).
      if (AUDIENCE_ORDER.indexOf(audience) < AUDIENCE_ORDER.indexOf(p.audience)) {
        p.audience = audience;
        p.wish = wish;
      }
    }
  };
  // The requester's words go to the assignee; anyone else's to the requester.
  const replied = (e: RecordedEvent, t: TicketFacts) => {
    if (e.actorId !== t.requester_id) add(e, t.requester_id, 'requester', 'my_tickets');
    else if (t.assignee_id !== null && t.assignee_id !== e.actorId) add(e, t.assignee_id, 'assignee', 'assigned');
  };
  for (const e of events) {
    if (!MAILABLE.has(e.kind)) continue;
    const t = tickets.get(e.ticketId);
    if (!t) continue;
    const byRequester = e.actorId === t.requester_id;
    switch (e.kind) {
      case 'created':
        add(e, t.requester_id, 'requester', 'my_tickets');
        for (const agent of newTicketAgents) if (agent !== e.actorId && agent !== t.requester_id) add(e, agent, 'agent', 'new_tickets');
        break;
      case 'attached': {
        // Files come with a post (a new ticket, a reply): whoever hears of the post hears of
        // them; files alone are told like a reply.
        const heard = [...plans.values()].filter((p) => p.ticketId === e.ticketId);
        if (heard.length) for (const p of heard) p.events.push(e);
        else replied(e, t);
        break;
      }
      case 'comment':
        replied(e, t);
        break;
      case 'status':
        // Done, by someone else: resolved, or closed without being resolved first.
        if (!byRequester && isStatus(e.from) && isActive(e.from) && (e.to === 'resolved' || e.to === 'closed')) add(e, t.requester_id, 'requester', 'my_tickets');
        break;
      case 'assignee': {
        const to = e.to ? Number(e.to) : null;
        if (to !== null && to !== e.actorId) add(e, to, 'assignee', 'assigned');
        break;
      }
      case 'issue-update':
        add(e, t.requester_id, 'requester', 'my_tickets');
        break;
    }
  }
  return [...plans.values()];
}

/** Write the notifications these just-recorded events call for; returns how many. */
export async function queueNotifications(trx: Transaction<DB>, settings: OutboxSettings, events: RecordedEvent[], context: EventsContext = {}): Promise<number> {
  const mailable = events.filter((e) => MAILABLE.has(e.kind));
  if (mailable.length === 0) return 0;
  const tickets = await ticketFacts(trx, [...new Set(mailable.map((e) => e.ticketId))]);
  const newTicketAgents = mailable.some((e) => e.kind === 'created') ? await agentsWantingNewTickets(trx) : [];
  const plans = planRecipients(mailable, tickets, newTicketAgents);
  if (plans.length === 0) return 0;

  const people = new Map((await recipientsByIds(trx, [...new Set(plans.map((p) => p.personId))])).map((p) => [p.id, p]));
  const own = new Set(settings.ownAddresses);
  const at = nowIso();
  const rows: NewOutboxRow[] = [];
  const seen = new Set<string>();
  const toRequesters: { ticketId: number; address: string; row: NewOutboxRow }[] = [];
  for (const p of plans) {
    const person = people.get(p.personId);
    const address = person?.email?.trim().toLowerCase();
    if (!person || !address || !ADDRESS.test(address) || own.has(address)) continue;
    if (person.prefs[p.wish] !== 1) continue;
    // Only agents hear as assignees or watchers (an assignee who lost the role since is left alone).
    if (p.audience !== 'requester' && person.is_agent !== 1) continue;
    const lead = p.events[0];
    const dedupeKey = `e${lead.id}:${address}`;
    // Two people sharing an address get one mail.
    if (seen.has(dedupeKey)) continue;
    seen.add(dedupeKey);
    const t = tickets.get(p.ticketId)!;
    const row = outboxRow({
      dedupe_key: dedupeKey,
      kind: 'ticket',
      audience: p.audience,
      ticket_id: p.ticketId,
      event_ids: p.events
        .slice(0, MAX_EVENTS_PER_MAIL)
        .map((e) => e.id)
        .join(','),
      person_id: p.personId,
      to_address: address,
      subject: notificationSubject(p.ticketId, t.title),
      message_id: notificationMessageId({ ticketId: p.ticketId, eventId: lead.id, recipient: address }, settings.threading),
    }, at);
    rows.push(row);
    if (p.audience === 'requester') toRequesters.push({ ticketId: p.ticketId, address, row });
  }
  await threadUnderRequesterMail(trx, toRequesters, context);
  await insertOutboxRows(trx, rows);
  return rows.length;
}

/**
 * A requester who wrote to the desk gets answers threaded under their own messages: the
 * message these events came from, and what they sent about the ticket before (newest last,
 * at most five, as References grow long).
 */
async function threadUnderRequesterMail(trx: Transaction<DB>, mails: { ticketId: number; address: string; row: NewOutboxRow }[], context: EventsContext): Promise<void> {
  if (mails.length === 0) return;
  const earlier = await inboundMessageIds(trx, [...new Set(mails.map((m) => m.ticketId))], [...new Set(mails.map((m) => m.address))]);
  for (const m of mails) {
    const ids = earlier.filter((x) => x.ticket_id === m.ticketId && x.from_address === m.address).map((x) => x.message_id);
    if (context.viaMessageId) ids.push(context.viaMessageId);
    const refs = [...new Set(ids.filter((id) => /^<[^<>\s]+>$/.test(id)))].slice(-5);
    if (refs.length) m.row.also_references = refs.join(' ').slice(0, 1000);
  }
}

/** A test message from /admin/mail: no ticket, sent like any notification. */
export async function queueTestMessage(database: Database, threading: ThreadingContext, to: string, requestedBy: number): Promise<void> {
  const tag = randomUUID();
  const row = outboxRow(
    { dedupe_key: `test:${tag}`, kind: 'test', audience: null, ticket_id: null, event_ids: null, person_id: requestedBy, to_address: to, subject: 'Deskside test message', message_id: `<test-${tag}@${threading.host}>` },
    nowIso(),
  );
  await database.write((trx) => insertOutboxRows(trx, [row]));
}

/** A new outbox row: queued, due at once, never tried. */
function outboxRow(
  what: Pick<NewOutboxRow, 'dedupe_key' | 'kind' | 'audience' | 'ticket_id' | 'event_ids' | 'person_id' | 'to_address' | 'subject' | 'message_id'>,
  at: string,
): NewOutboxRow {
  return { ...what, also_references: null, status: 'queued', attempts: 0, next_attempt_at: at, lease_owner: null, lease_expires_at: null, last_answer: null, created_at: at, updated_at: at, sent_at: null };
}

/**
 * The outbox as the rest of the app meets it: the listener that queues notifications, and
 * a way for the sender in this process to hear that there is something to send (other
 * processes find it when they next look).
 */
export interface MailOutbox {
  listener: EventListener;
  settings: OutboxSettings;
  /** Called after something was queued (after its transaction's work, perhaps before its commit). */
  onQueued(fn: () => void): () => void;
  queued(): void;
}

export function createMailOutbox(settings: OutboxSettings): MailOutbox {
  const listeners = new Set<() => void>();
  const queued = () => {
    for (const fn of listeners) fn();
  };
  return {
    settings,
    listener: {
      async eventsRecorded(trx: Transaction<DB>, _dialect: DialectName, events: RecordedEvent[], context: EventsContext) {
        if ((await queueNotifications(trx, settings, events, context)) > 0) queued();
      },
    },
    onQueued(fn) {
      listeners.add(fn);
      return () => listeners.delete(fn);
    },
    queued,
  };
}
