import express, { type Express } from 'express';
import helmet from 'helmet';
import path from 'node:path';
import type { Policy } from './access/policy';
import type { Config } from './config/schema';
import type { Database } from './db/database';
import { APP_ROOT } from './paths';
import type { DirectoryCache } from './directory/cache';
import type { StaticUser } from './directory/static';
import { apiDocsRoutes } from './features/api/api-docs.routes';
import { apiRoutes } from './features/api/api.routes';
import { tokenRoutes } from './features/api-tokens/tokens.routes';
import { categoryAdminRoutes } from './features/categories/categories.routes';
import { dashboardRoutes } from './features/dashboard/dashboard.routes';
import { adminDirectoryRoutes } from './features/admin/directory.routes';
import { attachmentRoutes, fileUrl } from './features/attachments/attachments.routes';
import type { AttachmentSettings } from './features/attachments/attachments.service';
import { isInlineImage } from './features/attachments/content-types';
import { visibleName } from './features/attachments/file-names';
import { UPLOAD_PATHS } from './features/attachments/uploads';
import { actAsRoutes } from './features/dev/act-as.routes';
import { healthRoutes } from './features/health/health.routes';
import { helpRoutes } from './features/help/help.routes';
import { homeRoutes } from './features/home/home.routes';
import { knownIssueRoutes } from './features/known-issues/known-issues.routes';
import { mailRoutes } from './features/mail/mail.routes';
import type { MailParts } from './features/mail/mail.service';
import { meRoutes } from './features/me/me.routes';
import { peopleRoutes } from './features/people/people.routes';
import { responseRoutes } from './features/responses/responses.routes';
import { savedViewRoutes } from './features/saved-views/saved-views.routes';
import { passwordSignInRoutes } from './features/sign-in/password.routes';
import { signInRoutes } from './features/sign-in/sign-in.routes';
import { allListeners, NO_LISTENER, type EventListener } from './features/tickets/ticket-events';
import { teamAdminRoutes } from './features/teams/teams.routes';
import { serviceLevelAdminRoutes } from './features/service-levels/service-levels.routes';
import { TicketReadCache } from './features/tickets/tickets.cache';
import { webhookRoutes } from './features/webhooks/webhooks.routes';
import type { WebhookOutbox } from './features/webhooks/webhooks.service';
import { ticketRoutes } from './features/tickets/tickets.routes';
import type { IdentityProvider } from './identity/types';
import type { Logger } from './logging';
import type { Keys } from './secret';
import { csrf } from './web/csrf';
import { errorHandler } from './web/error-handler';
import { notFound } from './web/http-error';
import { identify, refuseRejectedCredentials } from './web/identify';
import { viewLocals } from './web/locals';
import { ejsViewEngine } from './web/view-engine';
import { requestLog } from './web/request-log';

export interface AppDeps {
  config: Config;
  database: Database;
  keys: Keys;
  logger: Logger;
  identity: IdentityProvider;
  directory: DirectoryCache;
  policy: Policy;
  /** The demo people offered by "act as" (dev identity only). */
  demoPeople?: StaticUser[];
  startedAt?: Date;
  /** Per-process ticket counts and lists; one is made when not given (tests pass their own). */
  ticketCache?: TicketReadCache;
  /** E-mail, when DESKSIDE_SMTP_URL is set: the outbox every ticket event's mail is written to. */
  mail?: MailParts | null;
  /** Where attachment bytes go and how much a post may carry. */
  attachments: AttachmentSettings;
  /** The webhook outbox every ticket event's deliveries are written to (compose.ts starts its deliverer). */
  webhooks: WebhookOutbox;
}

/** Who hears of ticket events: the mail outbox when mail is on, and the webhook outbox. */
export function ticketEventsOf(deps: Pick<AppDeps, 'mail' | 'webhooks'>): EventListener {
  return allListeners(deps.mail?.outbox.listener ?? NO_LISTENER, deps.webhooks.listener);
}

/** Largest form post accepted; ticket descriptions are capped well below it. */
export const BODY_LIMIT = '64kb';

/**
 * Build the Express app from its dependencies. No I/O here: server.ts opens the
 * database and listens, tests call this directly.
 */
