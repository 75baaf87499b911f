/**
 * Every query the app sends, compiled for SQL Server by running the real query
 * functions and services against a Kysely that records SQL instead of executing it.
 * No SQL Server runs here, so this is how the SQL Server text is kept right by
 * construction; tests/mssql runs the same functions against a real server.
 */
import type { CompiledQuery } from 'kysely';
import { compileOnly, type RecordedQuery } from '../../../app/db/compile-only';
import { migrationNames, migrationScript } from '../../../app/db/migrate';
import { bindParameter } from '../../../app/db/mssql-driver';
import { searchWords } from '../../../app/db/portable';
import { seedDemoIfEmpty } from '../../../app/features/demo/demo-data';
import { seedTickets } from '../../../app/features/demo/generator';
import * as attachments from '../../../app/features/attachments/attachments.queries';
import * as attachmentService from '../../../app/features/attachments/attachments.service';
import * as categories from '../../../app/features/categories/categories.queries';
import * as leases from '../../../app/features/shared/leases.queries';
import * as people from '../../../app/people/people.queries';
import * as knownIssues from '../../../app/features/known-issues/known-issues.queries';
import * as kiService from '../../../app/features/known-issues/known-issues.service';
import * as tickets from '../../../app/features/tickets/tickets.queries';
import * as service from '../../../app/features/tickets/tickets.service';
import * as bulk from '../../../app/features/tickets/bulk.service';
import * as savedViews from '../../../app/features/saved-views/saved-views.queries';
import * as viewService from '../../../app/features/saved-views/saved-views.service';
import * as responses from '../../../app/features/responses/responses.queries';
import * as sessions from '../../../app/session/sessions.queries';
import * as tokens from '../../../app/features/api-tokens/tokens.queries';
import * as tokenService from '../../../app/features/api-tokens/tokens.service';
import * as outbox from '../../../app/features/shared/outbox.queries';
import * as webhooks from '../../../app/features/webhooks/webhooks.queries';
import * as webhookService from '../../../app/features/webhooks/webhooks.service';
import { deliverDue } from '../../../app/features/webhooks/deliverer';
import * as mailQueries from '../../../app/features/mail/mail.queries';
import * as mailService from '../../../app/features/mail/mail.service';
import { createMailOutbox, queueNotifications } from '../../../app/features/mail/outbox.service';
import { sendDue, sweepMailTables } from '../../../app/features/mail/sender';
import { createLogger } from '../../../app/logging';
import { recordEvents } from '../../../app/features/tickets/ticket-events';
import * as teams from '../../../app/features/teams/teams.queries';
import * as teamsService from '../../../app/features/teams/teams.service';
import * as sla from '../../../app/features/service-levels/service-levels.queries';
import * as clocks from '../../../app/features/service-levels/clocks';
import * as slaService from '../../../app/features/service-levels/service-levels.service';
import * as dashboard from '../../../app/features/dashboard/dashboard.queries';
import * as dashboardService from '../../../app/features/dashboard/dashboard.service';
import { DirectoryCache } from '../../../app/directory/cache';
import { createStaticDirectory } from '../../../app/directory/static';

/** A row that satisfies every select the app makes (ticket, person, category, count). */
const ROW = {
  id: 1,
  version: 1,
  status: 'pending',
  priority: 2,
  category_id: 1,
  requester_id: 1,
  assignee_id: null,
  resolved_at: null,
  name: 'Hardware',
  description: null,
  active: 1,
  login: 'CORP\\alice',
  login_key: 'corp\\alice',
  display_name: 'Alice',
  email: 'alice@corp.example',
  department: null,
  title: 'A title',
  is_agent: 1,
  my_tickets: 1,
  assigned: 1,
  new_tickets: 1,
  n: 0,
  m: 0,
  // Team, service-level and dashboard rows.
  team_id: null,
  created_at: '2026-03-02T09:00:00.000Z',
  default_team_id: null,
  directory_group: null,
  calendar: JSON.stringify({ timeZone: 'Europe/London', hours: { mon: [{ start: '08:00', end: '18:00' }] } }),
  at_risk_percent: 25,
  kind: 'response',
  target_minutes: 60,
  started_at: '2026-03-02T09:00:00.000Z',
  due_at: '2026-03-02T10:00:00.000Z',
  warn_at: null,
  paused_at: null,
  stopped_at: null,
  outcome: null,
  outcome_at: null,
  watch: 1,
  response_minutes: 60,
  resolution_minutes: 600,
  day: '2026-03-02',
  month: '2026-03',
  raised: 1,
  resolved: 0,
  met: 0,
  breached: 0,
  assignee: null,
  from_value: 'new',
  to_value: 'pending',
};

/**
 * Inserted events come back as the database would give them (RETURNING / OUTPUT inserted.…),
 * so the services that read event ids for mail run all the way through.
 */
function echoEvents(q: CompiledQuery): Record<string, unknown>[] | undefined {
  if (!/^insert into "ticket_events"/.test(q.sql) || !/\b(output|returning)\b/.test(q.sql)) return undefined;
  const rows: Record<string, unknown>[] = [];
  for (let i = 0; i + 8 <= q.parameters.length; i += 8) {
    const p = q.parameters.slice(i, i + 8);
    rows.push({ id: 100 + i / 8, ticket_id: p[0], kind: p[2], from_value: p[4], to_value: p[5] });
  }
  return rows;
}

/** A notification as the outbox holds it (and every other column a select might want). */
const OUTBOX_ROW = {
  id: 1,
  dedupe_key: 'e7:alice@corp.example',
  kind: 'ticket',
  audience: 'requester',
  ticket_id: 1,
  event_ids: '7,8',
  person_id: 1,
  to_address: 'alice@corp.example',
  subject: '[#1] Printer',
  message_id: '<ticket-1.event-7.abcdef12.0123456789abcdef@deskside.test>',
  also_references: '<a@b>',
  status: 'queued',
  attempts: 1,
  next_attempt_at: '2026-03-01T09:00:00.000Z',
  lease_owner: null,
  lease_expires_at: null,
  last_answer: null,
  created_at: '2026-03-01T09:00:00.000Z',
  updated_at: '2026-03-01T09:00:00.000Z',
  sent_at: null,
};

const mail = createMailOutbox({ threading: { host: 'deskside.test', key: 'k' }, ownAddresses: ['helpdesk@corp.example'] });

const isSelect = (q: CompiledQuery) => /^\s*select\b/i.test(q.sql);

