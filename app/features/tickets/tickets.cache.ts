import type { Database } from '../../db/database';
import { listAgents, type AgentRow } from '../../people/people.queries';
import { listCategories, type CategoryRow } from '../categories/categories.queries';
import { listResponses, type ResponseRow } from '../responses/responses.queries';
import { loadPolicy, type SlaPolicy } from '../service-levels/clocks';
import { listTeams, type TeamRow } from '../teams/teams.queries';
import { countTickets, listTickets, openTicketsOf, type ListAnchor, type OpenTicketRow, type TicketListRow, type TicketQuery } from './tickets.queries';

/** A count as shown on a page: exact, or a recent figure labelled "about". */
export interface TicketCount {
  n: number;
  exact: boolean;
}

interface Entry<T> {
  value: T;
  stamp: string | undefined;
  at: number;
  /** How long computing it took: cheap counts are simply recounted after a change. */
  costMs?: number;
}

export interface TicketReadCacheOptions {
  /** How long a count may be shown as "about N" after the data changed, before it is recounted. */
  approximateForMs?: number;
  /** Counts that took less than this are recounted after any change, so they stay exact. */
  cheapMs?: number;
  maxEntries?: number;
  /** Most list pages kept (each about 25 rows). */
  maxPages?: number;
  now?: () => number;
}

/** Shared by every viewer: the value frozen, and each row of an array. */
function frozen<T>(value: T): T {
  if (Array.isArray(value)) return Object.freeze(value.map((r: unknown) => (r !== null && typeof r === 'object' ? Object.freeze(r) : r))) as T;
  return value !== null && typeof value === 'object' ? Object.freeze(value) : value;
}

/** Parts of tickets' pages kept (about 100 tickets' row, timeline, files and known issues): a timeline can be long. */
const TICKET_PARTS_KEPT = 400;

/**
 * Per-process answers to the questions every list and ticket page asks: how many tickets match
 * (an exact COUNT reads every matching index entry: 270,000 of them for the open queue
 * at a million tickets), the category, agent, team and canned-reply lists, list pages, the
 * parts of a ticket's page and an agent's saved views.
 *
 * Correctness rests on the database's change stamp (SQLite: data_version, which moves
 * when another process commits, plus total_changes for this connection's own writes):
 * - an answer computed at the current stamp is exact, because nothing changed since;
 * - after a change, a cheap count (under `cheapMs`, i.e. a small list or database) is
 *   recounted; an expensive one younger than `approximateForMs` is shown labelled
 *   "about", and an older one is recounted, so the label is the only thing that lags;
 * - everything but counts is only reused at the same stamp, never approximately.
 * Without a stamp (a database that cannot tell), counts are always "about" once cached
 * and lists are never cached.
 */
export class TicketReadCache {
  private readonly counts = new Map<string, Entry<number>>();
  private readonly lists = new Map<string, Entry<unknown>>();
  private readonly openTickets = new Map<string, Entry<OpenTicketRow[]>>();
  private readonly ofTickets = new Map<string, Entry<unknown>>();
  private readonly ofPeople = new Map<string, Entry<unknown>>();
  private readonly pages = new Map<string, Entry<readonly TicketListRow[]>>();
  private readonly maxPages: number;
  private readonly approximateForMs: number;
  private readonly cheapMs: number;
  private readonly maxEntries: number;
  private readonly now: () => number;

  constructor(
    private readonly database: Database,
    opts: TicketReadCacheOptions = {},
  ) {
    this.approximateForMs = opts.approximateForMs ?? 15_000;
    this.cheapMs = opts.cheapMs ?? 2;
    this.maxEntries = opts.maxEntries ?? 2_000;
    this.maxPages = opts.maxPages ?? 200;
    this.now = opts.now ?? Date.now;
  }

  private stamp(): string | undefined {
    return this.database.changeStamp?.();
  }

  async count(q: TicketQuery): Promise<TicketCount> {
    // "Unassigned" (null) and "anyone" (undefined) must not share a key: JSON writes both as null.
    const key = JSON.stringify([q.status, q.priority, q.categoryId, q.assigneeId === null ? 'none' : q.assigneeId, q.requesterId, q.teamIds === null ? 'none' : q.teamIds, q.sla, q.words]);
    const stamp = this.stamp();
    const hit = this.counts.get(key);
    const now = this.now();
    if (hit && stamp !== undefined && hit.stamp === stamp) return { n: hit.value, exact: true };
    if (hit && (hit.costMs ?? 0) >= this.cheapMs && now - hit.at < this.approximateForMs) return { n: hit.value, exact: false };
    const started = performance.now();
    const n = await countTickets(this.database.db, this.database.dialect, q);
    const costMs = performance.now() - started;
    // The stamp read before counting: if a write lands meanwhile, the next read sees a
    // different stamp and treats this figure as approximate, never the other way round.
    this.counts.delete(key);
    this.counts.set(key, { value: n, stamp, at: now, costMs });
    if (this.counts.size > this.maxEntries) this.counts.delete(this.counts.keys().next().value as string);
    return { n, exact: true };
  }

