import { performance } from 'node:perf_hooks';
import { resolveRoles, type Role, type RoleGrant } from '../../access/roles';
import type { Config } from '../../config/schema';
import type { DirectoryCache, LookupOutcome } from '../../directory/cache';
import type { DirectoryGroup, DirectoryPerson, DirectoryStatus, LookupTrace } from '../../directory/types';
import { MAX_LOGIN_LENGTH, parseLogin, type Login } from '../../login';

export interface DirectoryOverview {
  state: 'off' | 'ok' | 'degraded';
  lastError?: string;
  describe: string;
  kind: 'off' | 'static' | 'ldap';
  status?: DirectoryStatus;
  ttlSeconds: number;
  maxStaleSeconds: number;
  agents: string[];
  admins: string[];
}

export interface CacheSnapshot {
  ageMs: number;
  found: boolean;
  /** fresh: requests use it as is; stale: only while the directory cannot be asked; expired: too old even for that. */
  freshness: 'fresh' | 'stale' | 'expired';
}

export interface DirectoryReport {
  login: Login;
  /** What the cache held before this lookup (what requests were using). */
  before?: CacheSnapshot;
  outcome: LookupOutcome;
  person: DirectoryPerson | null;
  direct: DirectoryGroup[];
  nested: DirectoryGroup[];
  /** false when the directory could not be asked and nothing recent was known: groups count for nothing. */
  groupsCount: boolean;
  roles: Role[];
  grants: RoleGrant[];
  trace?: LookupTrace;
  totalMs: number;
}

export function directoryOverview(directory: DirectoryCache, config: Pick<Config, 'agents' | 'admins'>): DirectoryOverview {
  const health = directory.health();
  const d = directory.directory;
  const { ttlMs, maxStaleMs } = directory.lifetimes;
  return {
    state: health.state,
    lastError: health.lastError,
    describe: d?.describe ?? 'none: roles come from logins listed in DESKSIDE_AGENTS and DESKSIDE_ADMINS',
    kind: d ? d.kind : 'off',
    status: d?.status?.(),
    ttlSeconds: ttlMs / 1000,
    maxStaleSeconds: maxStaleMs / 1000,
    agents: config.agents,
    admins: config.admins,
  };
}

export type LoginInput = { ok: true; login: Login } | { ok: false; error: string };

export function parseLoginInput(raw: unknown): LoginInput {
  const value = typeof raw === 'string' ? raw.trim() : '';
  if (!value) return { ok: false, error: 'Enter a login, like CORP\\alice or alice@corp.example' };
  if (value.length > MAX_LOGIN_LENGTH) return { ok: false, error: `A login is at most ${MAX_LOGIN_LENGTH} characters` };
  const login = parseLogin(value);
  if (!login) return { ok: false, error: 'That is not a Windows login: write DOMAIN\\user or user@realm, as IIS reports it' };
  return { ok: true, login };
}

/**
 * Ask the directory about one login now, the way a request would (through the cache, so
 * the answer also refreshes what requests use), and work out the roles it gives. The
 * rule for an unreachable directory is the one identify.ts applies to every request.
 */
export async function inspectLogin(directory: DirectoryCache, config: Pick<Config, 'agents' | 'admins'>, login: Login): Promise<DirectoryReport> {
  const { ttlMs, maxStaleMs } = directory.lifetimes;
  const cached = directory.peek(login);
  const before: CacheSnapshot | undefined = cached
    ? { ageMs: cached.ageMs, found: cached.person !== null, freshness: cached.ageMs < ttlMs ? 'fresh' : cached.ageMs <= maxStaleMs ? 'stale' : 'expired' }
    : undefined;
  const t0 = performance.now();
  const outcome = await directory.get(login, { bypassCache: true });
  const totalMs = Math.round((performance.now() - t0) * 10) / 10;
  const groupsCount = outcome.state === 'ok' || outcome.state === 'stale';
  const groups = groupsCount ? outcome.person?.groups ?? [] : [];
  const { roles, grants } = resolveRoles({ key: login.key, groups }, config);
  return {
    login,
    before,
    outcome,
    person: outcome.person,
    direct: groups.filter((g) => !g.nested),
    nested: groups.filter((g) => g.nested),
    groupsCount,
    roles,
    grants,
    trace: directory.directory?.explain?.(login),
    totalMs,
  };
}
