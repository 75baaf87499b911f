import type { Login } from '../login';
import type { Directory, DirectoryPerson, GroupMembers } from './types';

/**
 * How fresh the answer is:
 * - off: no directory configured; roles come from config logins only.
 * - ok: the directory answered within the cache lifetime.
 * - stale: the directory could not be asked; this is the last known answer.
 * - unavailable: the directory could not be asked and nothing recent is known.
 */
export type LookupState = 'off' | 'ok' | 'stale' | 'unavailable';

export interface LookupOutcome {
  person: DirectoryPerson | null;
  state: LookupState;
  fromCache: boolean;
  /** When the answer was fetched from the directory (ms since epoch). */
  fetchedAt?: number;
  /** How long the directory took, when it was asked on this call. */
  elapsedMs?: number;
  error?: string;
}

const SEARCH_TTL_MS = 60_000;

interface Entry {
  person: DirectoryPerson | null;
  fetchedAt: number;
}

/** A group's members as a page needs them: fresh, the last known during an outage, or not known. */
export interface GroupOutcome {
  state: LookupState;
  /** null: the directory has no such group (or, with state unavailable/off, nothing is known). */
  group: GroupMembers | null;
  fetchedAt?: number;
  error?: string;
}

/** How many members of a group pages ask for; a team larger than this is shown cut short. */
export const GROUP_MEMBER_LIMIT = 2000;

export interface DirectoryCacheOptions {
  ttlMs: number;
  maxStaleMs: number;
  maxEntries?: number;
  now?: () => number;
}

/**
 * A per-process cache in front of the directory with stale-on-error: an LDAP outage
 * never locks people out (last known answer, up to maxStaleMs) and never grants more
 * than was last known. Concurrent lookups of one login share a single directory call.
 */
export class DirectoryCache {
  private readonly entries = new Map<string, Entry>();
  private readonly inflight = new Map<string, Promise<LookupOutcome>>();
  private readonly searches = new Map<string, { at: number; people: Promise<DirectoryPerson[]> }>();
  private readonly groups = new Map<string, { group: GroupMembers | null; fetchedAt: number }>();
  private readonly groupsInflight = new Map<string, Promise<GroupOutcome>>();
  private readonly now: () => number;
  private lastFailureAt: number | undefined;
  private lastError: string | undefined;

  constructor(
    readonly directory: Directory | null,
    private readonly opts: DirectoryCacheOptions,
  ) {
    this.now = opts.now ?? Date.now;
  }

  /** How long an answer is fresh, and how long a stale one may stand in during an outage. */
  get lifetimes(): { ttlMs: number; maxStaleMs: number } {
    return { ttlMs: this.opts.ttlMs, maxStaleMs: this.opts.maxStaleMs };
  }

  get enabled(): boolean {
    return this.directory !== null;
  }

  /** `degraded` from a failed lookup until the next successful one. */
  health(): { state: 'off' | 'ok' | 'degraded'; lastError?: string } {
    if (!this.directory) return { state: 'off' };
    if (this.lastFailureAt !== undefined) return { state: 'degraded', lastError: this.lastError };
    return { state: 'ok' };
  }

  peek(login: Login): { person: DirectoryPerson | null; fetchedAt: number; ageMs: number } | undefined {
    const e = this.entries.get(login.key);
    return e ? { ...e, ageMs: this.now() - e.fetchedAt } : undefined;
  }

  forget(login: Login): void {
    this.entries.delete(login.key);
  }

  async get(login: Login, opts: { bypassCache?: boolean } = {}): Promise<LookupOutcome> {
    if (!this.directory) return { person: null, state: 'off', fromCache: false };
    const cached = this.entries.get(login.key);
    if (!opts.bypassCache && cached && this.now() - cached.fetchedAt < this.opts.ttlMs) {
      return { person: cached.person, state: 'ok', fromCache: true, fetchedAt: cached.fetchedAt };
    }
    const running = this.inflight.get(login.key);
    if (running && !opts.bypassCache) return running;
    const p = this.fetch(login).finally(() => this.inflight.delete(login.key));
    this.inflight.set(login.key, p);
    return p;
  }