export function createApp(deps: AppDeps): Express {
  const { config, logger, policy } = deps;
  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', false);
  app.set('views', path.join(APP_ROOT, 'views'));
  app.set('view engine', 'ejs');
  app.engine('ejs', ejsViewEngine());
  app.set('view cache', config.nodeEnv === 'production');
  app.set('query parser', 'simple');
  // Every page carries its own request id and form token, so an ETag (a SHA-1 of the whole
  // body) could never match; static files keep theirs (express.static sets its own).
  app.set('etag', false);
  app.locals.appName = 'Deskside';
  app.locals.mailEnabled = Boolean(deps.mail);
  // For every page with files: where a file is served, which may be shown in place, the limits a file input states.
  app.locals.fileUrl = fileUrl;
  app.locals.isInlineImage = isInlineImage;
  app.locals.visibleName = visibleName;
  app.locals.attachmentLimits = deps.attachments.limits;

  // First of all: whatever another process committed before this request was sent counts for it.
  app.use((_req, _res, next) => {
    deps.database.lookForChanges?.();
    next();
  });
  app.use(requestLog(logger));
  app.use(
    helmet({
      contentSecurityPolicy: {
        useDefaults: false,
        directives: {
          defaultSrc: ["'self'"],
          scriptSrc: ["'self'"],
          styleSrc: ["'self'"],
          imgSrc: ["'self'", 'data:'],
          fontSrc: ["'self'"],
          connectSrc: ["'self'"],
          formAction: ["'self'"],
          frameAncestors: ["'none'"],
          baseUri: ["'self'"],
          objectSrc: ["'none'"],
        },
      },
      // Intranet sites are often plain http; HSTS there would only confuse.
      strictTransportSecurity: false,
      // Not helmet's no-referrer: under it browsers send `Origin: null` on form posts,
      // which the CSRF origin check must refuse. same-origin still sends nothing to other sites.
      referrerPolicy: { policy: 'same-origin' },
      crossOriginEmbedderPolicy: false,
    }),
  );
  app.use((_req, res, next) => {
    // Keeps Edge's IE mode and old IE out of compatibility view on intranet sites.
    res.setHeader('X-UA-Compatible', 'IE=edge');
    next();
  });
  app.use('/public', express.static(path.join(APP_ROOT, 'public'), { maxAge: config.nodeEnv === 'production' ? '1d' : 0, index: false, fallthrough: true }));

  const forms = csrf({ key: deps.keys.csrf, config, logger, uploadPaths: UPLOAD_PATHS });
  // One per process, shared by the pages that count tickets and the API.
  const ticketCache = deps.ticketCache ?? new TicketReadCache(deps.database);
  // Every ticket event's mail and webhook deliveries are written in the event's own transaction (features/tickets/ticket-events.ts).
  const ticketEvents = ticketEventsOf(deps);
  // The JSON API reads its own bodies, identifies its own callers and answers problem details.
  app.use('/api/v1', apiRoutes({ ...deps, cache: ticketCache, ticketEvents, csrf: forms }));

  app.use(express.urlencoded({ extended: false, limit: BODY_LIMIT, parameterLimit: 200 }));
  app.use(identify(deps));
  // After identify, so admins get the details; an anonymous probe costs no database read.
  app.use(healthRoutes({ config, database: deps.database, directory: deps.directory, policy, logger, startedAt: deps.startedAt ?? new Date() }));
  app.use(forms.locals);
  // View locals before the token check, so a refused post gets a page in the site's look.
  app.use(viewLocals({ policy, config, demoPeople: deps.demoPeople }));
  app.use(forms.verify);

  app.use(refuseRejectedCredentials);
  app.use(homeRoutes({ database: deps.database, policy, cache: ticketCache }));
  app.use(helpRoutes());
  app.use(apiDocsRoutes());
  app.use(knownIssueRoutes({ config, database: deps.database, policy, ticketEvents }));
  app.use(dashboardRoutes({ database: deps.database, policy }));
  if (deps.mail) app.use(mailRoutes({ config, database: deps.database, policy, mail: deps.mail }));
  app.use(ticketRoutes({ config, database: deps.database, policy, cache: ticketCache, attachments: deps.attachments, ticketEvents, directory: deps.directory }));
  app.use(attachmentRoutes({ config, database: deps.database, policy, attachments: deps.attachments, logger, ticketEvents }));
  app.use(savedViewRoutes({ database: deps.database, policy }));
  app.use(responseRoutes({ database: deps.database, policy }));
  app.use(peopleRoutes({ database: deps.database, policy, directory: deps.directory }));
  app.use(signInRoutes({ config, database: deps.database, logger }));
  if (config.passwordSignin) app.use(passwordSignInRoutes({ ...deps, limits: config.passwordSignin }));
  app.use(meRoutes());
  app.use(tokenRoutes({ database: deps.database, policy }));
  app.use(webhookRoutes({ config, database: deps.database, policy, outbox: deps.webhooks }));
  app.use(categoryAdminRoutes({ database: deps.database, policy }));
  app.use(teamAdminRoutes({ database: deps.database, policy, directory: deps.directory }));
  app.use(serviceLevelAdminRoutes({ database: deps.database, policy }));
  app.use(adminDirectoryRoutes({ config, policy, directory: deps.directory }));
  if (config.identity === 'dev') {
    app.use(actAsRoutes({ ...deps, people: deps.demoPeople ?? [] }));
  }

  app.use((_req, _res, next) => next(notFound()));
  app.use(errorHandler({ config, logger, challenges: () => deps.identity.challenges() }));
  return app;
}