  /**
   * The memory every list, page and ticket part below shares: a value is reused only at the
   * stamp read before it was loaded (so it is exactly what the database holds), the oldest
   * is forgotten past `max`, and `keep` prepares what is stored (e.g. frozen, as every
   * viewer shares it). Without a stamp nothing is kept.
   */
  private async atStamp<T>(map: Map<string, Entry<T>>, key: string, max: number, load: () => Promise<T>, keep: (value: T) => T = (v) => v): Promise<T> {
    const stamp = this.stamp();
    if (stamp === undefined) return load();
    const hit = map.get(key);
    if (hit && hit.stamp === stamp) return hit.value;
    const value = keep(await load());
    map.delete(key);
    map.set(key, { value, stamp, at: this.now() });
    if (map.size > max) map.delete(map.keys().next().value as string);
    return value;
  }

  private list<T>(key: string, load: () => Promise<T>): Promise<T> {
    // A handful of fixed keys: nothing to forget.
    return this.atStamp(this.lists as Map<string, Entry<T>>, key, Infinity, load);
  }

  /** Every category (retired ones too: old tickets still name them), in display order. */
  categories(): Promise<CategoryRow[]> {
    return this.list('categories', () => listCategories(this.database.db, { activeOnly: false }));
  }

  agents(): Promise<AgentRow[]> {
    return this.list('agents', () => listAgents(this.database.db));
  }

  /** Every team (retired ones too: tickets still name them), for the queue's filter and the ticket page. */
  teams(): Promise<TeamRow[]> {
    return this.list('teams', () => listTeams(this.database.db, { activeOnly: false }));
  }

  /**
   * The service-level calendar and targets, as the ticket page's clocks read them. Reused only
   * at the same stamp, so a changed target or holiday shows on the next page, on every process.
   */
  slaPolicy(): Promise<SlaPolicy> {
    return this.list('sla-policy', () => loadPolicy(this.database.db));
  }

  /**
   * A requester's newest open tickets (at most `limit`), for the ticket page's side panel:
   * reused only at the same stamp, like the lists above, so an agent reading several of
   * one person's tickets asks once while nothing changes.
   */
  openTicketsOf(requesterId: number, limit: number): Promise<OpenTicketRow[]> {
    return this.atStamp(this.openTickets, `${requesterId}:${limit}`, this.maxEntries, () => openTicketsOf(this.database.db, this.database.dialect, requesterId, limit));
  }

  /**
   * Something read about one ticket for its page (its row, its timeline as this viewer may
   * see it, its files, its known issues): reused only at the same stamp, like the lists
   * above, so it is exactly what the database holds; an agent coming back to a ticket
   * nobody changed reads it once. `part` names what and for whom (`events:internal`).
   * Values are frozen (shallowly, and each row of an array), as every viewer shares them.
   */
  ofTicket<T>(ticketId: number, part: string, load: () => Promise<T>): Promise<T> {
    return this.atStamp(this.ofTickets as Map<string, Entry<T>>, `${ticketId}:${part}`, TICKET_PARTS_KEPT, load, frozen);
  }

  /**
   * Something read for one person's pages (an agent's saved views, shown as the queue's tabs
   * on every page of it): reused only at the same stamp, like the lists above, so a view
   * saved, shared or deleted on any process shows on the next page. Frozen like ticket parts.
   */
  ofPerson<T>(personId: number, part: string, load: () => Promise<T>): Promise<T> {
    return this.atStamp(this.ofPeople as Map<string, Entry<T>>, `${personId}:${part}`, this.maxEntries, load, frozen);
  }

  /**
   * One page of a list. Reused only at the same stamp, like the lists above, so it is
   * exactly what the database holds (nothing anywhere has committed since it was read):
   * agents refreshing a quiet queue read it once. The rows are frozen, as every viewer of
   * that list shares them; times are still worded at each render.
   */
  page(q: TicketQuery, limit: number, offset: number, after?: ListAnchor): Promise<readonly TicketListRow[]> {
    // "Unassigned" (null) and "anyone" (undefined) differ here: JSON keeps null and drops undefined.
    const key = JSON.stringify([q, limit, offset, after ?? null]);
    return this.atStamp<readonly TicketListRow[]>(this.pages, key, this.maxPages, () => listTickets(this.database.db, this.database.dialect, q, limit, offset, after), frozen);
  }

  /** The canned replies agents are offered, by title. */
  cannedResponses(): Promise<ResponseRow[]> {
    return this.list('responses', () => listResponses(this.database.db, { activeOnly: true }));
  }
}
