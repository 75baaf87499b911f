import type { Insertable, Kysely, Selectable, Transaction } from 'kysely';
import type { DialectName } from '../../db/dialect';
import { insertReturningId, MAX_PARAMETERS, paged } from '../../db/portable';
import type { DB, WebhookDeliveriesTable, WebhookDeliveryStatus, WebhooksTable } from '../../db/schema';
import { finishOutboxRow } from '../shared/outbox.queries';

type Q = Kysely<DB> | Transaction<DB>;

export type WebhookRow = Selectable<WebhooksTable>;
export type DeliveryRow = Selectable<WebhookDeliveriesTable>;
export type NewDelivery = Insertable<WebhookDeliveriesTable>;

export interface WebhookFields {
  name: string;
  url: string;
  events: string;
  priorities: string | null;
  teams: string | null;
  format: 'json' | 'teams';
  internal: number;
  active: number;
  linkBase: string;
}

/** The table's columns for an endpoint's settings. */
function columnsOf(w: WebhookFields) {
  return {
    name: w.name,
    url: w.url,
    events: w.events,
    priorities: w.priorities,
    teams: w.teams,
    format: w.format,
    internal: w.internal,
    active: w.active,
    link_base: w.linkBase,
  };
}

export async function listWebhooks(db: Q): Promise<WebhookRow[]> {
  return db.selectFrom('webhooks').selectAll().orderBy('name').orderBy('id').execute();
}

/** The endpoints ticket events may go to, read inside the events' own transaction. */
export async function activeWebhooks(db: Q): Promise<WebhookRow[]> {
  return db.selectFrom('webhooks').selectAll().where('active', '=', 1).orderBy('id').execute();
}

export async function getWebhook(db: Q, id: number): Promise<WebhookRow | undefined> {
  return db.selectFrom('webhooks').selectAll().where('id', '=', id).executeTakeFirst();
}

export async function insertWebhook(db: Q, dialect: DialectName, w: WebhookFields & { secret: string; createdBy: number; at: string }): Promise<number> {
  return insertReturningId(
    db.insertInto('webhooks').values({
      ...columnsOf(w),
      secret: w.secret,
      created_by: w.createdBy,
      created_at: w.at,
      updated_at: w.at,
      version: 1,
    }),
    dialect,
  );
}

/** Change an endpoint only if nobody changed it since `version`; returns whether it did. */
export async function updateWebhookAtVersion(db: Q, id: number, version: number, w: WebhookFields, at: string): Promise<boolean> {
  const r = await db
    .updateTable('webhooks')
    .set({
      ...columnsOf(w),
      updated_at: at,
      version: version + 1,
    })
    .where('id', '=', id)
    .where('version', '=', version)
    .executeTakeFirst();
  return Number(r.numUpdatedRows) === 1;
}

export async function setWebhookSecret(db: Q, id: number, secret: string, at: string): Promise<boolean> {
  const r = await db.updateTable('webhooks').set({ secret, updated_at: at }).where('id', '=', id).executeTakeFirst();
  return Number(r.numUpdatedRows) === 1;
}

/** Remove an endpoint and its delivery log (call inside one transaction). */
export async function deleteWebhook(db: Q, id: number): Promise<boolean> {
  await db.deleteFrom('webhook_deliveries').where('webhook_id', '=', id).execute();
  const r = await db.deleteFrom('webhooks').where('id', '=', id).executeTakeFirst();
  return Number(r.numDeletedRows) === 1;
}

/** Queue deliveries in as few statements as the parameter limit allows. */
export async function insertDeliveries(trx: Q, rows: NewDelivery[]): Promise<void> {
  if (rows.length === 0) return;
  const perStatement = Math.max(1, Math.floor(MAX_PARAMETERS / Object.keys(rows[0]).length));
  for (let i = 0; i < rows.length; i += perStatement) {
    await trx
      .insertInto('webhook_deliveries')
      .values(rows.slice(i, i + perStatement))
      .execute();
  }
}

export async function getDelivery(db: Q, id: number): Promise<(DeliveryRow & { url: string; secret: string; webhook_active: number }) | undefined> {
  return db
    .selectFrom('webhook_deliveries')
    .innerJoin('webhooks', 'webhooks.id', 'webhook_deliveries.webhook_id')
    .selectAll('webhook_deliveries')
    .select(['webhooks.url', 'webhooks.secret', 'webhooks.active as webhook_active'])
    .where('webhook_deliveries.id', '=', id)
    .executeTakeFirst();
}

export interface DeliveryOutcome {
  status: WebhookDeliveryStatus;
  /** The receiver's HTTP status; null when it did not answer. */
  lastStatus: number | null;
  lastAnswer: string | null;
  nextAttemptAt?: string;
  deliveredAt?: string;
}

/** Record how a try went and let go of the lease, if `owner` still holds it; false when it does not. */
export async function finishDelivery(db: Q, id: number, owner: string, outcome: DeliveryOutcome, now: string): Promise<boolean> {
  return finishOutboxRow(db, 'webhook_deliveries', id, owner, outcome, { last_status: outcome.lastStatus, ...(outcome.deliveredAt ? { delivered_at: outcome.deliveredAt } : {}) }, now);
}

/** Send a failed delivery again, now (an administrator asked). Only failed ones: a delivered one is never sent twice. */
export async function requeueDelivery(db: Q, webhookId: number, id: number, now: string): Promise<boolean> {
  const r = await db
    .updateTable('webhook_deliveries')
    .set({ status: 'queued', next_attempt_at: now, updated_at: now })
    .where('id', '=', id)
    .where('webhook_id', '=', webhookId)
    .where('status', '=', 'failed')
    .executeTakeFirst();
  return Number(r.numUpdatedRows) === 1;
}

export type DeliveryListRow = Omit<DeliveryRow, 'body'>;

/** An endpoint's delivery log, newest first. */
export async function listDeliveries(db: Q, dialect: DialectName, webhookId: number, limit: number): Promise<DeliveryListRow[]> {
  return paged(
    db
      .selectFrom('webhook_deliveries')
      .select(['id', 'webhook_id', 'delivery_key', 'event', 'ticket_id', 'status', 'attempts', 'next_attempt_at', 'lease_owner', 'lease_expires_at', 'last_status', 'last_answer', 'created_at', 'updated_at', 'delivered_at'])
      .where('webhook_id', '=', webhookId)
      .orderBy('id', 'desc'),
    dialect,
    limit,
    0,
  ).execute();
}

/** Per endpoint: how many deliveries are queued and failed (the list page's badges). */
export async function deliveryCounts(db: Q): Promise<{ webhook_id: number; status: WebhookDeliveryStatus; n: number }[]> {
  const rows = await db
    .selectFrom('webhook_deliveries')
    .select(['webhook_id', 'status', (eb) => eb.fn.countAll<number>().as('n')])
    .where('status', 'in', ['queued', 'failed'])
    .groupBy(['webhook_id', 'status'])
    .execute();
  return rows.map((r) => ({ webhook_id: r.webhook_id, status: r.status, n: Number(r.n) }));
}

/** Forget delivered and failed deliveries last touched before `before` (queued ones stay). */
export async function deleteFinishedDeliveries(db: Q, before: string): Promise<number> {
  const r = await db.deleteFrom('webhook_deliveries').where('status', 'in', ['delivered', 'failed']).where('updated_at', '<', before).executeTakeFirst();
  return Number(r.numDeletedRows);
}
