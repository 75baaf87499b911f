import type { Transaction } from 'kysely';
import type { DialectName } from '../../db/dialect';
import type { DB } from '../../db/schema';
import { insertEvents, insertEventsReturningIds, type NewEvent, type RecordedEvent } from './tickets.queries';

/**
 * Every change to a ticket is an event, and every service writes its events through
 * `recordEvents`, so whatever else an event calls for (the mail it causes) is written in
 * the same transaction as the event itself, or not at all.
 */

export interface EventsContext {
  /** The Message-ID of the e-mail these events came from (the mailbox reader), so replies thread under it. */
  viaMessageId?: string;
}

/**
 * Told of ticket events inside the transaction that recorded them. Anything it writes
 * commits or rolls back with them; throwing rolls the whole change back.
 */
export interface EventListener {
  eventsRecorded(trx: Transaction<DB>, dialect: DialectName, events: RecordedEvent[], context: EventsContext): Promise<void>;
}

/** Nobody listening. */
export const NO_LISTENER: EventListener = Object.freeze({
  eventsRecorded: async () => undefined,
});

/** Several listeners (mail, webhooks), told in turn inside the one transaction. */
export function allListeners(...listeners: EventListener[]): EventListener {
  const real = listeners.filter((l) => l !== NO_LISTENER);
  if (real.length === 0) return NO_LISTENER;
  if (real.length === 1) return real[0];
  return {
    async eventsRecorded(trx, dialect, events, context) {
      for (const l of real) await l.eventsRecorded(trx, dialect, events, context);
    },
  };
}

/**
 * Insert the events and tell the listener, in the caller's transaction. Returns the events
 * with their ids, which are read only when someone listens (undefined when nobody does).
 */
export async function recordEvents(
  trx: Transaction<DB>,
  dialect: DialectName,
  listener: EventListener,
  events: NewEvent[],
  context: EventsContext = {},
): Promise<RecordedEvent[] | undefined> {
  if (events.length === 0) return [];
  if (listener === NO_LISTENER) {
    await insertEvents(trx, events);
    return undefined;
  }
  const recorded = await insertEventsReturningIds(trx, dialect, events);
  await listener.eventsRecorded(trx, dialect, recorded, context);
  return recorded;
}
