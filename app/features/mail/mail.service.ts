import type { MailConfig } from '../../config/schema';
import type { Database } from '../../db/database';
import type { EventListener } from '../tickets/ticket-events';
import type { MailOutboxStatus } from '../../db/schema';
import { nowIso, toDate } from '../../db/values';
import { findPersonById } from '../../people/people.queries';
import { text } from '../shared/form-values';
import {
  countOutboxByStatus,
  getPreferences,
  inboundOriginal,
  leaseHolder,
  listInbound,
  listOutbox,
  savePreferences,
  type InboundListRow,
  type OutboxRow,
  type Preferences,
} from './mail.queries';
import type { AttachmentSettings } from '../attachments/attachments.service';
import type { InboundDeps } from './inbound.service';
import { queueTestMessage, type MailOutbox } from './outbox.service';
import { READER_LEASE } from './reader';
import { describeImap, describeSmtp } from './transport';
import { singleAddress } from '../../config/mail';

/** E-mail as the web app meets it (compose.ts makes it when DESKSIDE_SMTP_URL is set). */
export interface MailParts {
  config: MailConfig;
  outbox: MailOutbox;
}

/** What the mailbox reader acts with: the outbox's listener and threading, and the attachment store and limits. */
/** `listener`: who hears of the tickets and replies mail makes (the app's: mail and webhooks alike). */
export function inboundDeps(database: Database, mail: MailParts, attachments?: AttachmentSettings, listener: EventListener = mail.outbox.listener): InboundDeps {
  const { ownAddresses, threading } = mail.outbox.settings;
  return { database, mail: mail.config, ownAddresses, threading, listener, attachments };
}

// ---------------------------------------------------------------------------------------
// /me/notifications

export interface NotificationSettings {
  /** The address mail goes to: the person's row (from the directory when it is on). */
  email: string | null;
  prefs: Preferences;
}

export async function notificationSettings(database: Database, personId: number): Promise<NotificationSettings> {
  const [person, prefs] = await Promise.all([findPersonById(database.db, personId), getPreferences(database.db, personId)]);
  return { email: person?.email ?? null, prefs };
}

/**
 * Save the form's checkboxes. Requesters only see "my tickets"; the agent choices they
 * cannot see keep whatever they were (a person who stops being an agent keeps theirs).
 */
export async function saveNotificationSettings(database: Database, personId: number, agent: boolean, body: Record<string, unknown>): Promise<void> {
  const on = (k: string) => (text(body[k]) === 'on' ? 1 : 0);
  const current = await getPreferences(database.db, personId);
  const prefs: Preferences = agent ? { my_tickets: on('my_tickets'), assigned: on('assigned'), new_tickets: on('new_tickets') } : { ...current, my_tickets: on('my_tickets') };
  await database.write((trx) => savePreferences(trx, personId, prefs, nowIso()));
}

// ---------------------------------------------------------------------------------------
// /admin/mail

export const OUTBOX_TABS: readonly (MailOutboxStatus | 'all')[] = ['queued', 'failed', 'sent', 'all'];
export const OUTBOX_PAGE = 50;

export interface MailOverview {
  smtp: string;
  from: string;
  publicUrl: string;
  imap: string | null;
  unknownSenders: string;
  /** The process reading the mailbox now (its lease is live), or null when none is. */
  reader: { holder: string; until: Date } | null;
  counts: Record<MailOutboxStatus, number>;
  status: MailOutboxStatus | 'all';
  page: number;
  pages: number;
  rows: OutboxRow[];
  inbound: InboundListRow[];
}

export function parseOutboxTab(query: Record<string, unknown>): { status: MailOutboxStatus | 'all'; page: number } {
  const s = text(query.status);
  const status = (OUTBOX_TABS as readonly string[]).includes(s) ? (s as MailOutboxStatus | 'all') : 'queued';
  const p = text(query.page);
  const page = /^\d{1,6}$/.test(p) && Number(p) >= 1 ? Number(p) : 1;
  return { status, page };
}

export async function mailOverview(database: Database, mail: MailConfig, tab: { status: MailOutboxStatus | 'all'; page: number }): Promise<MailOverview> {
  const [counts, rows, inbound, lease] = await Promise.all([
    countOutboxByStatus(database.db),
    listOutbox(database.db, database.dialect, tab.status, OUTBOX_PAGE, (tab.page - 1) * OUTBOX_PAGE),
    mail.imap ? listInbound(database.db, database.dialect, 25) : Promise.resolve([]),
    mail.imap ? leaseHolder(database.db, READER_LEASE) : Promise.resolve(undefined),
  ]);
  const until = lease ? toDate(lease.expires_at)! : null;
  const total = tab.status === 'all' ? counts.queued + counts.sent + counts.failed : counts[tab.status];
  return {
    smtp: describeSmtp(mail),
    from: mail.from,
    publicUrl: mail.publicUrl,
    imap: mail.imap ? describeImap(mail.imap) : null,
    unknownSenders: mail.unknownSenders,
    reader: lease && until && until.getTime() > Date.now() ? { holder: lease.holder, until } : null,
    counts,
    status: tab.status,
    page: tab.page,
    pages: Math.max(1, Math.ceil(total / OUTBOX_PAGE)),
    rows,
    inbound,
  };
}

export type TestResult = { kind: 'queued'; to: string } | { kind: 'invalid'; error: string; to: string };

/** Queue a test message to an address an administrator typed. */
export async function sendTestMessage(database: Database, outbox: MailOutbox, requestedBy: number, raw: unknown): Promise<TestResult> {
  const typed = text(raw).trim().slice(0, 320);
  if (!typed) return { kind: 'invalid', error: 'Enter the e-mail address to send the test message to', to: typed };
  const to = singleAddress(typed);
  if (!to || typed.includes('<')) return { kind: 'invalid', error: 'Enter one e-mail address, like name@corp.example', to: typed };
  await queueTestMessage(database, outbox.settings.threading, to, requestedBy);
  outbox.queued();
  return { kind: 'queued', to };
}

// ---------------------------------------------------------------------------------------
// A reply's whole message, behind its comment

export async function originalMessage(database: Database, ticketId: number, id: number) {
  const row = await inboundOriginal(database.db, ticketId, id);
  return row && row.original !== null ? row : undefined;
}