async function recordEverything(dialect: 'mssql' | 'sqlite') {
  const covered = new Set<string>();
  const cover = (name: string) => covered.add(name);
  const rec = compileOnly(dialect, (q) => echoEvents(q) ?? [ROW]);
  const { db, database } = rec;
  const d = database.dialect;
  const sorts: tickets.TicketOrder[] = (['id', 'created', 'updated', 'priority', 'due'] as const).flatMap((key) => [true, false].map((desc) => ({ key, desc })));
  const statuses: tickets.TicketQuery['status'][] = ['active', 'done', 'all', 'new', 'open', 'pending', 'resolved', 'closed'];
  for (const sort of sorts) {
    for (const status of statuses) {
      await tickets.listTickets(db, d, { status, sort }, 25, 50);
    }
    await tickets.listTickets(db, d, { status: 'active', sort, priority: 4, categoryId: 2, assigneeId: null, requesterId: 3, words: searchWords('printer on floor 3') }, 25, 0);
    await tickets.listTickets(db, d, { status: 'all', sort, assigneeId: 7, words: ['x'] }, 1, 0);
    // Words narrowed only by a status (SQLite reads these off the text index when sorted by number).
    await tickets.listTickets(db, d, { status: 'open', sort, words: ['outlook'] }, 25, 25);
    await tickets.listTickets(db, d, { status: 'all', sort, words: ['out', 'look'] }, 25, 0);
    await tickets.listTickets(db, d, { status: 'active', sort, teamIds: [1, 2], sla: { state: 'at-risk', now: '2026-03-02T10:00:00.000Z' } }, 25, 0);
    await tickets.listTickets(db, d, { status: 'active', sort, teamIds: null, sla: { state: 'breached', now: '2026-03-02T10:00:00.000Z' } }, 25, 0);
    await tickets.listTickets(db, d, { status: 'active', sort, teamIds: [] }, 25, 0);
  }
  cover('listTickets');
  // The CSV export's batches: the first from the start, the next from the last row of it, then nothing.
  for (const sort of sorts) {
    let idQueries = 0;
    const batches = compileOnly(dialect, (q) => (/^select "tickets"\."id" from "tickets"/.test(q.sql) ? (++idQueries > 2 ? [] : [ROW]) : [ROW]));
    for await (const rows of tickets.allTickets(batches.db, d, { status: 'active', sort, teamIds: [3] }, 1)) expect(rows).toHaveLength(1);
    expect(idQueries).toBe(3);
    rec.queries.push(...batches.queries);
  }
  cover('allTickets');
  await tickets.countTickets(db, d, { status: 'active', sort: tickets.BY_UPDATED, words: ['vpn', 'drops'], assigneeId: null });
  cover('countTickets');
  await tickets.getTicket(db, 1);
  cover('getTicket');
  await tickets.listEvents(db, 1, { includeInternal: false, afterVersion: 2 });
  await tickets.listEvents(db, 1, { includeInternal: true });
  cover('listEvents');
  await database.write(async (trx) => {
    await tickets.insertTicket(trx, d, { title: 't', description: 'd', status: 'new', active: 1, priority: 2, categoryId: 1, requesterId: 1, assigneeId: null, channel: 'phone', at: new Date().toISOString() });
    await tickets.insertEvents(trx, [{ ticketId: 1, actorId: 1, kind: 'created', ticketVersion: 1, at: new Date().toISOString() }]);
    await tickets.insertEvents(trx, []);
    await tickets.updateTicketAtVersion(trx, 1, 1, { status: 'closed', active: 0, resolved_at: new Date().toISOString(), assignee_id: null }, new Date().toISOString());
    await tickets.touchTicket(trx, 1, new Date().toISOString());
    await tickets.getTicketForUpdate(trx, 1);
    await tickets.getTicketsForUpdate(trx, [1, 2, 3]);
    await tickets.getTicketsForUpdate(trx, []);
    // A bulk change of a hundred tickets writes hundreds of events: several statements.
    await tickets.insertEvents(trx, Array.from({ length: 600 }, (_, i) => ({ ticketId: i, actorId: 1, kind: 'status' as const, from: 'new', to: 'open', ticketVersion: 2, at: new Date().toISOString() })));
  });
  for (const n of ['insertTicket', 'insertEvents', 'updateTicketAtVersion', 'touchTicket', 'getTicketForUpdate', 'getTicketsForUpdate']) cover(n);
  for (const sort of sorts) {
    await tickets.neighbourTickets(db, d, { status: 'active', assigneeId: null, sort }, { id: 9, updatedAt: '2026-03-01T09:00:00.000Z', priority: 3 });
    await tickets.neighbourTickets(db, d, { status: 'all', requesterId: 4, words: ['vpn'], sort }, { id: 9, updatedAt: '2026-03-01T09:00:00.000Z', priority: 3 });
  }
  cover('neighbourTickets');
  await tickets.openTicketsOf(db, d, 1, 6);
  cover('openTicketsOf');
  await tickets.hasOthersReply(db, d, 1, 2);
  cover('hasOthersReply');
  await savedViews.listViewsFor(db, 1);
  await savedViews.getView(db, 1);
  await savedViews.insertView(db, d, { ownerId: 1, name: 'Mine', query: 'assignee=me', shared: true, at: new Date().toISOString() });
  await savedViews.deleteView(db, 1);
  for (const n of ['listViewsFor', 'getView', 'insertView', 'deleteView']) cover(n);
  await responses.listResponses(db, { activeOnly: true });
  await responses.listResponses(db, { activeOnly: false });
  await responses.getResponse(db, 1);
  await responses.insertResponse(db, { title: 't', body: 'b', active: true, at: new Date().toISOString() });
  await responses.updateResponse(db, 1, { title: 't', body: 'b', active: false, at: new Date().toISOString() });
  for (const n of ['listResponses', 'getResponse', 'insertResponse', 'updateResponse']) cover(n);
  await categories.listCategories(db, { activeOnly: true });
  await categories.listCategories(db, { activeOnly: false });
  cover('listCategories');
  await people.listAgents(db);
  cover('listAgents');
  await people.setAgentFlag(db, 1, true);
  cover('setAgentFlag');
  await tickets.queueSummary(db, d, 1);
  cover('queueSummary');

  await people.findPersonByKey(db, 'corp\\alice');
  cover('findPersonByKey');
  await people.findPersonById(db, 1);
  cover('findPersonById');
  await people.listPeopleByIds(db, [1, 2]);
  cover('listPeopleByIds');
  await people.searchKnownPeople(db, d, ['al%ice', 'o_brien[1]'], 11);
  await people.searchKnownPeople(db, d, [], 11);
  cover('searchKnownPeople');
  await people.findPeopleByKeys(db, Array.from({ length: 2500 }, (_, i) => `corp\\p${i}`));
  cover('findPeopleByKeys');
  await people.ensurePerson(db, 'CORP\\Alice', 'corp\\alice', { displayName: 'Alice A', department: 'IT' });
  // The first-sighting path: nobody there until the insert.
  let seen = false;
  const fresh = compileOnly(dialect, (q) => {
    if (!isSelect(q)) return [];
    if (!seen) {
      seen = true;
      return [];
    }
    return [ROW];
  });
  await people.ensurePerson(fresh.db, 'CORP\\Zed', 'corp\\zed', { displayName: 'Zed' });
  rec.queries.push(...fresh.queries);
  cover('ensurePerson');

  await sessions.insertSession(db, { id: 'x'.repeat(64), personId: 1, authType: 'Negotiate', source: 'iisnode', createdAt: new Date().toISOString(), expiresAt: new Date().toISOString() });
  await sessions.findLiveSession(db, 'x'.repeat(64), new Date().toISOString());
  await sessions.deleteSession(db, 'x'.repeat(64));
  await sessions.deleteExpiredSessions(db, new Date().toISOString());
  for (const n of ['insertSession', 'findLiveSession', 'deleteSession', 'deleteExpiredSessions']) cover(n);

  await service.createTicket(database, 1, { title: 't', description: 'd', categoryId: 1, priority: 'high', channel: 'web' }, mail.listener);
  await service.createTicket(database, 2, { title: 't', description: 'd', categoryId: 1, priority: 'low', requesterId: 1, channel: 'walk-in' }, mail.listener);
  await service.addComment(database, { personId: 1, isAgent: false }, 1, { body: 'hello', internal: undefined }, mail.listener);
  await service.addComment(database, { personId: 2, isAgent: true }, 1, { body: 'note', internal: 'on' }, mail.listener);
  await service.editTicket(database, { personId: 2, isAgent: true }, 1, { version: 1, status: 'resolved', priority: 'urgent', categoryId: 2, assigneeId: 2 }, mail.listener);
  await service.editTicket(database, { personId: 2, isAgent: true }, 1, { version: 9, status: 'open' }, mail.listener);
  await service.setOwnStatus(database, { personId: 1, isAgent: false }, 1, 'close', mail.listener);
  await service.addComment(database, { personId: 2, isAgent: true }, 1, { body: 'done', internal: undefined, status: 'resolved', assignee: 'me', seen: '0' }, mail.listener);
  await service.editText(database, { personId: 2, isAgent: true }, 1, { version: 1, title: 'New title', description: 'New text' }, mail.listener);
  await bulk.bulkChange(database, { personId: 2, isAgent: true }, () => true, { items: [{ id: 1, version: 1 }, { id: 2, version: 1 }], fields: { status: 'resolved', assigneeId: 2 } }, mail.listener);
  await viewService.saveView(database, { personId: 1, canShare: true }, { name: 'Urgent', query: 'priority=urgent', shared: true });
  await service.validateNewTicket(database, { title: 't', description: 'd', category: '1', priority: 'low' });
  await service.parseEdit(database, { version: '1', category: '1', assignee: '1' }, null);

  await categories.listCategoriesWithCounts(db);
  await categories.findCategoryByName(db, 'Printing');
  await categories.insertCategory(db, { name: 'Printing', description: null, sortOrder: 10, at: new Date().toISOString() });
  await categories.updateCategory(db, 1, { name: 'Printing', description: 'x', sortOrder: 20, active: false });
  await categories.maxSortOrder(db);
  for (const n of ['listCategoriesWithCounts', 'findCategoryByName', 'insertCategory', 'updateCategory', 'maxSortOrder']) cover(n);

  const kiRow = { ...ROW, title: 'E-mail is down', summary: 's', status: 'investigating', category_id: 1, created_by: 1, created_at: new Date().toISOString(), updated_at: new Date().toISOString(), resolved_at: null };
  const ki = compileOnly(dialect, (q) => echoEvents(q) ?? (/from "known_issue_tickets" where/.test(q.sql) && /select "ticket_id"/.test(q.sql) ? [] : [kiRow]));
  await knownIssues.listKnownIssues(ki.db, d, { activeOnly: true, limit: 10 });
  await knownIssues.listKnownIssues(ki.db, d, { activeOnly: false, limit: 100 });
  await knownIssues.getKnownIssue(ki.db, 1);
  await knownIssues.listKnownIssueEvents(ki.db, 1, { includePrivate: false });
  await knownIssues.listLinkedTickets(ki.db, 1);
  await knownIssues.ownLinkedTicket(ki.db, d, 1, 2);
  await knownIssues.knownIssuesOfTicket(ki.db, 1);
  await knownIssues.isLinked(ki.db, 1, 2);
  await ki.database.write(async (trx) => {
    await knownIssues.insertKnownIssue(trx, d, { title: 't', summary: 's', status: 'investigating', categoryId: null, createdBy: 1, at: new Date().toISOString() });
    await knownIssues.updateKnownIssueAtVersion(trx, 1, 1, { status: 'resolved', active: 0, resolved_at: new Date().toISOString() }, new Date().toISOString());
    await knownIssues.touchKnownIssue(trx, 1, new Date().toISOString());
    await knownIssues.insertKnownIssueEvents(trx, [{ knownIssueId: 1, actorId: 1, kind: 'update', body: 'b', public: true, at: new Date().toISOString() }]);
    await knownIssues.insertLink(trx, { knownIssueId: 1, ticketId: 2, linkedBy: 1, at: new Date().toISOString() });
    await knownIssues.linkedTicketsForUpdate(trx, 1);
  });
  const values = { title: 't', summary: 's', status: 'resolved' as const, categoryId: null };
  await kiService.publishKnownIssue(ki.database, 1, values);
  await kiService.changeKnownIssue(ki.database, 1, 1, { version: 1, values, resolveTickets: true }, mail.listener);
  await kiService.postKnownIssueUpdate(ki.database, 1, 1, { body: 'Engineers are on it' }, mail.listener);
  await kiService.linkTicket(ki.database, 1, 1, { ticket: '2' }, mail.listener);
  await kiService.meToo(ki.database, 2, 1, mail.listener);
  rec.queries.push(...ki.queries);
  for (const n of ['listKnownIssues', 'getKnownIssue', 'listKnownIssueEvents', 'listLinkedTickets', 'ownLinkedTicket', 'knownIssuesOfTicket', 'isLinked']) cover(n);
  for (const n of ['insertKnownIssue', 'updateKnownIssueAtVersion', 'touchKnownIssue', 'insertKnownIssueEvents', 'insertLink', 'linkedTicketsForUpdate']) cover(n);

  // Mail: the outbox, the mailbox's records, preferences, arrivals.
  const m = compileOnly(dialect, (q) => echoEvents(q) ?? (/from "mail_outbox"/.test(q.sql) && /"status", count/.test(q.sql) ? [{ status: 'queued', n: 2 }] : [{ ...ROW, ...OUTBOX_ROW }]));
  const mdb = m.db;
  const iso = new Date().toISOString();
  await m.database.write(async (trx) => {
    await mailQueries.insertOutboxRows(trx, [{ ...OUTBOX_ROW, id: undefined } as never]);
    await queueNotifications(trx, mail.settings, [{ id: 7, ticketId: 1, actorId: 2, kind: 'comment', body: 'b', ticketVersion: 1, at: iso }], { viaMessageId: '<a@b>' });
  });
  await mailQueries.dueOutboxIds(mdb, d, iso, 20);
  await mailQueries.claimOutboxRow(mdb, 1, 'host:1:abc', iso, iso);
  await mailQueries.getOutboxRow(mdb, 1);
  await mailQueries.finishOutboxRow(mdb, 1, 'host:1:abc', { status: 'queued', lastAnswer: '451 later', nextAttemptAt: iso }, iso);
  await mailQueries.finishOutboxRow(mdb, 1, 'host:1:abc', { status: 'sent', lastAnswer: '250 ok', sentAt: iso }, iso);
  await mailQueries.listOutbox(mdb, d, 'failed', 50, 50);
  await mailQueries.listOutbox(mdb, d, 'all', 50, 0);
  await mailQueries.countOutboxByStatus(mdb);
  await mailQueries.deleteFinishedOutbox(mdb, iso);
  await mailQueries.findInbound(mdb, '<x@y>');
  await mailQueries.insertInbound(mdb, d, { messageKey: '<x@y>', messageId: '<x@y>', fromAddress: 'a@b.c', subject: 's', outcome: 'comment', reason: null, ticketId: 1, eventId: 2, personId: 1, original: 'o', at: iso });
  await mailQueries.updateInbound(mdb, 3, { outcome: 'comment', reason: 'a reply', ticketId: 1, eventId: 2, personId: 1, original: 'o' });
  await mailQueries.listInbound(mdb, d, 25);
  await mailQueries.inboundOfTicket(mdb, 1);
  await mailQueries.inboundOriginal(mdb, 1, 2);
  await mailQueries.inboundMessageIds(mdb, [1, 2], ['a@b.c']);
  await mailQueries.deleteInboundBefore(mdb, iso);
  await mailQueries.getPreferences(mdb, 1);
  await mailQueries.savePreferences(mdb, 1, { my_tickets: 1, assigned: 0, new_tickets: 1 }, iso);
  await mailQueries.recipientsByIds(mdb, [1, 2]);
  await mailQueries.agentsWantingNewTickets(mdb);
  await mailQueries.peopleByEmail(mdb, 'alice@corp.example');
  await mailQueries.isAgentPerson(mdb, 1);
  await mailQueries.arrivalsSince(mdb, 'a@b.c', iso);
  await mailQueries.recordArrival(mdb, 'a@b.c', iso);
  await mailQueries.deleteArrivalsBefore(mdb, iso);
  await mailQueries.leaseHolder(mdb, 'mail-reader');
  await mailService.mailOverview(m.database, { imap: { host: 'h', port: 993, secure: true, user: 'u', password: 'p', mailbox: 'INBOX', pollSeconds: 60 }, smtp: { host: 'h', port: 25, secure: false, requireTls: true, user: undefined, password: undefined }, from: 'x@y.z', unknownSenders: 'create', publicUrl: 'https://x' } as never, { status: 'queued', page: 2 });
  await sweepMailTables(m.database);
  const silent = createLogger('silent');
  await sendDue({ database: m.database, outbox: mail, transport: () => ({ sendMail: async () => ({ response: '250 ok' }), close: () => undefined }), logger: silent, from: 'x@y.z', publicUrl: 'https://x', replyByMail: true, serverName: 'h', retryMs: 1000, holder: 'host:1:abc' });
  rec.queries.push(...m.queries);
  await m.database.write((trx) => tickets.insertEventsReturningIds(trx, d, [{ ticketId: 1, actorId: 1, kind: 'comment', body: 'x', ticketVersion: 1, at: iso }]));
  await tickets.listEventsByIds(mdb, [1, 2, 3]);
  for (const n of ['insertEventsReturningIds', 'listEventsByIds']) cover(n);
  for (const n of ['insertOutboxRows', 'dueOutboxIds', 'claimOutboxRow', 'getOutboxRow', 'finishOutboxRow', 'listOutbox', 'countOutboxByStatus', 'deleteFinishedOutbox']) cover(n);
  for (const n of ['findInbound', 'insertInbound', 'updateInbound', 'listInbound', 'inboundOfTicket', 'inboundOriginal', 'inboundMessageIds', 'deleteInboundBefore']) cover(n);
  for (const n of ['getPreferences', 'savePreferences', 'recipientsByIds', 'agentsWantingNewTickets', 'peopleByEmail', 'isAgentPerson', 'arrivalsSince', 'recordArrival', 'deleteArrivalsBefore', 'leaseHolder']) cover(n);

  // Attachments: their rows, the sweeper's question, and the lease it sweeps under.
  const fileRow = { ...ROW, ticket_id: 1, sha256: 'a'.repeat(64), size: '1234', name: 'log.txt', original_name: 'log.txt', content_type: 'text/plain', internal: 0, uploaded_by: 1, removed_at: null, removed_by: null };
  const files = compileOnly(dialect, (q) => echoEvents(q) ?? [fileRow]);
  const listed = await attachments.listAttachments(files.db, 1, { includeInternal: false });
  await attachments.listAttachments(files.db, 1, { includeInternal: true });
  await attachments.getAttachment(files.db, 1, 2);
  await attachments.referencedHashes(files.db, Array.from({ length: 2500 }, (_, i) => i.toString(16).padStart(64, '0')), new Date().toISOString());
  await files.database.write(async (trx) => {
    await attachments.insertAttachment(trx, d, { ticketId: 1, sha256: 'b'.repeat(64), size: 10, name: 'a.png', originalName: 'a.png', contentType: 'image/png', internal: true, uploadedBy: 1, at: new Date().toISOString() });
    await attachments.markAttachmentRemoved(trx, 1, 2, 1, new Date().toISOString());
    const fileEvents = await attachmentService.insertAttachments(trx, d, { ticketId: 1, actorId: 1, internal: false, ticketVersion: 1, at: new Date().toISOString() }, [
      { sha256: 'c'.repeat(64), size: 3, name: 'x.txt', originalName: 'x.txt', contentType: 'text/plain' },
    ]);
    await recordEvents(trx, d, mail.listener, fileEvents);
  });
  await attachmentService.removeAttachment(files.database, { personId: 1 }, 1, 2, mail.listener);
  rec.queries.push(...files.queries);
  expect(listed[0].size).toBe(1234);
  for (const n of ['listAttachments', 'getAttachment', 'referencedHashes', 'insertAttachment', 'markAttachmentRemoved']) cover(n);
  await leases.claimLease(db, 'attachment-sweep', 'host:1:abc', new Date(), 60_000);
  // Nobody holds it yet: the update finds no row, so the claim inserts one.
  const taken = compileOnly(dialect, (q) => (/^update "worker_leases"/.test(q.sql) ? { rows: [], affected: 0 } : []));
  await leases.claimLease(taken.db, 'attachment-sweep', 'host:1:abc', new Date(), 60_000);
  rec.queries.push(...taken.queries);
  await leases.releaseLease(db, 'attachment-sweep', 'host:1:abc', new Date());
  for (const n of ['claimLease', 'releaseLease']) cover(n);
  // Events with their ids, as a listener on ticket events reads them (the database answers with the inserted row).
  const ev = compileOnly(dialect, (q) => (/insert into/i.test(q.sql) ? [{ id: 7, ticket_id: 1, kind: 'comment', from_value: null, to_value: null }] : [ROW]));
  await ev.database.write((trx) => tickets.insertEventsReturningIds(trx, d, [{ ticketId: 1, actorId: 1, kind: 'comment', body: 'x', ticketVersion: 1, at: new Date().toISOString() }]));
  await tickets.listEventsByIds(ev.db, [1, 2, 3]);
  rec.queries.push(...ev.queries);
  for (const n of ['insertEventsReturningIds', 'listEventsByIds']) cover(n);

  // The API: keyset pages in every order, people search, tokens and their rate limit.
  const anchor = tickets.anchorOf({ id: 900, updated_at: new Date(), priority: 3, sla_due_at: new Date() });
  for (const sort of sorts) await tickets.listTickets(db, d, { status: 'active', sort, assigneeId: 3, teamIds: [1, 2], sla: { state: 'at-risk', now: iso } }, 25, 0, anchor);
  cover('anchorOf');
  await people.searchKnownPeople(db, d, ['carol', 'corp'], 20);
  await people.agentFlagOf(db, 1);
  for (const n of ['searchKnownPeople', 'agentFlagOf']) cover(n);
  const tokenRow = { ...ROW, person_id: 1, name: 'n', hint: 'dsk_abcd', scope: 'read', role: 'agent', created_at: iso, expires_at: iso, last_used_at: null, revoked_at: null, revoked_by: null, revoked_by_login: null };
  const tk = compileOnly(dialect, () => [tokenRow]);
  await tokens.insertToken(tk.db, d, { personId: 1, name: 'n', tokenHash: 'a'.repeat(64), hint: 'dsk_abcd', scope: 'read', role: 'agent', at: iso, expiresAt: iso });
  await tokens.findTokenByHash(tk.db, 'a'.repeat(64));
  await tokens.listTokensOf(tk.db, 1);
  await tokens.listAllTokens(tk.db, d, 100, 200);
  await tokens.countTokens(tk.db);
  await tokens.revokeToken(tk.db, 1, 2, iso);
  await tokens.revokeToken(tk.db, 1, 2, iso, 1);
  await tokens.takeRateSlots(tk.db, 1, 29_000_000, 10, 600, iso);
  await tokenService.takeRequest(tk.database, 1, 600);
  rec.queries.push(...tk.queries);
  for (const n of ['insertToken', 'findTokenByHash', 'listTokensOf', 'listAllTokens', 'countTokens', 'revokeToken', 'takeRateSlots']) cover(n);

  // Webhooks: the endpoints, the listener's deliveries in the events' transaction, the deliverer's claims.
  const hookRow = { ...ROW, name: 'Channel', url: 'http://127.0.0.1:9/none', secret: 's', events: 'ticket.raised,ticket.changed,ticket.commented', priorities: null, teams: null, format: 'teams', internal: 1, active: 1, link_base: 'https://desk.example', created_by: 1, created_at: iso, updated_at: iso };
  const deliveryRow = { ...hookRow, webhook_id: 1, delivery_key: 'w1:e1', event: 'ticket.raised', ticket_id: 1, body: '{}', status: 'queued', attempts: 1, next_attempt_at: iso, lease_owner: null, lease_expires_at: null, last_status: null, last_answer: null, delivered_at: null, webhook_active: 0, n: 2 };
  const wh = compileOnly(dialect, (q) => (/insert into "ticket_events"/i.test(q.sql) ? [{ id: 7, ticket_id: 1, kind: 'created', from_value: null, to_value: null }, { id: 8, ticket_id: 1, kind: 'note', from_value: null, to_value: null }] : /from "webhook_deliveries"/.test(q.sql) ? [deliveryRow] : isSelect(q) ? [{ ...ROW, ...hookRow, category_name: 'Hardware', requester_login: 'CORP\\alice', comment_count: 0, created_at: iso, updated_at: iso }] : [ROW]));
  const hookOutbox = webhookService.createWebhookOutbox();
  await wh.database.write((trx) =>
    service.insertComment(trx, d, { personId: 1, isAgent: true }, 1, { body: 'x', internal: true }, hookOutbox.listener),
  );
  await webhooks.listWebhooks(wh.db);
  await webhooks.activeWebhooks(wh.db);
  await webhooks.getWebhook(wh.db, 1);
  const fields = { name: 'n', url: 'https://x.example/h', events: 'ticket.raised', priorities: 'high,urgent', teams: null, format: 'json' as const, internal: 0, active: 1, linkBase: 'https://desk.example' };
  await webhooks.insertWebhook(wh.db, d, { ...fields, secret: 's', createdBy: 1, at: iso });
  await webhooks.updateWebhookAtVersion(wh.db, 1, 1, fields, iso);
  await webhooks.setWebhookSecret(wh.db, 1, 's2', iso);
  await webhooks.deleteWebhook(wh.db, 1);
  await webhooks.insertDeliveries(wh.db, Array.from({ length: 300 }, (_, i) => ({ webhook_id: 1, delivery_key: `w1:e${i}`, event: 'ticket.raised', ticket_id: 1, body: '{}', status: 'queued' as const, attempts: 0, next_attempt_at: iso, lease_owner: null, lease_expires_at: null, last_status: null, last_answer: null, created_at: iso, updated_at: iso, delivered_at: null })));
  await webhooks.getDelivery(wh.db, 1);
  await webhooks.finishDelivery(wh.db, 1, 'host:1:abc', { status: 'queued', lastStatus: 503, lastAnswer: 'busy', nextAttemptAt: iso }, iso);
  await webhooks.finishDelivery(wh.db, 1, 'host:1:abc', { status: 'delivered', lastStatus: 200, lastAnswer: 'ok', deliveredAt: iso }, iso);
  await webhooks.requeueDelivery(wh.db, 1, 2, iso);
  await webhooks.listDeliveries(wh.db, d, 1, 50);
  await webhooks.deliveryCounts(wh.db);
  await webhooks.deleteFinishedDeliveries(wh.db, iso);
  await outbox.dueOutboxIds(wh.db, d, 'webhook_deliveries', iso, 20);
  await outbox.claimOutboxRow(wh.db, 'webhook_deliveries', 1, 'host:1:abc', iso, iso);
  await deliverDue({ database: wh.database, logger: createLogger('silent'), timeoutMs: 1000, retryMs: 1000, holder: 'host:1:abc' });
  rec.queries.push(...wh.queries);
  expect(wh.queries.some((q) => /insert into "webhook_deliveries"/.test(q.sql) && q.inTransaction)).toBe(true);
  for (const n of ['listWebhooks', 'activeWebhooks', 'getWebhook', 'insertWebhook', 'updateWebhookAtVersion', 'setWebhookSecret', 'deleteWebhook', 'insertDeliveries', 'getDelivery', 'finishDelivery', 'requeueDelivery', 'listDeliveries', 'deliveryCounts', 'deleteFinishedDeliveries']) cover(n);
  for (const n of ['dueOutboxIds', 'claimOutboxRow']) cover(n);
  // Teams.
  const now = new Date().toISOString();
  await teams.listTeams(db, { activeOnly: true });
  await teams.listTeams(db, { activeOnly: false });
  await teams.getTeam(db, 1);
  await teams.findTeamByName(db, 'Network');
  await teams.listTeamMembers(db, [1, 2]);
  await teams.listTeamMembers(db);
  await teams.listTeamMembers(db, []);
  await teams.teamsListingLogin(db, 'corp\\alice');
  await teams.openTicketsByTeam(db);
  await database.write(async (trx) => {
    await teams.insertTeam(trx, d, { name: 'Network', description: null, directoryGroup: 'CORP\\Network', active: true }, now);
    await teams.updateTeamAtVersion(trx, 1, 1, { name: 'Network', description: 'x', directoryGroup: null, active: false }, now);
    await teams.replaceTeamMembers(trx, 1, Array.from({ length: 700 }, (_, i) => ({ login: `CORP\\m${i}`, key: `corp\\m${i}` })));
  });
  for (const n of exportedFunctions(teams)) cover(n);
  const dir = new DirectoryCache(createStaticDirectory(), { ttlMs: 1000, maxStaleMs: 1000 });
  await teamsService.addTeam(database, dir, { name: 'Desktop', description: '', directoryGroup: 'DEMO\\Helpdesk Agents', members: 'CORP\\alice', active: true, version: '' });
  await teamsService.changeTeam(database, dir, 1, { name: 'Desktop', description: '', directoryGroup: '', members: '', active: true, version: '1' });
  await teamsService.teamIdsOf(database, { key: 'corp\\alice', groups: [] });
  await teamsService.assigneeChoices(database, dir, [], { id: 1, name: 'Desktop', description: null, directory_group: 'DEMO\\Helpdesk Agents', active: 1, version: 1 });
  await categories.categoryDefaultTeam(db, 1);
  cover('categoryDefaultTeam');

  // Service levels: settings, targets, clocks and the breach timer.
  await sla.getSlaSettings(db);
  await sla.listTargets(db);
  await sla.listClocks(db, 1);
  await sla.listOverdueClocks(db, d, now, 200);
  await sla.listStatusChanges(db, 1);
  await database.write(async (trx) => {
    await sla.updateSlaSettingsAtVersion(trx, 1, 1, { calendar: '{}', atRiskPercent: 25, by: 1 }, now);
    await sla.replaceTargets(trx, [{ priority: 4, category_id: null, response_minutes: 60, resolution_minutes: 600 }]);
    await sla.replaceTargets(trx, []);
    await sla.insertClock(trx, { ticket_id: 1, kind: 'response', target_minutes: 60, started_at: now, due_at: now, warn_at: null, paused_at: null, stopped_at: null, outcome: null, outcome_at: null, watch: 1 });
    await sla.updateClock(trx, 1, 'response', { due_at: now, watch: 1 });
    await sla.deleteClock(trx, 1, 'resolution');
    await sla.markBreached(trx, 1, 'response', now, now);
    await sla.setTicketDue(trx, 1, { at: now, warnAt: null, kind: 'response' });
  });
  for (const n of exportedFunctions(sla)) cover(n);
  await clocks.recordBreaches(database, new Date(), 5);
  const form = await slaService.loadServiceLevelForm(database);
  await slaService.saveServiceLevels(database, 1, { ...form, version: '1', timeZone: 'Europe/London', targets: { ...form.targets, urgent: { response: '1h', resolution: '10h' } } }, []);
  await slaService.ticketClocks(database, await clocks.loadPolicy(db), 1, new Date());

  // The dashboard's running totals and what it reads of them.
  await database.write(async (trx) => {
    await dashboard.addToDay(trx, '2026-03-02', { raised: 1, resolved: 1 });
    await dashboard.addToOpenAge(trx, '2026-03-02', -1);
    await dashboard.addToOpenCount(trx, { teamId: null, assigneeId: 2, priority: 4 }, 1);
    await dashboard.addToMonth(trx, '2026-03', 'response', { breached: 1 });
  });
  await dashboard.listDays(db, '2026-01-01');
  await dashboard.listOpenAges(db);
  await dashboard.listOpenCounts(db);
  await dashboard.listMonths(db, ['2026-03', '2026-02']);
  await dashboard.listMonths(db, []);
  for (const n of exportedFunctions(dashboard)) cover(n);
  await dashboardService.buildDashboard(database, new Date());

  // The seeder: several batches, explicit ids, and its SQL Server parameter budget.
  const seeding = compileOnly(dialect, (q) => (/max\(/i.test(q.sql) ? [{ m: 41 }] : isSelect(q) ? [ROW] : []));
  await seedTickets(seeding.database, { tickets: 700, seed: 3, generatedPeople: 220, batchSize: 400 });
  rec.queries.push(...seeding.queries);
  // "Is there any ticket yet?" says no; everything else answers as usual.
  const empty = compileOnly(dialect, (q) => (/^select (top\(1\) )?"id" from "tickets"/.test(q.sql) ? [] : isSelect(q) ? [ROW] : []));
  await seedDemoIfEmpty(empty.database, []);
  rec.queries.push(...empty.queries);
  return { queries: rec.queries, covered };
}

function exportedFunctions(mod: Record<string, unknown>): string[] {
  return Object.entries(mod)
    .filter(([, v]) => typeof v === 'function')
    .map(([k]) => k);
}

describe('the SQL Server text of every query', () => {
  let queries: RecordedQuery[];
  let covered: Set<string>;
  beforeAll(async () => {
    ({ queries, covered } = await recordEverything('mssql'));
  });

  test('when a queries module exports a function, then this test runs it (so new queries are checked too)', () => {
    const missing = [
      ...exportedFunctions(tickets),
      ...exportedFunctions(people),
      ...exportedFunctions(sessions),
      ...exportedFunctions(categories),
      ...exportedFunctions(knownIssues),
      ...exportedFunctions(attachments),
      ...exportedFunctions(leases),
      ...exportedFunctions(mailQueries),
      ...exportedFunctions(tokens),
      ...exportedFunctions(webhooks),
      ...exportedFunctions(outbox).filter((n) => n !== 'backoffMs'),
      ...exportedFunctions(savedViews),
      ...exportedFunctions(responses),
      ...exportedFunctions(teams),
      ...exportedFunctions(sla),
      ...exportedFunctions(dashboard),
    ].filter((n) => !covered.has(n));
    expect(missing).toEqual([]);
    expect(queries.length).toBeGreaterThan(100);
  });

  test('when compiled for SQL Server, then no statement uses LIMIT, RETURNING or SQLite-only syntax', () => {
    const sqliteOnly = /\blimit\b|\breturning\b|\bifnull\s*\(|\bgroup_concat\b|\bstrftime\b|\bjulianday\b|\blast_insert_rowid\b|\browid\b|\bfts5\b|\bmatch\b|\bpragma\b|\bautoincrement\b|\bglob\b|\bon conflict\b|\binsert or\b|\bbegin immediate\b|\|\||\btrue\b|\bfalse\b/i;
    const offenders = queries.filter((q) => sqliteOnly.test(q.sql)).map((q) => q.sql);
    expect(offenders).toEqual([]);
  });

  test('when a statement pages, then it has ORDER BY before OFFSET … FETCH NEXT', () => {
    const paging = queries.filter((q) => /\boffset\b/i.test(q.sql));
    expect(paging.length).toBeGreaterThan(30);
    for (const q of paging) {
      expect(q.sql).toMatch(/\border by\b[\s\S]+\boffset @\d+ rows fetch next @\d+ rows only$/i);
    }
    // TOP (1): the seeder's "any ticket yet?", "has anyone else replied?", and the previous/next seeks, which order.
    const firstOnly = queries.filter((q) => /\btop\s*\(/i.test(q.sql)).map((q) => q.sql);
    expect(firstOnly).toContainEqual(expect.stringMatching(/^select top\(1\) "id" from "tickets"$/));
    expect(firstOnly).toContainEqual(expect.stringMatching(/^select top\(1\) "ticket_events"\."id" from "ticket_events" where .* "ticket_events"\."actor_id" <> @\d+$/));
    for (const q of firstOnly.filter((x) => /"tickets"\."title"/.test(x))) expect(q).toMatch(/ order by "tickets"\."\w+" (asc|desc)(, "tickets"\."\w+" (asc|desc))*$/);
    expect(firstOnly.filter((x) => /"tickets"\."title"/.test(x)).length).toBe(40);
  });

  test('when a ticket is inserted, then its id comes back through OUTPUT inserted.id', () => {
    // The app's own inserts (the seeder's carry their ids and start with "id").
    const inserts = queries.filter((q) => /^insert into "tickets" \("title"/.test(q.sql));
    expect(inserts.length).toBeGreaterThan(0);
    for (const q of inserts) expect(q.sql).toMatch(/^insert into "tickets" \([^)]*\) output "inserted"\."id" values/);
  });

  test('when files are recorded, then each row comes back through OUTPUT inserted.id and its event follows in the same transaction', () => {
    const inserts = queries.filter((q) => /^insert into "attachments"/.test(q.sql));
    expect(inserts.length).toBeGreaterThanOrEqual(2);
    for (const q of inserts) {
      expect(q.sql).toMatch(/^insert into "attachments" \([^)]*\) output "inserted"\."id" values/);
      expect(q.inTransaction).toBe(true);
    }
    const event = queries.find((q) => /^insert into "ticket_events"/.test(q.sql) && q.parameters.includes('attached'));
    expect(event?.inTransaction).toBe(true);
    const removal = queries.find((q) => /^update "attachments" set "removed_at" = @1, "removed_by" = @2 where "ticket_id" = @3 and "id" = @4 and "removed_at" is null$/.test(q.sql));
    expect(removal).toBeDefined();
  });

  test('when the sweeper asks which hashes are still needed, then each statement stays under the parameter limit', () => {
    const asks = queries.filter((q) => /^select distinct "sha256" from "attachments" where "sha256" in/.test(q.sql));
    expect(asks.length).toBe(2);
    expect(asks.map((q) => q.parameters.length)).toEqual([1991, 2500 - 1990 + 1]);
    expect(asks[0].sql).toMatch(/and \("removed_at" is null or "removed_at" > @\d+\)$/);
  });

  test('when a lease is claimed, then it is one conditional UPDATE, and a first claim one race-safe INSERT … WHERE NOT EXISTS', () => {
    const update = queries.filter((q) => /^update "worker_leases" set "holder" = @1, "expires_at" = @2 where "name" = @3 and \("expires_at" < @4 or "holder" = @5\)$/.test(q.sql));
    expect(update.length).toBeGreaterThanOrEqual(2);
    const insert = queries.filter((q) => /^insert into "worker_leases"/.test(q.sql));
    expect(insert).toHaveLength(1);
    expect(insert[0].sql).toMatch(/where not exists \(select 1 from "worker_leases" with \(updlock, holdlock\) where "name" = @\d+\)$/);
  });

  test('when words are searched, then each is a case- and accent-insensitive LIKE over padded title and description', () => {
    const q = queries.find((x) => /like/.test(x.sql) && x.parameters.includes('%[^0-9a-z]printer[^0-9a-z]%'))!;
    expect(q).toBeDefined();
    expect(q.sql).toContain(`(N' ' + tickets.title + N' ') collate Latin1_General_100_CI_AI like`);
    expect(q.sql).toContain(`(N' ' + tickets.description + N' ') collate Latin1_General_100_CI_AI like`);
    // The last word is a prefix, the others whole words.
    expect(q.parameters).toEqual(expect.arrayContaining(['%[^0-9a-z]on[^0-9a-z]%', '%[^0-9a-z]3%']));
  });

  test('when a running total is added to, then SQL Server updates the row holding its key range and inserts only when none was there', () => {
    const adds = queries.filter((q) => /^update "ticket_daily" with \(updlock, holdlock\)/.test(q.sql));
    expect(adds.length).toBeGreaterThan(1);
    expect(adds.map((q) => q.sql)).toContain('update "ticket_daily" with (updlock, holdlock) set "raised" = "raised" + @1, "resolved" = "resolved" + @2 where "day" = @3;\nif @@rowcount = 0 insert into "ticket_daily" ("day", "raised", "resolved") values (@4, @5, @6)');
    expect(adds.every((q) => q.inTransaction)).toBe(true);
    expect(queries.some((q) => /^update "ticket_open_counts" with \(updlock, holdlock\) set "n" = "n" \+ @1 where "team_id" = @2 and "assignee_id" = @3 and "priority" = @4;/.test(q.sql))).toBe(true);
  });

  test('when a person is first seen, then the insert is one race-safe INSERT … WHERE NOT EXISTS with UPDLOCK, HOLDLOCK', () => {
    const upsert = queries.filter((q) => /^insert into "people"/.test(q.sql) && /not exists/.test(q.sql));
    expect(upsert).toHaveLength(1);
    expect(upsert[0].sql).toMatch(/^insert into "people" \(.*\) select @1, .* where not exists \(select 1 from "people" with \(updlock, holdlock\) where "login_key" = @\d+\)$/);
  });

  test('when the seeder writes, then every statement stays under 2,100 parameters and explicit ticket ids are wrapped in IDENTITY_INSERT', () => {
    const worst = Math.max(...queries.map((q) => q.parameters.length));
    expect(worst).toBeLessThanOrEqual(2000);
    const sqls = queries.map((q) => q.sql);
    const on = sqls.indexOf('set identity_insert "tickets" on');
    const off = sqls.indexOf('set identity_insert "tickets" off');
    expect(on).toBeGreaterThanOrEqual(0);
    expect(off).toBeGreaterThan(on);
    expect(sqls.slice(on + 1, off).every((s) => /^insert into "tickets" \("id",/.test(s))).toBe(true);
    expect(queries[on].inTransaction).toBe(true);
    expect(sqls.filter((s) => /^insert into "ticket_events"/.test(s)).length).toBeGreaterThan(1);
  });

  test('when parameters are bound for SQL Server, then every value has a declared type (NVARCHAR text, INT ids, DATETIME2 dates)', () => {
    const types: string[] = [];
    const mod = {
      NVarChar: (n: number) => `nvarchar(${n})`,
      MAX: -1,
      Int: 'int',
      BigInt: 'bigint',
      Float: 'float',
      Bit: 'bit',
      DateTime2: (s: number) => `datetime2(${s})`,
      VarBinary: (n: number) => `varbinary(${n})`,
    };
    const req = { input: (_n: string, type: unknown) => void types.push(String(type)) };
    for (const q of queries) q.parameters.forEach((v, i) => bindParameter(req, mod as never, i, v));
    expect(new Set(types)).toEqual(new Set(['nvarchar(4000)', 'int']));
    const bound: string[] = [];
    const r2 = { input: (_n: string, type: unknown, v: unknown) => void bound.push(`${String(type)}=${v instanceof Date ? 'date' : String(v)}`) };
    bindParameter(r2, mod as never, 0, 'x'.repeat(4001));
    bindParameter(r2, mod as never, 1, 2 ** 40);
    bindParameter(r2, mod as never, 2, 1.5);
    bindParameter(r2, mod as never, 3, new Date());
    bindParameter(r2, mod as never, 4, null);
    expect(bound.map((b) => b.split('=')[0])).toEqual(['nvarchar(-1)', 'bigint', 'float', 'datetime2(3)', 'nvarchar(4000)']);
    expect(() => bindParameter(r2, mod as never, 5, { a: 1 })).toThrow(/cannot send a object as SQL parameter @6/);
  });
});

describe('the SQLite text of the same queries', () => {
  test('when compiled for SQLite, then no SQL Server-only syntax leaks in', async () => {
    const { queries } = await recordEverything('sqlite');
    const offenders = queries.filter((q) => /\btop\s*\(|\boutput\b|\bfetch next\b|\bcollate Latin1|\bidentity_insert\b|\bupdlock\b|N'/i.test(q.sql)).map((q) => q.sql);
    expect(offenders).toEqual([]);
    expect(queries.some((q) => /\blimit \? offset \?/.test(q.sql))).toBe(true);
    expect(queries.some((q) => /returning "id"/.test(q.sql))).toBe(true);
  });
});

describe('the SQL Server schema from the migrations', () => {
  let script: string;
  beforeAll(async () => {
    script = await migrationScript('mssql');
  });

  function columns(table: string): [string, string][] {
    const m = new RegExp(`create table "${table}" \\((.*)\\);`).exec(script);
    if (!m) throw new Error(`no create table ${table}`);
    // Split on commas outside parentheses.
    const out: string[] = [];
    let depth = 0;
    let cur = '';
    for (const ch of m[1]) {
      if (ch === '(') depth++;
      if (ch === ')') depth--;
      if (ch === ',' && depth === 0) {
        out.push(cur.trim());
        cur = '';
      } else cur += ch;
    }
    out.push(cur.trim());
    return out.filter((c) => !c.startsWith('constraint ')).map((c) => {
      const [, name, rest] = /^"([^"]+)" (.*)$/.exec(c)!;
      return [name, rest];
    });
  }

  /** Every table the migrations create, but the migrator's own bookkeeping. */
  const appTables = () => [...script.matchAll(/create table "(\w+)"/g)].map((m) => m[1]).filter((t) => !t.startsWith('deskside_migrations'));

  test('when the script is printed, then it is one transaction with quoted identifiers on and no SQLite syntax', () => {
    expect(script).toMatch(/SET QUOTED_IDENTIFIER ON;\nSET ANSI_NULLS ON;\nSET XACT_ABORT ON;\nBEGIN TRANSACTION;\n/);
    expect(script.trimEnd().endsWith('COMMIT TRANSACTION;')).toBe(true);
    expect(script).not.toMatch(/\bif not exists\b|\bautoincrement\b|\bvirtual table\b|\bfts5\b|\btrigger\b|\bpragma\b|\btext\b not null|"\w+" text\b/i);
    const last = migrationNames().at(-1)!;
    expect(script).toMatch(new RegExp(`insert into "deskside_migrations" \\("name", "timestamp"\\) values \\(N'${last}', N'\\d{4}-\\d\\d-\\d\\dT[\\d:.]+Z'\\);\\nCOMMIT TRANSACTION;`));
    expect(script).toContain(`create table "deskside_migrations_lock"`);
  });

  test('when a column holds text, then it is NVARCHAR; timestamps are DATETIME2(3); ids are identity keys', () => {
    expect(appTables()).toEqual(expect.arrayContaining(['people', 'sessions', 'categories', 'tickets', 'ticket_events', 'sign_in_attempts']));
    for (const table of appTables()) {
      for (const [name, def] of columns(table)) {
        const type = def.split(' ')[0];
        if (name.endsWith('_at')) expect({ table, name, type }).toEqual({ table, name, type: 'datetime2(3)' });
        else if (name === 'id' && table !== 'sessions') expect({ table, def }).toEqual({ table, def: 'integer identity primary key' });
        else expect({ table, name, type }).toEqual({ table, name, type: expect.stringMatching(/^(nvarchar\((\d+|max)\)|integer|smallint|bigint|varbinary\(max\))$/) });
      }
    }
  });

  test('when the workbench migration adds the channel and the sort indexes, then they are valid SQL Server', () => {
    // A default on an added NOT NULL column fills existing rows; the CHECK names only the new column.
    expect(script).toContain(`alter table "tickets" add "channel" nvarchar(16) default 'web' not null check (channel in ('web','phone','walk-in','email'));`);
    for (const idx of ['"tickets_active_id_idx" on "tickets" ("active", "id")', '"tickets_assignee_id_idx" on "tickets" ("assignee_id", "active", "id")', '"tickets_assignee_priority_idx" on "tickets" ("assignee_id", "active", "priority", "updated_at", "id")']) {
      expect(script).toContain(`create index ${idx};`);
    }
  });

  test('when a migration indexes a column it added to tickets, then SQL Server runs that statement in a batch of its own', () => {
    expect(script).toContain(`exec(N'create index "tickets_team_idx" on "tickets" ("team_id", "active", "updated_at", "id")');`);
    expect(script).toContain(`exec(N'create index "tickets_due_idx" on "tickets" ("active", "sla_due_at", "id")');`);
    expect(script).toMatch(/alter table "tickets" add "sla_due_at" datetime2\(3\) default '9999-12-31T23:59:59\.999' not null;/);
    expect(script).not.toMatch(/^create index "tickets_(team|due)_idx"/m);
  });

  test('when logins are keyed, then login_key is compared byte for byte (the app lower-cases it) and unique', () => {
    expect(columns('people').find(([n]) => n === 'login_key')![1]).toBe('nvarchar(320) collate Latin1_General_100_BIN2 not null');
    expect(script).toContain('create unique index "people_login_key_uq" on "people" ("login_key");');
  });

  test('when attachments are stored, then names are NVARCHAR, sizes BIGINT, hashes compared byte for byte and bytes VARBINARY(MAX) in chunks', () => {
    const a = Object.fromEntries(columns('attachments'));
    expect(a).toMatchObject({
      id: 'integer identity primary key',
      ticket_id: 'integer not null references "tickets" ("id")',
      sha256: 'nvarchar(64) collate Latin1_General_100_BIN2 not null',
      size: 'bigint not null',
      name: 'nvarchar(200) not null',
      original_name: 'nvarchar(1000) not null',
      uploaded_by: 'integer not null references "people" ("id")',
      removed_at: 'datetime2(3)',
    });
    expect(Object.fromEntries(columns('attachment_blob_heads'))).toEqual({ sha256: 'nvarchar(64) collate Latin1_General_100_BIN2 primary key', size: 'bigint not null', created_at: 'datetime2(3) not null' });
    expect(Object.fromEntries(columns('attachment_blobs'))).toEqual({ sha256: 'nvarchar(64) collate Latin1_General_100_BIN2 not null', seq: 'integer not null', data: 'varbinary(max) not null' });
    expect(script).toContain('constraint "attachment_blobs_pk" primary key ("sha256", "seq")');
    expect(script).toContain('create index "attachments_sha256_idx" on "attachments" ("sha256", "removed_at");');
    expect(Object.fromEntries(columns('worker_leases'))).toEqual({ name: 'nvarchar(64) collate Latin1_General_100_BIN2 primary key', holder: 'nvarchar(200) not null', expires_at: 'datetime2(3) not null' });
  });

  test('when tickets are constrained, then CHECKs, foreign keys and index keys are valid on SQL Server', () => {
    const t = Object.fromEntries(columns('tickets'));
    expect(t.status).toBe(`nvarchar(16) not null check (status in ('new','open','pending','resolved','closed'))`);
    expect(t.priority).toBe('smallint not null check (priority between 1 and 4)');
    expect(t.assignee_id).toBe('integer references "people" ("id")');
    expect(t.requester_id).toBe('integer not null references "people" ("id")');
    expect(Object.fromEntries(columns('ticket_events')).ticket_id).toBe('integer not null references "tickets" ("id")');
    // No cascades: two foreign keys from tickets to people would be "multiple cascade paths".
    expect(script).not.toMatch(/on delete cascade|on update cascade/i);
    // A unique index would allow only one NULL on SQL Server; nullable columns are only in plain indexes.
    const unique = [...script.matchAll(/create unique index "\w+" on "(\w+)" \(([^)]*)\)/g)].map((m) => [m[1], m[2]]);
    expect(unique).toEqual([
      ['people', '"login_key"'],
      ['categories', '"name"'],
      ['mail_outbox', '"dedupe_key"'],
      ['mail_inbound', '"message_key"'],
      ['teams', '"name"'],
      ['api_tokens', '"token_hash"'],
      ['webhook_deliveries', '"delivery_key"'],
    ]);
    for (const [table, col] of unique) expect(columns(table).find(([n]) => `"${n}"` === col)![1]).toMatch(/not null/);
    // Nonclustered index keys must stay under 1,700 bytes: no nvarchar(max) in any index.
    for (const m of script.matchAll(/create (?:unique )?index "\w+" on "(\w+)" \(([^)]*)\)/g)) {
      const cols = Object.fromEntries(columns(m[1]));
      for (const c of m[2].split(', ').map((s) => s.replace(/"/g, ''))) expect({ index: m[0], c, type: cols[c] }).not.toEqual(expect.objectContaining({ type: expect.stringMatching(/max/) }));
    }
  });
});
