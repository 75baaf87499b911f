import type { NextFunction, Request, Response } from 'express';
import type { Action, Policy, TicketFacts } from '../access/policy';
import type { Config } from '../config/schema';
import type { StaticUser } from '../directory/static';
import { toDate } from '../db/values';
import { exactTime, localeFrom, plural, relativeTime } from './format';
import { isAgent, viewerOf } from './viewer';

export interface Notice {
  kind: 'info' | 'warning';
  text: string;
}

/** What every view may use: the viewer, the policy, formatting, notices. */
export function viewLocals(deps: { policy: Policy; config: Config; demoPeople?: StaticUser[] }) {
  const { policy, config } = deps;
  return function locals(req: Request, res: Response, next: NextFunction): void {
    const viewer = viewerOf(res);
    const locale = localeFrom(req.headers['accept-language']);
    const now = new Date();
    res.locals.can = (action: Action, ticket?: TicketFacts) => policy.can(viewer, action, ticket);
    res.locals.path = req.path;
    res.locals.requestHost = req.headers.host ?? 'this site';
    res.locals.currentUrl = req.originalUrl;
    res.locals.identityKind = config.identity;
    res.locals.passwordSignin = Boolean(config.passwordSignin);
    res.locals.anonymousMode = config.anonymous;
    res.locals.demoPeople = config.identity === 'dev' ? deps.demoPeople ?? [] : [];
    res.locals.locale = locale;
    res.locals.plural = plural;
    // Guests see people's names, never their logins (which are also e-mail-like identifiers).
    res.locals.personName = (name: string | null | undefined, login: string | null | undefined) =>
      name || (viewer.anonymous ? 'A colleague' : login || 'Someone');
    res.locals.time = (value: string | Date) => {
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
