import type { NextFunction, Request, Response } from 'express';
import type { Action, Policy, TicketFacts } from '../access/policy';
import type { Config } from '../config/schema';
import type { StaticUser } from '../directory/static';
import { toDate } from '../db/values';
import { exactTime, fileSize, localeFrom, plural, relativeTime } from './format';
import { isAgent, viewerOf } from './viewer';

export interface Notice {
  kind: 'info' | 'warning';
  text: string;
}

// A list page formats two timestamps per row, and the same rows are shown to every
// agent: the parsed date and its exact text are pure functions of (value, locale).
const times = new Map<string, { date: Date; iso: string; exact: string }>();

function knownTime(value: string, locale: string): { date: Date; iso: string; exact: string } | undefined {
  const key = `${locale}|${value}`;
  let t = times.get(key);
  if (!t) {
    const date = toDate(value);
    if (!date || Number.isNaN(date.getTime())) return undefined;
    t = { date, iso: date.toISOString(), exact: exactTime(date, locale) };
    if (times.size >= 20_000) times.delete(times.keys().next().value as string);
    times.set(key, t);
  }
  return t;
}

/** What every view may use: the viewer, the policy, formatting, notices. */
export function viewLocals(deps: { policy: Policy; config: Config; demoPeople?: StaticUser[] }) {
  const { policy, config } = deps;
  return function locals(req: Request, res: Response, next: NextFunction): void {
    const viewer = viewerOf(res);
    // A signed-in person's pages are theirs alone: no shared cache or back-button copy keeps them.
    if (!viewer.anonymous) res.setHeader('Cache-Control', 'no-store');
    const locale = localeFrom(req.headers['accept-language']);
    const now = new Date();
    res.locals.can = (action: Action, ticket?: TicketFacts) => policy.can(viewer, action, ticket);
    res.locals.path = req.path;
    res.locals.requestHost = req.headers.host ?? 'this site';
    res.locals.currentUrl = req.originalUrl;
    res.locals.identityKind = config.identity;
    res.locals.passwordSignin = Boolean(config.passwordSignin);
    res.locals.demoPeople = config.identity === 'dev' ? deps.demoPeople ?? [] : [];
    res.locals.locale = locale;
    res.locals.plural = plural;
    res.locals.fileSize = fileSize;
    // Guests see people's names, never their logins (which are also e-mail-like identifiers).
    res.locals.personName = (name: string | null | undefined, login: string | null | undefined) =>
      name || (viewer.anonymous ? 'A colleague' : login || 'Someone');
    res.locals.time = (value: string | Date) => {
      const t = typeof value === 'string' ? knownTime(value, locale) : undefined;
      if (t) return { iso: t.iso, relative: relativeTime(t.date, now, locale), exact: t.exact };
      const d = toDate(value) ?? now;
      return { iso: d.toISOString(), relative: relativeTime(d, now, locale), exact: exactTime(d, locale) };
    };
    const notices: Notice[] = [];
    const dir = viewer.directory;
    if (dir && (dir.state === 'stale' || dir.state === 'unavailable') && (isAgent(viewer) || viewer.grants.length > 1 || dir.state === 'unavailable')) {
      notices.push({
        kind: 'warning',
        text:
          dir.state === 'stale'
            ? 'The directory cannot be reached, so your roles are the ones Deskside last saw. Changes to your groups will show once it is back.'
            : 'The directory cannot be reached and Deskside has no recent record of your groups, so you have requester access only until it is back.',
      });
    }
    res.locals.notices = notices;
    next();
  };
}
