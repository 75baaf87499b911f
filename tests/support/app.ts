import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import request from 'supertest';
import type { Express } from 'express';
import { createApp } from '../../app/app';
import { appDepsFor, openConfiguredDatabase } from '../../app/compose';
import { parseConfig, type Config } from '../../app/config/schema';
import type { Database } from '../../app/db/database';
import type { DirectoryCache } from '../../app/directory/cache';
import type { Directory } from '../../app/directory/types';
import type { AttachmentSettings } from '../../app/features/attachments/attachments.service';
import type { MailParts } from '../../app/features/mail/mail.service';
import { TicketReadCache } from '../../app/features/tickets/tickets.cache';
import type { WebhookOutbox } from '../../app/features/webhooks/webhooks.service';
import { createLogger } from '../../app/logging';

export const TEST_SECRET = 'test-secret-0123456789abcdefghijklmnopqrstuvwxyz';

export interface TestApp {
  app: Express;
  config: Config;
  database: Database;
  directory: DirectoryCache;
  /** E-mail's parts when the test's settings turn it on (the sender is the test's to run). */
  mail: MailParts | null;
  /** Where attachment bytes go, and the limits. */
  attachments: AttachmentSettings;
  /** The webhook outbox the app writes deliveries to (the deliverer is the test's to run). */
  webhooks: WebhookOutbox;
  dir: string;
  close(): Promise<void>;
}

/**
 * A real app on a real SQLite file in a fresh temporary folder. People are named by the
 * trusted-proxy header from loopback unless the test chooses another identity.
 */
export async function makeApp(
  opts: { env?: Record<string, string | undefined>; directory?: Directory | null; logs?: string[]; ticketCache?: (database: Database) => TicketReadCache } = {},
): Promise<TestApp> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'deskside-test-'));
  const config = parseConfig({
    NODE_ENV: 'test',
    DESKSIDE_IDENTITY: 'proxy',
    DESKSIDE_TRUSTED_PROXIES: '127.0.0.1,::1',
    DESKSIDE_DATABASE: `sqlite:${path.join(dir, 'deskside.db')}`,
    DESKSIDE_SECRET: TEST_SECRET,
    DESKSIDE_AGENTS: 'TEST\\agent1,TEST\\agent2',
    DESKSIDE_ADMINS: 'TEST\\admin1',
    DESKSIDE_LOG_LEVEL: 'silent',
    // Everything the app keeps on disk (attachments in <dir>/attachments) stays in this folder.
    DESKSIDE_DATA_DIR: dir,
    ...opts.env,
  });
  const logs = opts.logs;
  const logger = createLogger(logs ? 'info' : 'silent', logs ? { write: (s: string) => void logs.push(s) } : undefined);
  const database = await openConfiguredDatabase(config, logger);
  const deps = appDepsFor(config, {
    database,
    logger,
    secret: config.secret ?? TEST_SECRET,
    directory: opts.directory,
    // Counts are always exact here, whatever the machine's speed: the "about N" label
    // depends on how long a count took, and has its own tests (ticket-counts.test.ts).
    ticketCache: opts.ticketCache ? opts.ticketCache(database) : new TicketReadCache(database, { cheapMs: Number.POSITIVE_INFINITY }),
  });
  const app = createApp(deps);
  const directory = deps.directory;
  return {
    app,
    config,
    database,
    directory,
    mail: deps.mail ?? null,
    attachments: deps.attachments,
    webhooks: deps.webhooks,
    dir,
    async close() {
      await database.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export function csrfFrom(html: string): string {
  const m = /name="_csrf" value="([^"]+)"/.exec(html);
  if (!m) throw new Error('no CSRF token on the page');
  return m[1];
}

/**
 * A browser-like client: keeps cookies, sends the proxy identity header for `login`
 * (or none for a guest), and fetches a fresh form token before every POST.
 */
export function client(app: Express, login?: string, header = 'X-Remote-User') {
  const agent = request.agent(app);
  const withId = <T extends request.Test>(t: T): T => (login ? (t.set(header, login)) : t);
  return {
    agent,
    get: (url: string) => withId(agent.get(url)),
    async token(from = '/'): Promise<string> {
      const page = await withId(agent.get(from));
      return csrfFrom(page.text);
    },
    async post(url: string, form: Record<string, string | undefined>, opts: { tokenFrom?: string; token?: string } = {}) {
      const token = opts.token ?? (await this.token(opts.tokenFrom ?? '/me'));
      const body: Record<string, string> = { _csrf: token };
      for (const [k, v] of Object.entries(form)) if (v !== undefined) body[k] = v;
      return withId(agent.post(url).type('form').send(body));
    },
    /**
     * A multipart/form-data post as a browser sends the forms with a file input: the form
     * token first (unless `token: null`, or `filesFirst` puts the files before it), then
     * the fields, then each file in the `files` field.
     */
    async postFiles(url: string, form: Record<string, string | undefined>, files: UploadFile[], opts: { token?: string | null; filesFirst?: boolean } = {}) {
      const token = opts.token === undefined ? await this.token('/me') : opts.token;
      let req = withId(agent.post(url));
      const attachAll = () => {
        for (const f of files) req = req.attach('files', f.content, { filename: f.name, contentType: f.type ?? 'application/octet-stream' });
      };
      if (opts.filesFirst) attachAll();
      if (token !== null) req = req.field('_csrf', token);
      for (const [k, v] of Object.entries(form)) if (v !== undefined) req = req.field(k, v);
      if (!opts.filesFirst) attachAll();
      return req;
    },
  };
}

export interface UploadFile {
  name: string;
  content: Buffer;
  type?: string;
}

/** The ticket numbers a list page shows, in order: the agents' queue table or the requesters' cards. */
export function listedTicketIds(html: string): number[] {
  return [...html.matchAll(/(?:class="title" href|<td class="col-title"><a href)="\/tickets\/(\d+)[?"]/g)].map((m) => Number(m[1]));
}

/** A list page's "1–25 of 40 tickets", tags removed. */
export function listCountText(html: string): string | undefined {
  return /<span id="list-count"[^>]*>(.*?)<\/span>/.exec(html)?.[1].replace(/<[^>]+>/g, '');
}
