import { randomBytes } from 'node:crypto';
import type { Transaction } from 'kysely';
import type { Database } from '../../db/database';
import type { DialectName } from '../../db/dialect';
import type { DB, WebhookFormat } from '../../db/schema';
import { nowIso } from '../../db/values';
import { listPeopleByIds } from '../../people/people.queries';
import { peopleInEvents, person, type EventNames } from '../api/representation';
import { listCategories } from '../categories/categories.queries';
import { listTeams, type TeamRow } from '../teams/teams.queries';
import { oneLine, text, type FieldErrors } from '../shared/form-values';
import { isPriority, PRIORITIES, priorityName } from '../tickets/ticket-values';
import type { EventListener } from '../tickets/ticket-events';
import { getTicket, type EventRow, type RecordedEvent } from '../tickets/tickets.queries';
import { CHANGE_KINDS, deliveryBody, WEBHOOK_EVENTS, type WebhookEvent } from './payload';
import {
  activeWebhooks,
  deleteWebhook,
  getWebhook,
  insertDeliveries,
  insertWebhook,
  requeueDelivery,
  setWebhookSecret,
  updateWebhookAtVersion,
  type NewDelivery,
  type WebhookFields,
  type WebhookRow,
} from './webhooks.queries';

/**
 * Webhooks: endpoints an administrator adds, told of ticket events. Deliveries are written
 * to the outbox (webhook_deliveries) in the same transaction as the events, by the
 * listener below, and sent later by the deliverer (deliverer.ts), so a delivery exists
 * exactly when its event does. Internal notes go only to endpoints marked internal.
 * Known-issue updates (copied into every linked ticket) are not sent: one outage would
 * flood a channel with a message per ticket.
 */

export const WEBHOOK_LIMITS = { name: 100, url: 2000 } as const;

export interface WebhookForm {
  name: string;
  url: string;
  events: string[];
  priorities: string[];
  /** Team ids, as the form sends them. */
  teams: string[];
  format: string;
  internal: boolean;
  active: boolean;
  linkBase: string;
}

const list = (v: unknown): string[] => (Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : typeof v === 'string' ? [v] : []);

export function readWebhookForm(body: Record<string, unknown>, fallbackLinkBase: string): WebhookForm {
  return {
    name: oneLine(body.name),
    url: text(body.url).trim(),
    events: list(body.events),
    priorities: list(body.priorities),
    teams: list(body.teams),
    format: text(body.format).trim() || 'json',
    internal: body.internal === 'on',
    active: body.active === 'on',
    linkBase: text(body.linkBase).trim().replace(/\/+$/, '') || fallbackLinkBase,
  };
}

/** A form for an endpoint as it is. */
export function formOfWebhook(w: WebhookRow): WebhookForm {
  return {
    name: w.name,
    url: w.url,
    events: w.events.split(',').filter(Boolean),
    priorities: w.priorities ? w.priorities.split(',') : [],
    teams: w.teams ? w.teams.split(',') : [],
    format: w.format,
    internal: w.internal === 1,
    active: w.active === 1,
    linkBase: w.link_base,
  };
}

/**
 * An address Deskside may call. Only http and https: Deskside calls it from the server,
 * so it can reach what the server reaches (intranet hosts included); administrators
 * choose the endpoints, and redirects are never followed.
 */
export function checkWebhookUrl(raw: string): string | undefined {
  if (!raw) return 'Enter the address Deskside should send to';
  if (raw.length > WEBHOOK_LIMITS.url) return `Keep the address to ${WEBHOOK_LIMITS.url} characters or fewer`;
  let u: URL;
  try {
    u = new URL(raw);
  } catch {
    return 'Enter a full address, starting with https://';
  }
  if (u.protocol !== 'https:' && u.protocol !== 'http:') return 'Only http:// and https:// addresses can receive webhooks';
  if (u.username || u.password) return 'Leave the user name and password out of the address; receivers check the signature instead';
  return undefined;
}

function checkLinkBase(raw: string): string | undefined {
  try {
    const u = new URL(raw);
    if ((u.protocol === 'https:' || u.protocol === 'http:') && u.origin === raw) return undefined;
  } catch {
    /* below */
  }
  return 'Enter Deskside’s own address, like https://helpdesk.corp.example (no path)';
}

/**
 * Check an endpoint's form. `teams`: the teams it may be limited to (the active ones, and
 * any the endpoint already names, so a retired team does not make the form unsaveable).
 */