  private async fetch(login: Login): Promise<LookupOutcome> {
    const started = this.now();
    try {
      const person = await this.directory!.lookup(login);
      const fetchedAt = this.now();
      this.store(login.key, { person, fetchedAt });
      this.lastFailureAt = undefined;
      this.lastError = undefined;
      return { person, state: 'ok', fromCache: false, fetchedAt, elapsedMs: fetchedAt - started };
    } catch (err) {
      const now = this.now();
      this.lastFailureAt = now;
      this.lastError = err instanceof Error ? err.message : String(err);
      const cached = this.entries.get(login.key);
      const elapsedMs = now - started;
      if (cached && now - cached.fetchedAt <= this.opts.maxStaleMs) {
        return { person: cached.person, state: 'stale', fromCache: true, fetchedAt: cached.fetchedAt, elapsedMs, error: this.lastError };
      }
      return { person: null, state: 'unavailable', fromCache: false, elapsedMs, error: this.lastError };
    }
  }

  /**
   * People matching a search (see Directory.search). Answers are kept for a minute, so an
   * agent typing a name asks the directory once per distinct text; a failure is not
   * kept, and comes back as `unavailable` rather than an error.
   */
  async search(query: string, limit: number): Promise<{ people: DirectoryPerson[]; state: 'off' | 'ok' | 'unavailable'; error?: string }> {
    if (!this.directory) return { people: [], state: 'off' };
    const key = `${limit}|${query.trim().toLowerCase()}`;
    const now = this.now();
    let hit = this.searches.get(key);
    if (!hit || now - hit.at > SEARCH_TTL_MS) {
      hit = { at: now, people: this.directory.search(query, limit) };
      this.searches.delete(key);
      this.searches.set(key, hit);
      if (this.searches.size > 500) this.searches.delete(this.searches.keys().next().value as string);
    }
    const entry = hit;
    try {
      return { people: await entry.people, state: 'ok' };
    } catch (err) {
      if (this.searches.get(key) === entry) this.searches.delete(key);
      return { people: [], state: 'unavailable', error: err instanceof Error ? err.message : String(err) };
    }
  }

  /**
   * A group's members, nested groups included (Directory.groupMembers), cached like
   * people: fresh for the cache lifetime, the last known answer for up to maxStaleMs while
   * the directory cannot be asked; concurrent asks for one group share one search.
   */
  async groupMembers(group: string, opts: { bypassCache?: boolean } = {}): Promise<GroupOutcome> {
    if (!this.directory) return { state: 'off', group: null };
    const key = group.trim().toLowerCase();
    const cached = this.groups.get(key);
    if (!opts.bypassCache && cached && this.now() - cached.fetchedAt < this.opts.ttlMs) return { state: 'ok', group: cached.group, fetchedAt: cached.fetchedAt };
    const running = this.groupsInflight.get(key);
    if (running && !opts.bypassCache) return running;
    const p = (async (): Promise<GroupOutcome> => {
      try {
        const answer = await this.directory!.groupMembers(group, GROUP_MEMBER_LIMIT);
        const fetchedAt = this.now();
        this.groups.delete(key);
        this.groups.set(key, { group: answer, fetchedAt });
        if (this.groups.size > 500) this.groups.delete(this.groups.keys().next().value as string);
        return { state: 'ok', group: answer, fetchedAt };
      } catch (err) {
        const error = err instanceof Error ? err.message : String(err);
        const now = this.now();
        if (cached && now - cached.fetchedAt <= this.opts.maxStaleMs) return { state: 'stale', group: cached.group, fetchedAt: cached.fetchedAt, error };
        return { state: 'unavailable', group: null, error };
      }
    })().finally(() => this.groupsInflight.delete(key));
    this.groupsInflight.set(key, p);
    return p;
  }

  private store(key: string, entry: Entry): void {
    this.entries.delete(key);
    this.entries.set(key, entry);
    const max = this.opts.maxEntries ?? 10_000;
    while (this.entries.size > max) {
      const oldest = this.entries.keys().next().value as string;
      this.entries.delete(oldest);
    }
  }
}