export function checkWebhook(form: WebhookForm, teams: Pick<TeamRow, 'id'>[]): { errors: FieldErrors; values?: WebhookFields } {
  const errors: FieldErrors = {};
  if (!form.name) errors.name = 'Name the endpoint, e.g. “Service desk channel”';
  else if (form.name.length > WEBHOOK_LIMITS.name) errors.name = `Keep the name to ${WEBHOOK_LIMITS.name} characters or fewer`;
  const url = checkWebhookUrl(form.url);
  if (url) errors.url = url;
  if (form.events.length === 0 || form.events.some((e) => !(WEBHOOK_EVENTS as readonly string[]).includes(e))) errors.events = 'Choose at least one kind of event';
  if (form.priorities.some((p) => !isPriority(p))) errors.priorities = 'Choose from the listed priorities';
  if (form.teams.some((t) => !teams.some((x) => String(x.id) === t))) errors.teams = 'Choose from the listed teams';
  if (form.format !== 'json' && form.format !== 'teams') errors.format = 'Choose JSON or a Microsoft Teams card';
  const link = checkLinkBase(form.linkBase);
  if (link) errors.linkBase = link;
  if (Object.keys(errors).length) return { errors };
  const priorities = PRIORITIES.filter((p) => form.priorities.includes(p));
  return {
    errors,
    values: {
      name: form.name,
      url: form.url,
      events: WEBHOOK_EVENTS.filter((e) => form.events.includes(e)).join(','),
      priorities: priorities.length === 0 || priorities.length === PRIORITIES.length ? null : priorities.join(','),
      // In the teams' own order, each once; none ticked: every team (and tickets in none).
      teams: form.teams.length === 0 ? null : teams.filter((x) => form.teams.includes(String(x.id))).map((x) => x.id).join(','),
      format: form.format as WebhookFormat,
      internal: form.internal ? 1 : 0,
      active: form.active ? 1 : 0,
      linkBase: form.linkBase,
    },
  };
}

/** A new signing secret: 32 random bytes, shown to the administrator to give the receiver. */
export function newWebhookSecret(): string {
  return `whsec_${randomBytes(32).toString('base64url')}`;
}

export async function addWebhook(database: Database, actorId: number, values: WebhookFields): Promise<{ id: number; secret: string }> {
  const secret = newWebhookSecret();
  const id = await database.write((trx) => insertWebhook(trx, database.dialect, { ...values, secret, createdBy: actorId, at: nowIso() }));
  return { id, secret };
}

export type ChangeResult = { kind: 'ok' } | { kind: 'not-found' } | { kind: 'conflict'; current: WebhookRow };

export async function changeWebhook(database: Database, id: number, version: number, values: WebhookFields): Promise<ChangeResult> {
  return database.write(async (trx): Promise<ChangeResult> => {
    const w = await getWebhook(trx, id);
    if (!w) return { kind: 'not-found' };
    if (w.version !== version || !(await updateWebhookAtVersion(trx, id, version, values, nowIso()))) return { kind: 'conflict', current: w };
    return { kind: 'ok' };
  });
}

export async function rotateWebhookSecret(database: Database, id: number): Promise<string | null> {
  const secret = newWebhookSecret();
  return (await database.write((trx) => setWebhookSecret(trx, id, secret, nowIso()))) ? secret : null;
}

export async function removeWebhook(database: Database, id: number): Promise<boolean> {
  return database.write((trx) => deleteWebhook(trx, id));
}

export async function retryDelivery(database: Database, webhookId: number, deliveryId: number): Promise<boolean> {
  return database.write((trx) => requeueDelivery(trx, webhookId, deliveryId, nowIso()));
}

/** The teams an endpoint's form offers: the active ones, and those it already names. */
export async function webhookTeamChoices(database: Database, w?: WebhookRow): Promise<TeamRow[]> {
  const named = new Set((w?.teams ?? '').split(',').filter(Boolean));
  return (await listTeams(database.db, { activeOnly: false })).filter((t) => t.active === 1 || named.has(String(t.id)));
}

/** The events a webhook may tell of; anything else (files, text edits, missed targets, known-issue links and updates) is not sent. */
const SENT_KINDS = new Set<string>(['created', 'comment', 'note', 'status', 'priority', 'category', 'assignee', 'team']);

/** Which of the endpoint's events these ticket events are, most telling first. */
function eventOf(hook: WebhookRow, events: { kind: string }[]): WebhookEvent | undefined {
  const wanted = hook.events.split(',');
  const present: WebhookEvent[] = [];
  if (events.some((e) => e.kind === 'created')) present.push('ticket.raised');
  if (events.some((e) => e.kind === 'comment' || e.kind === 'note')) present.push('ticket.commented');
  if (events.some((e) => CHANGE_KINDS.has(e.kind))) present.push('ticket.changed');
  return present.find((e) => wanted.includes(e));
}

export interface WebhookOutbox {
  listener: EventListener;
  /** Call `wake` whenever this process queues deliveries; returns a function that stops it. */
  onQueued(wake: () => void): () => void;
  /** Something was queued outside a ticket event (a test message, a retry). */
  notify(): void;
}

/** The deliveries these just-recorded events call for, one per endpoint and ticket. */
async function planDeliveries(trx: Transaction<DB>, hooks: WebhookRow[], events: RecordedEvent[]): Promise<NewDelivery[]> {
  const byTicket = new Map<number, RecordedEvent[]>();
  for (const e of events) byTicket.set(e.ticketId, [...(byTicket.get(e.ticketId) ?? []), e]);
  const [categories, teams] = await Promise.all([listCategories(trx, { activeOnly: false }), listTeams(trx, { activeOnly: false })]);
  const rows: NewDelivery[] = [];
  const at = nowIso();
  for (const [ticketId, evs] of byTicket) {
    const ticket = await getTicket(trx, ticketId);
    if (!ticket) continue;
    const asRows: EventRow[] = evs.map((e) => ({ id: e.id, kind: e.kind, body: e.body ?? null, from_value: e.from ?? null, to_value: e.to ?? null, ticket_version: e.ticketVersion, created_at: e.at, actor_id: e.actorId, actor_name: null, actor_login: null }));
    const ids = [...new Set([...peopleInEvents(asRows), ...evs.flatMap((e) => (e.actorId === null ? [] : [e.actorId]))])];
    const people = await listPeopleByIds(trx, ids);
    const names: EventNames = { people: new Map(people.map((p) => [p.id, { login: p.login, name: p.display_name }])), categories, teams };
    for (const r of asRows) {
      const a = r.actor_id === null ? undefined : names.people.get(r.actor_id);
      if (a) Object.assign(r, { actor_login: a.login, actor_name: a.name });
    }
    for (const hook of hooks) {
      const mine = asRows.filter((e) => hook.internal === 1 || e.kind !== 'note');
      const event = mine.length ? eventOf(hook, mine) : undefined;
      if (!event) continue;
      if (hook.priorities && !hook.priorities.split(',').includes(priorityName(ticket.priority))) continue;
      // The ticket's team after these events (a ticket moved to the team is news to it).
      if (hook.teams && (ticket.team_id === null || !hook.teams.split(',').includes(String(ticket.team_id)))) continue;
      const first = mine[0];
      const deliveryKey = `w${hook.id}:e${first.id}`;
      rows.push({
        webhook_id: hook.id,
        delivery_key: deliveryKey,
        event,
        ticket_id: ticketId,
        body: deliveryBody(hook.format, {
          deliveryId: deliveryKey,
          event,
          occurredAt: new Date(first.created_at).toISOString(),
          actor: person(first.actor_id, first.actor_login, first.actor_name),
          ticket,
          events: mine,
          names,
          linkBase: hook.link_base,
        }),
        status: 'queued',
        attempts: 0,
        next_attempt_at: at,
        lease_owner: null,
        lease_expires_at: null,
        last_status: null,
        last_answer: null,
        created_at: at,
        updated_at: at,
        delivered_at: null,
      });
    }
  }
  return rows;
}

/**
 * The outbox's side of ticket events: a listener that writes deliveries inside the events'
 * transaction (so they commit or roll back together), and a way for this process's
 * deliverer to hear that something was queued.
 */
export function createWebhookOutbox(): WebhookOutbox {
  const wakers = new Set<() => void>();
  const notify = () => {
    for (const wake of wakers) wake();
  };
  return {
    notify,
    listener: {
      async eventsRecorded(trx: Transaction<DB>, _dialect: DialectName, events: RecordedEvent[]) {
        const sendable = events.filter((e) => SENT_KINDS.has(e.kind));
        if (sendable.length === 0) return;
        const hooks = await activeWebhooks(trx);
        if (hooks.length === 0) return;
        const rows = await planDeliveries(trx, hooks, sendable);
        await insertDeliveries(trx, rows);
        if (rows.length) notify();
      },
    },
    onQueued(wake) {
      wakers.add(wake);
      return () => wakers.delete(wake);
    },
  };
}

/** A test message to one endpoint, queued like any delivery. */
export async function queuePing(database: Database, outbox: WebhookOutbox, hook: WebhookRow): Promise<void> {
  const at = nowIso();
  const key = `w${hook.id}:ping:${randomBytes(6).toString('hex')}`;
  const body = deliveryBody(hook.format, { deliveryId: key, event: 'ping', occurredAt: at, actor: null, ticket: null, events: [], names: { people: new Map(), categories: [], teams: [] }, linkBase: hook.link_base });
  await database.write((trx) =>
    insertDeliveries(trx, [
      { webhook_id: hook.id, delivery_key: key, event: 'ping', ticket_id: null, body, status: 'queued', attempts: 0, next_attempt_at: at, lease_owner: null, lease_expires_at: null, last_status: null, last_answer: null, created_at: at, updated_at: at, delivered_at: null },
    ]),
  );
  outbox.notify();
}
