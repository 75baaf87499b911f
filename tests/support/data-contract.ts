/**
 * The data-layer contract: what the query functions promise, whichever engine is under
 * them. tests/unit/db/contract.sqlite.test.ts runs it on a temporary SQLite file in
 * `npm test`; tests/mssql/contract.test.ts runs the same cases on a throwaway SQL Server
 * database (`DESKSIDE_TEST_MSSQL=… npm run test:mssql`).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import type { Kysely } from 'kysely';
import type { Database } from '../../app/db/database';
import { getAttachment, listAttachments, referencedHashes } from '../../app/features/attachments/attachments.queries';
import { removeAttachment } from '../../app/features/attachments/attachments.service';
import type { UploadedFile } from '../../app/features/attachments/multipart';
import { claimLease, releaseLease } from '../../app/features/shared/leases.queries';
import { CHUNK_BYTES, DatabaseBlobStore, type BlobTables } from '../../app/storage/database-blob-store';
import { migrateToLatest, pendingMigrations } from '../../app/db/migrate';
import { toDate } from '../../app/db/values';
import { seedTickets } from '../../app/features/demo/generator';
import { listCategories } from '../../app/features/categories/categories.queries';
import { ensurePerson, findPersonByKey, listAgents, listPeopleByIds, searchKnownPeople, setAgentFlag } from '../../app/people/people.queries';
import { addComment, editText, editTicket, setOwnStatus } from '../../app/features/tickets/tickets.service';
import { bulkChange } from '../../app/features/tickets/bulk.service';
import { deleteView, insertView, listViewsFor } from '../../app/features/saved-views/saved-views.queries';
import { insertResponse, listResponses } from '../../app/features/responses/responses.queries';
import {
  countTickets,
  getTicket,
  hasOthersReply,
  insertEvents,
  insertTicket,
  listEvents,
  allTickets,
  anchorOf,
  listTickets,
  neighbourTickets,
  openTicketsOf,
  BY_UPDATED,
  queueSummary,
  type ListAnchor,
  type TicketOrder,
  type TicketQuery,
} from '../../app/features/tickets/tickets.queries';
import { deleteExpiredSessions, deleteSession, findLiveSession, insertSession } from '../../app/session/sessions.queries';
import { searchWords } from '../../app/db/portable';
import { knownIssuesOfTicket, listKnownIssueEvents, listKnownIssues } from '../../app/features/known-issues/known-issues.queries';
import { changeKnownIssue, linkTicket, meToo, postKnownIssueUpdate, publishKnownIssue } from '../../app/features/known-issues/known-issues.service';
import type { TicketStatus } from '../../app/access/policy';
import { isActive } from '../../app/features/tickets/ticket-values';
import { createTicket } from '../../app/features/tickets/tickets.service';
import { createMailOutbox } from '../../app/features/mail/outbox.service';
import { processMessage } from '../../app/features/mail/inbound.service';
import {
  arrivalsSince,
  claimOutboxRow,
  deleteArrivalsBefore,
  dueOutboxIds,
  finishOutboxRow,
  findInbound,
  getPreferences,
  inboundMessageIds,
  inboundOfTicket,
  insertInbound,
  listOutbox,
  peopleByEmail,
  recordArrival,
  savePreferences,
} from '../../app/features/mail/mail.queries';
import { createWebhookOutbox } from '../../app/features/webhooks/webhooks.service';
import { activeWebhooks, finishDelivery, insertWebhook, listDeliveries, requeueDelivery } from '../../app/features/webhooks/webhooks.queries';
import * as outbox from '../../app/features/shared/outbox.queries';
import { findTokenByHash, insertToken, revokeToken, takeRateSlots } from '../../app/features/api-tokens/tokens.queries';
import { afterTicketRaised } from '../../app/features/tickets/ticket-effects';
import { allListeners, NO_LISTENER } from '../../app/features/tickets/ticket-events';
import { prepareServiceLevels, SAMPLE_SERVICE_LEVELS } from '../../app/features/demo/seed-teams-sla';
import { loadPolicy, recordBreaches, settleClocks } from '../../app/features/service-levels/clocks';
import { getSlaSettings, listClocks, listOverdueClocks, listTargets, replaceTargets, updateSlaSettingsAtVersion } from '../../app/features/service-levels/service-levels.queries';
import { findTeamByName, getTeam, insertTeam, listTeamMembers, listTeams, openTicketsByTeam, replaceTeamMembers, teamsListingLogin, updateTeamAtVersion } from '../../app/features/teams/teams.queries';
import { addToCounters, paged } from '../../app/db/portable';
import { listDays, listMonths, listOpenAges, listOpenCounts } from '../../app/features/dashboard/dashboard.queries';
import { categoryDefaultTeam } from '../../app/features/categories/categories.queries';
import { keptTotals, recountTotals } from './totals';

export interface ContractTarget {
  database: Database;
  /** Close connections and remove the database (or file). */
  dispose(): Promise<void>;
}

interface Fixture {
  requester: number;
  other: number;
  agent: number;
  agent2: number;
  hardware: number;
  printing: number;
  /** Ticket ids by a short name. */
  t: Record<string, number>;
}

const OLDEST: TicketOrder = { key: 'created', desc: false };
const BASE = Date.parse('2026-03-01T09:00:00.000Z');

/** Mail on: every service below writes its notifications, so the outbox's SQL runs on each engine too. */
const mail = createMailOutbox({ threading: { host: 'deskside.test', key: 'contract-key' }, ownAddresses: ['helpdesk@corp.example'] });
/**
 * And the webhook outbox, with an endpoint for every event (added in beforeAll): every
 * service below is told of through both, as the app does.
 */
const listener = allListeners(mail.listener, createWebhookOutbox().listener);
const at = (minutes: number) => new Date(BASE + minutes * 60_000).toISOString();

export function dataContract(label: string, open: () => Promise<ContractTarget>): void {
  describe(`data contract on ${label}`, () => {
    let target: ContractTarget;
    let database: Database;
    let f: Fixture;

    const ids = async (q: Partial<TicketQuery>, limit = 100, offset = 0) =>
      (await listTickets(database.db, database.dialect, { status: 'all', sort: BY_UPDATED, ...q }, limit, offset)).map((r) => r.id);
    const count = (q: Partial<TicketQuery>) => countTickets(database.db, database.dialect, { status: 'all', sort: BY_UPDATED, ...q });

    async function ticket(o: { title: string; description?: string; status?: TicketStatus; priority?: number; category: number; requester: number; assignee?: number | null; minute: number }) {
      const status = o.status ?? 'new';
      return database.write(async (trx) => {
        const id = await insertTicket(trx, database.dialect, {
          title: o.title,
          description: o.description ?? 'No further details.',
          status,
          active: isActive(status) ? 1 : 0,
          priority: o.priority ?? 2,
          categoryId: o.category,
          requesterId: o.requester,
          assigneeId: o.assignee ?? null,
          channel: 'web',
          at: at(o.minute),
        });
        await insertEvents(trx, [{ ticketId: id, actorId: o.requester, kind: 'created', ticketVersion: 1, at: at(o.minute) }]);
        // As insertNewTicket does: the dashboard's totals and the clocks, in the same transaction.
        await afterTicketRaised(trx, { id, version: 1, status, priority: o.priority ?? 2, categoryId: o.category, teamId: null, assigneeId: o.assignee ?? null, requesterId: o.requester, createdAt: at(o.minute) }, at(o.minute));
        return id;
      });
    }

    beforeAll(async () => {
      target = await open();
      database = target.database;
      await migrateToLatest(database.db, database.dialect);
      // Office hours in London with the sample targets, before any ticket: every clock runs on them.
      await prepareServiceLevels(database, SAMPLE_SERVICE_LEVELS);
      const requester = (await ensurePerson(database.db, 'CORP\\Alice', 'corp\\alice', { displayName: 'Alice Abbott', email: 'alice@corp.example' })).id;
      const other = (await ensurePerson(database.db, 'CORP\\Bob', 'corp\\bob', { displayName: 'Bob Berg' })).id;
      const agent = (await ensurePerson(database.db, 'CORP\\Carol', 'corp\\carol', { displayName: 'Carol Castro' })).id;
      const agent2 = (await ensurePerson(database.db, 'CORP\\Dan', 'corp\\dan', { displayName: 'Dan Dubois' })).id;
      await setAgentFlag(database.db, agent, true);
      await setAgentFlag(database.db, agent2, true);
      await database.write((trx) =>
        insertWebhook(trx, database.dialect, { name: 'Everything', url: 'https://hooks.example/in', events: 'ticket.raised,ticket.changed,ticket.commented', priorities: null, teams: null, format: 'json', internal: 1, active: 1, linkBase: 'https://desk.example', secret: 's', createdBy: agent, at: at(0) }),
      );
      const cats = await listCategories(database.db, { activeOnly: true });
      const hardware = cats.find((c) => c.name === 'Hardware')!.id;
      const printing = cats.find((c) => c.name === 'Printing')!.id;
      f = { requester, other, agent, agent2, hardware, printing, t: {} };
      f.t.laptop = await ticket({ title: 'Laptop will not turn on', description: 'Since the update this morning the laptop stays dark.', category: hardware, requester, minute: 1, priority: 3 });
      f.t.printer = await ticket({ title: 'Printer on floor 3 jams', description: 'The print queue shows every job as spooling.', category: printing, requester: other, assignee: agent, status: 'open', minute: 2, priority: 2 });
      f.t.cafe = await ticket({ title: 'Café Wi-Fi is slow', description: 'Speed tests show less than 1 Mbit/s in the café.', category: hardware, requester, assignee: agent2, status: 'pending', minute: 3, priority: 1 });
      f.t.closed = await ticket({ title: 'Toner for the finance printer', description: 'Replaced.', category: printing, requester: other, assignee: agent, status: 'closed', minute: 4, priority: 4 });
      f.t.unicode = await ticket({ title: 'Zoë’s 日本語 keyboard ✓', description: 'Ünïcödé survives the round trip: 😀', category: hardware, requester: other, status: 'resolved', minute: 5, priority: 4 });
      f.t.urgent = await ticket({ title: 'Docking station does not detect the laptop', description: 'Urgent for the board meeting.', category: hardware, requester, status: 'new', minute: 6, priority: 4 });
    }, 120_000);

    afterAll(async () => {
      await target?.dispose();
    }, 60_000);

    test('when migrations have run, then none is pending', async () => {
      expect(await pendingMigrations(database.db, database.dialect)).toEqual([]);
    });

    test('when a ticket is read back, then text, Unicode and UTC timestamps are exactly what was written', async () => {
      const t = (await getTicket(database.db, f.t.unicode))!;
      expect(t.title).toBe('Zoë’s 日本語 keyboard ✓');
      expect(t.description).toBe('Ünïcödé survives the round trip: 😀');
      expect(toDate(t.created_at)!.toISOString()).toBe(at(5));
      expect(toDate(t.updated_at)!.toISOString()).toBe(at(5));
      expect(t).toMatchObject({ status: 'resolved', priority: 4, version: 1, requester_login: 'CORP\\Bob', requester_name: 'Bob Berg', assignee_id: null, comment_count: 0 });
    });

    test('when listing by status, then active, done, one status and all give the right tickets', async () => {
      expect(new Set(await ids({ status: 'active' }))).toEqual(new Set([f.t.laptop, f.t.printer, f.t.cafe, f.t.urgent]));
      expect(new Set(await ids({ status: 'done' }))).toEqual(new Set([f.t.closed, f.t.unicode]));
      expect(await ids({ status: 'pending' })).toEqual([f.t.cafe]);
      expect(await count({ status: 'all' })).toBe(6);
    });

    test('when listing by priority, category, assignee (or unassigned) and requester, then each filter applies', async () => {
      expect(new Set(await ids({ priority: 4 }))).toEqual(new Set([f.t.closed, f.t.unicode, f.t.urgent]));
      expect(new Set(await ids({ categoryId: f.printing }))).toEqual(new Set([f.t.printer, f.t.closed]));
      expect(new Set(await ids({ assigneeId: f.agent }))).toEqual(new Set([f.t.printer, f.t.closed]));
      expect(new Set(await ids({ assigneeId: null, status: 'active' }))).toEqual(new Set([f.t.laptop, f.t.urgent]));
      expect(new Set(await ids({ requesterId: f.requester }))).toEqual(new Set([f.t.laptop, f.t.cafe, f.t.urgent]));
      expect(await ids({ requesterId: f.requester, priority: 4, status: 'active' })).toEqual([f.t.urgent]);
      expect(await count({ assigneeId: null, status: 'active' })).toBe(2);
    });

    test.each<[string, TicketOrder, string[]]>([
      ['-updated', { key: 'updated', desc: true }, ['urgent', 'unicode', 'closed', 'cafe', 'printer', 'laptop']],
      ['updated', { key: 'updated', desc: false }, ['laptop', 'printer', 'cafe', 'closed', 'unicode', 'urgent']],
      ['-created', { key: 'created', desc: true }, ['urgent', 'unicode', 'closed', 'cafe', 'printer', 'laptop']],
      ['created', { key: 'created', desc: false }, ['laptop', 'printer', 'cafe', 'closed', 'unicode', 'urgent']],
      ['-id', { key: 'id', desc: true }, ['urgent', 'unicode', 'closed', 'cafe', 'printer', 'laptop']],
      ['-priority', { key: 'priority', desc: true }, ['urgent', 'unicode', 'closed', 'laptop', 'printer', 'cafe']],
      ['priority', { key: 'priority', desc: false }, ['cafe', 'printer', 'laptop', 'closed', 'unicode', 'urgent']],
    ])('when sorted by %s, then the order is as the queue shows it', async (_name, sort, names) => {
      const all = await ids({ sort, requesterId: undefined });
      const ours = all.filter((id) => Object.values(f.t).includes(id));
      expect(ours.slice(0, 6)).toEqual(names.map((n) => f.t[n]));
    });

    test('when paging, then pages follow the sort without gaps or repeats and the count agrees', async () => {
      const whole = await ids({ sort: OLDEST });
      const pages = [...(await ids({ sort: OLDEST }, 4, 0)), ...(await ids({ sort: OLDEST }, 4, 4)), ...(await ids({ sort: OLDEST }, 4, 8))];
      expect(pages).toEqual(whole);
      expect(await ids({ sort: OLDEST }, 4, 400)).toEqual([]);
      expect(await count({})).toBe(whole.length);
    });

    test('when searching, then every word must match title or description, the last as a prefix, ignoring case and accents', async () => {
      const search = (q: string) => ids({ words: searchWords(q) });
      expect(await search('laptop')).toEqual(expect.arrayContaining([f.t.laptop, f.t.urgent]));
      expect(new Set(await search('LAPTOP dark'))).toEqual(new Set([f.t.laptop]));
      expect(new Set(await search('spool'))).toEqual(new Set([f.t.printer]));
      expect(new Set(await search('cafe'))).toEqual(new Set([f.t.cafe]));
      expect(new Set(await search('print queue'))).toEqual(new Set([f.t.printer]));
      // "print" as a whole word is not "printer": only the last word is a prefix.
      expect(await search('print toner')).toEqual([]);
      expect(await search('zzzunheardof')).toEqual([]);
      expect(await count({ words: searchWords('printer') })).toBe(2);
    });

    test('when a search is sorted by ticket number, then pages follow that order, the status narrows it, and the answer is the general query\'s', async () => {
      const newest = { key: 'created', desc: true } as const;
      const oldest = { key: 'id', desc: false } as const;
      const words = searchWords('printer');
      expect(await ids({ words, sort: newest })).toEqual([f.t.closed, f.t.printer]);
      expect(await ids({ words, sort: oldest })).toEqual([f.t.printer, f.t.closed]);
      expect(await ids({ words, sort: newest }, 1, 0)).toEqual([f.t.closed]);
      expect(await ids({ words, sort: newest }, 1, 1)).toEqual([f.t.printer]);
      expect(await ids({ words, sort: newest }, 1, 2)).toEqual([]);
      expect(await ids({ words, sort: newest, status: 'active' })).toEqual([f.t.printer]);
      expect(await ids({ words, sort: newest, status: 'closed' })).toEqual([f.t.closed]);
      expect(await ids({ words, sort: newest, status: 'done' })).toEqual([f.t.closed]);
      expect(await ids({ words: searchWords('laptop'), sort: newest, status: 'new' })).toEqual([f.t.urgent, f.t.laptop]);
      // A rarer condition than a status takes the general query; same answers, same order.
      expect(await ids({ words: searchWords('laptop'), sort: newest, categoryId: f.hardware })).toEqual([f.t.urgent, f.t.laptop]);
      expect(await ids({ words, sort: newest, assigneeId: f.agent })).toEqual([f.t.closed, f.t.printer]);
    });

    test('when someone comments, then the timeline, comment count and "recently updated" order change and notes stay internal', async () => {
      const r = await addComment(database, { personId: f.other, isAgent: false }, f.t.printer, { body: 'Still jamming.', internal: undefined }, listener);
      expect(r).toEqual({ kind: 'ok' });
      await addComment(database, { personId: f.agent, isAgent: true }, f.t.printer, { body: 'Ordered a new roller.', internal: 'on' }, listener);
      const pub = await listEvents(database.db, f.t.printer, { includeInternal: false });
      const all = await listEvents(database.db, f.t.printer, { includeInternal: true });
      expect(pub.map((e) => e.kind)).toEqual(['created', 'comment']);
      expect(all.map((e) => e.kind)).toEqual(['created', 'comment', 'note']);
      expect(all[1]).toMatchObject({ body: 'Still jamming.', actor_id: f.other, actor_login: 'CORP\\Bob' });
      expect(toDate(all[2].created_at)).toBeInstanceOf(Date);
      expect((await getTicket(database.db, f.t.printer))!.comment_count).toBe(1);
      expect((await ids({ sort: BY_UPDATED }))[0]).toBe(f.t.printer);
    });

    test('when two agents edit from the same version, then the second gets a conflict showing the first change, and nothing is overwritten', async () => {
      const id = await ticket({ title: 'Monitor flickers', category: f.hardware, requester: f.requester, minute: 10 });
      const first = await editTicket(database, { personId: f.agent, isAgent: true }, id, { version: 1, priority: 'high' }, listener);
      expect(first).toEqual({ kind: 'ok', changed: 1 });
      const second = await editTicket(database, { personId: f.agent2, isAgent: true }, id, { version: 1, priority: 'low', assigneeId: f.agent2 }, listener);
      expect(second.kind).toBe('conflict');
      if (second.kind !== 'conflict') return;
      expect(second.current).toMatchObject({ priority: 'high', version: 2 });
      expect(second.theirEvents.map((e) => [e.kind, e.from_value, e.to_value, e.actor_id])).toEqual([['priority', 'normal', 'high', f.agent]]);
      const t = (await getTicket(database.db, id))!;
      expect(t).toMatchObject({ priority: 3, version: 2, assignee_id: null });
    });

    test('when an agent assigns a new ticket, then it opens, the version moves on and each change is an event', async () => {
      const id = await ticket({ title: 'Headset crackles', category: f.hardware, requester: f.requester, minute: 11 });
      expect(await editTicket(database, { personId: f.agent, isAgent: true }, id, { version: 1, assigneeId: f.agent }, listener)).toEqual({ kind: 'ok', changed: 2 });
      const t = (await getTicket(database.db, id))!;
      expect(t).toMatchObject({ status: 'open', assignee_id: f.agent, assignee_name: 'Carol Castro', version: 2 });
      const evs = await listEvents(database.db, id, { includeInternal: true, afterVersion: 1 });
      expect(evs.map((e) => e.kind).sort()).toEqual(['assignee', 'status']);
    });

    test('when a requester closes and reopens their ticket, then resolved_at is set and cleared', async () => {
      const id = await ticket({ title: 'Mouse double-clicks', category: f.hardware, requester: f.requester, minute: 12 });
      expect(await setOwnStatus(database, { personId: f.requester, isAgent: false }, id, 'close', listener)).toBe(true);
      const closed = (await getTicket(database.db, id))!;
      expect(closed.status).toBe('closed');
      expect(toDate(closed.resolved_at)).toBeInstanceOf(Date);
      expect(await setOwnStatus(database, { personId: f.requester, isAgent: false }, id, 'reopen', listener)).toBe(true);
      expect((await getTicket(database.db, id))!).toMatchObject({ status: 'open', resolved_at: null, version: 3 });
    });

    test('when the same person is recognised repeatedly and at once, then there is one row and profile changes are kept', async () => {
      const all = await Promise.all([1, 2, 3, 4, 5].map(() => ensurePerson(database.db, 'CORP\\Erin', 'corp\\erin', { displayName: 'Erin Eriksen' })));
      expect(new Set(all.map((p) => p.id)).size).toBe(1);
      const again = await ensurePerson(database.db, 'corp\\ERIN', 'corp\\erin', { department: 'Finance' });
      expect(again).toMatchObject({ id: all[0].id, login: 'CORP\\Erin', display_name: 'Erin Eriksen', department: 'Finance' });
      expect((await findPersonByKey(database.db, 'corp\\erin'))!.department).toBe('Finance');
      expect(await findPersonByKey(database.db, 'CORP\\ERIN')).toBeUndefined();
      expect((await listPeopleByIds(database.db, [all[0].id, f.agent])).map((p) => p.id).sort((a, b) => a - b)).toEqual([all[0].id, f.agent].sort((a, b) => a - b));
    });

    test('when agents and categories are listed, then they come in display order', async () => {
      expect((await listAgents(database.db)).map((a) => a.display_name)).toEqual(['Carol Castro', 'Dan Dubois']);
      const cats = await listCategories(database.db, { activeOnly: true });
      expect(cats[0].name).toBe('Hardware');
      expect(cats).toHaveLength(8);
      const summary = await queueSummary(database.db, database.dialect, f.agent);
      expect(summary.active).toBe(await count({ status: 'active' }));
      expect(summary.urgent).toBe(await count({ status: 'active', priority: 4 }));
    });

    test('when a session is written, then it is found until it expires and is gone once deleted', async () => {
      const expires = new Date(Date.now() + 3_600_000).toISOString();
      await insertSession(database.db, { id: 'a'.repeat(64), personId: f.requester, authType: 'Negotiate', source: 'iisnode', createdAt: new Date().toISOString(), expiresAt: expires });
      await insertSession(database.db, { id: 'b'.repeat(64), personId: f.other, authType: 'NTLM', source: 'iisnode', createdAt: at(0), expiresAt: at(1) });
      const live = await findLiveSession(database.db, 'a'.repeat(64), new Date().toISOString());
      expect(live).toMatchObject({ person_id: f.requester, login: 'CORP\\Alice', is_agent: 0 });
      expect(toDate(live!.expires_at)!.toISOString()).toBe(expires);
      expect(await findLiveSession(database.db, 'b'.repeat(64), new Date().toISOString())).toBeUndefined();
      expect(await deleteExpiredSessions(database.db, new Date().toISOString())).toBe(1);
      await deleteSession(database.db, 'a'.repeat(64));
      expect(await findLiveSession(database.db, 'a'.repeat(64), new Date().toISOString())).toBeUndefined();
    });

    test('when a known issue is published, linked, updated and resolved, then every linked ticket hears of it and resolves with one event each', async () => {
      const values = { title: 'E-mail is down in Building B', summary: 'Outlook cannot connect.', status: 'investigating' as const, categoryId: f.hardware };
      const k = await publishKnownIssue(database, f.agent, values);
      const a = await ticket({ title: 'Outlook offline', category: f.hardware, requester: f.requester, minute: 30 });
      const b = await ticket({ title: 'No mail', category: f.hardware, requester: f.other, status: 'closed', minute: 31 });
      expect(await linkTicket(database, f.agent, k, { ticket: String(a) }, listener)).toEqual({ kind: 'linked' });
      expect(await linkTicket(database, f.agent, k, { ticket: String(b) }, listener)).toEqual({ kind: 'linked' });
      expect(await linkTicket(database, f.agent, k, { ticket: String(a) }, listener)).toEqual({ kind: 'already' });
      const mine = await meToo(database, f.other, k, listener);
      expect(mine.kind).toBe('created');
      expect(await meToo(database, f.other, k, listener)).toEqual({ kind: 'existing', ticketId: (mine as { ticketId: number }).ticketId });
      expect(await postKnownIssueUpdate(database, f.agent, k, { body: 'Engineers are replacing the switch.' }, listener)).toEqual({ kind: 'ok', copiedTo: 3 });
      const updates = (await listEvents(database.db, a, { includeInternal: false })).filter((e) => e.kind === 'issue-update');
      expect(updates.map((e) => e.body)).toEqual(['Engineers are replacing the switch.']);
      expect((await knownIssuesOfTicket(database.db, a)).map((x) => x.title)).toEqual(['E-mail is down in Building B']);
      const stale = await changeKnownIssue(database, f.agent, k, { version: 99, values, resolveTickets: true }, listener);
      expect(stale.kind).toBe('conflict');
      const resolved = await changeKnownIssue(database, f.agent, k, { version: 1, values: { ...values, status: 'resolved' }, resolveTickets: true }, listener);
      // The closed ticket stays closed; the two open ones resolve.
      expect(resolved).toEqual({ kind: 'ok', resolvedTickets: 2 });
      expect((await getTicket(database.db, a))!.status).toBe('resolved');
      expect((await getTicket(database.db, b))!.status).toBe('closed');
      const statusEvents = (await listEvents(database.db, a, { includeInternal: true })).filter((e) => e.kind === 'status');
      expect(statusEvents.map((e) => [e.from_value, e.to_value])).toEqual([['new', 'resolved']]);
      expect((await listKnownIssues(database.db, database.dialect, { activeOnly: true, limit: 10 })).map((x) => x.id)).not.toContain(k);
      const history = await listKnownIssueEvents(database.db, k, { includePrivate: false });
      expect(history.map((e) => e.kind)).toEqual(['published', 'update', 'status']);
      expect((await listKnownIssueEvents(database.db, k, { includePrivate: true })).filter((e) => e.kind === 'ticket-linked')).toHaveLength(3);
    });

    test('when a ticket is raised, replied to, noted and assigned with mail on, then the outbox holds one notification per event and recipient, never for the note', async () => {
      await savePreferences(database.db, f.agent, { my_tickets: 1, assigned: 1, new_tickets: 0 }, at(40));
      await database.db.updateTable('people').set({ email: 'Carol.Castro@Corp.Example' }).where('id', '=', f.agent).execute();
      const id = await createTicket(database, f.requester, { title: 'Scanner sends blank pages', description: 'Every scan is white.', categoryId: f.hardware, priority: 'normal' }, mail.listener);
      await addComment(database, { personId: f.agent, isAgent: true }, id, { body: 'Which scanner?', internal: undefined }, mail.listener);
      await addComment(database, { personId: f.agent, isAgent: true }, id, { body: 'Probably the lid sensor.', internal: 'on' }, mail.listener);
      await editTicket(database, { personId: f.agent2, isAgent: true }, id, { version: 1, assigneeId: f.agent }, mail.listener);
      const rows = (await listOutbox(database.db, database.dialect, 'all', 100, 0)).filter((r) => r.ticket_id === id).reverse();
      expect(rows.map((r) => [r.to_address, r.audience, r.status])).toEqual([
        ['alice@corp.example', 'requester', 'queued'],
        ['alice@corp.example', 'requester', 'queued'],
        ['carol.castro@corp.example', 'assignee', 'queued'],
      ]);
      expect(rows[0].subject).toBe(`[#${id}] Scanner sends blank pages`);
      const events = await listEvents(database.db, id, { includeInternal: true });
      const byKind = (k: string) => events.find((e) => e.kind === k)!.id;
      expect(rows.map((r) => r.event_ids)).toEqual([String(byKind('created')), String(byKind('comment')), String(byKind('assignee'))]);
      expect(new Set(rows.map((r) => r.message_id)).size).toBe(3);
    });

    test('when two senders claim the same notification, then exactly one gets it, and only the holder may record the outcome', async () => {
      const now = new Date().toISOString();
      const due = await dueOutboxIds(database.db, database.dialect, now, 500);
      expect(due.length).toBeGreaterThan(0);
      const id = due[0];
      const until = new Date(Date.now() + 60_000).toISOString();
      const claims = await Promise.all(['a:1:x', 'b:2:y'].map((owner) => database.write((trx) => claimOutboxRow(trx, id, owner, now, until))));
      expect(claims.filter(Boolean)).toHaveLength(1);
      const winner = claims[0] ? 'a:1:x' : 'b:2:y';
      const loser = claims[0] ? 'b:2:y' : 'a:1:x';
      expect(await dueOutboxIds(database.db, database.dialect, now, 500)).not.toContain(id);
      expect(await finishOutboxRow(database.db, id, loser, { status: 'sent', lastAnswer: '250 ok', sentAt: now }, now)).toBe(false);
      expect(await finishOutboxRow(database.db, id, winner, { status: 'queued', lastAnswer: '451 4.3.0 try later', nextAttemptAt: at(-1) }, now)).toBe(true);
      // Due again, unleased, with the server's answer and the try counted.
      expect(await dueOutboxIds(database.db, database.dialect, now, 500)).toContain(id);
      const row = (await listOutbox(database.db, database.dialect, 'queued', 500, 0)).find((r) => r.id === id)!;
      expect(row).toMatchObject({ attempts: 1, last_answer: '451 4.3.0 try later', lease_owner: null, lease_expires_at: null });
    });

    test('when a message is recorded as read, then its key is unique, its Message-ID threads, and people are found by address whatever its case', async () => {
      const key = '<Reply-1@Mail.Example>';
      const row = { messageKey: key, messageId: key, fromAddress: 'alice@corp.example', subject: 'Re: [#1] x', outcome: 'comment' as const, reason: null, ticketId: f.t.laptop, eventId: null, personId: f.requester, original: 'Thanks!\n\n> quoted', at: at(50) };
      await insertInbound(database.db, database.dialect, row);
      await expect(insertInbound(database.db, database.dialect, row)).rejects.toMatchObject({ message: expect.stringMatching(/unique|duplicate/i) });
      expect(await findInbound(database.db, key)).toMatchObject({ outcome: 'comment', ticket_id: f.t.laptop });
      expect(await findInbound(database.db, key.toLowerCase())).toBeUndefined();
      expect(await inboundMessageIds(database.db, [f.t.laptop], ['alice@corp.example'])).toEqual([{ ticket_id: f.t.laptop, from_address: 'alice@corp.example', message_id: key }]);
      expect(await inboundOfTicket(database.db, f.t.laptop)).toEqual([]);
      expect((await peopleByEmail(database.db, 'alice@corp.example')).map((p) => p.id)).toEqual([f.requester]);
      expect((await peopleByEmail(database.db, 'carol.castro@corp.example')).map((p) => p.id)).toEqual([f.agent]);
    });

    test('when mail from the desk’s mailbox is read, then a stranger becomes a requester with a ticket, their reply becomes a comment, and the same message is acted on once', async () => {
      const deps = { database, mail: { unknownSenders: 'create' as const, acceptListMail: false, senderLimit: { maxMessages: 20, windowMinutes: 60 } }, ownAddresses: ['helpdesk@corp.example'], threading: mail.settings.threading, listener: mail.listener };
      const first = Buffer.from('From: Zoë Outsider <zoe@partner.example>\r\nTo: helpdesk@corp.example\r\nSubject: Badge does not open door 3\r\nMessage-ID: <contract-1@partner.example>\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nSince Monday.\r\n');
      const r = await processMessage(deps, first, new Date(BASE + 80 * 60_000));
      expect(r).toMatchObject({ outcome: 'ticket', folder: 'processed' });
      expect(await processMessage(deps, first)).toMatchObject({ outcome: 'duplicate' });
      const t = (await getTicket(database.db, r.ticketId!))!;
      expect(t).toMatchObject({ title: 'Badge does not open door 3', description: 'Since Monday.', requester_login: 'zoe@partner.example', requester_name: 'Zoë Outsider' });
      const reply = Buffer.from(`From: zoe@partner.example\r\nTo: helpdesk@corp.example\r\nSubject: RE: [#${r.ticketId}] Badge does not open door 3\r\nMessage-ID: <contract-2@partner.example>\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nNow door 4 too.\r\n\r\n> Since Monday.\r\n`);
      expect(await processMessage(deps, reply, new Date(BASE + 81 * 60_000))).toMatchObject({ outcome: 'comment', ticketId: r.ticketId });
      expect((await listEvents(database.db, r.ticketId!, { includeInternal: true })).map((e) => [e.kind, e.body])).toEqual([
        ['created', null],
        ['comment', 'Now door 4 too.'],
      ]);
      const acks = (await listOutbox(database.db, database.dialect, 'all', 500, 0)).filter((o) => o.ticket_id === r.ticketId);
      expect(acks.map((o) => [o.to_address, o.also_references])).toEqual([['zoe@partner.example', '<contract-1@partner.example>']]);
      expect((await inboundOfTicket(database.db, r.ticketId!)).map((x) => x.original)).toEqual([true]);
    });

    test('when preferences are saved twice and arrivals counted, then one row per person holds the latest choice and old arrivals go', async () => {
      await savePreferences(database.db, f.other, { my_tickets: 0, assigned: 1, new_tickets: 0 }, at(60));
      await savePreferences(database.db, f.other, { my_tickets: 1, assigned: 0, new_tickets: 1 }, at(61));
      expect(await getPreferences(database.db, f.other)).toEqual({ my_tickets: 1, assigned: 0, new_tickets: 1 });
      expect(await getPreferences(database.db, f.agent2)).toEqual({ my_tickets: 1, assigned: 1, new_tickets: 0 });
      for (const m of [70, 71, 72]) await recordArrival(database.db, 'flood@example.com', at(m));
      expect((await arrivalsSince(database.db, 'flood@example.com', at(70))).map((d) => d.toISOString())).toEqual([at(71), at(72)]);
      expect(await deleteArrivalsBefore(database.db, at(72))).toBe(2);
    });

    test('when files come with a reply and a note, then rows, events and the internal filter agree, and the database store gives every byte back', async () => {
      const staging = mkdtempSync(path.join(os.tmpdir(), 'deskside-contract-staging-'));
      try {
        const tables = (k: unknown) => k as Kysely<BlobTables>;
        const store = new DatabaseBlobStore(tables(database.db), { stagingDir: staging, transaction: (fn) => database.write((trx) => fn(tables(trx))) });
        const upload = async (name: string, bytes: Buffer): Promise<UploadedFile> => ({ field: 'files', originalName: name, name, declaredType: 'text/plain', staged: await store.stage(Readable.from([bytes])) });
        // Two chunks, so the chunked insert and read run on this engine.
        const log = Buffer.from(Array.from({ length: CHUNK_BYTES + 1000 }, (_, i) => (i * 13) % 256));
        expect(await addComment(database, { personId: f.requester, isAgent: false }, f.t.laptop, { body: 'The log', internal: undefined }, listener, [await upload('crash.log', log)])).toEqual({ kind: 'ok' });
        expect(await addComment(database, { personId: f.agent, isAgent: true }, f.t.laptop, { body: '', internal: 'on' }, listener, [await upload('notes.txt', Buffer.from('Überprüft ✓'))])).toEqual({ kind: 'ok' });

        const pub = await listAttachments(database.db, f.t.laptop, { includeInternal: false });
        const all = await listAttachments(database.db, f.t.laptop, { includeInternal: true });
        expect(pub.map((a) => [a.name, a.size, a.internal, a.uploader_login])).toEqual([['crash.log', log.length, 0, 'CORP\\Alice']]);
        expect(all.map((a) => [a.name, a.internal])).toEqual([['crash.log', 0], ['notes.txt', 1]]);
        expect(toDate(all[0].created_at)).toBeInstanceOf(Date);
        expect(await getAttachment(database.db, f.t.printer, all[0].id)).toBeUndefined();
        expect((await getAttachment(database.db, f.t.laptop, all[1].id))!.sha256).toBe(all[1].sha256);
        const kinds = async (includeInternal: boolean) => (await listEvents(database.db, f.t.laptop, { includeInternal })).map((e) => e.kind);
        expect(await kinds(false)).toEqual(['created', 'comment', 'attached']);
        expect(await kinds(true)).toEqual(['created', 'comment', 'attached', 'note-attached']);

        expect(Buffer.compare(await buffer(await store.open(all[0].sha256)), log)).toBe(0);
        const across = await buffer(await store.open(all[0].sha256, { start: CHUNK_BYTES - 3, end: CHUNK_BYTES + 2 }));
        expect(Buffer.compare(across, log.subarray(CHUNK_BYTES - 3, CHUNK_BYTES + 3))).toBe(0);
        expect((await buffer(await store.open(all[1].sha256))).toString()).toBe('Überprüft ✓');
        // Putting stored content again succeeds and moves its time on.
        const before = (await store.stat(all[1].sha256))!.storedAt;
        await new Promise((r) => setTimeout(r, 20));
        await store.put(Readable.from([Buffer.from('Überprüft ✓')]));
        expect((await store.stat(all[1].sha256))!.storedAt.getTime()).toBeGreaterThan(before.getTime());
      } finally {
        rmSync(staging, { recursive: true, force: true });
      }
    });

    test('when a file is removed, then only once, and the sweeper counts it as needed only until the retention passes', async () => {
      const [file] = await listAttachments(database.db, f.t.laptop, { includeInternal: false });
      expect((await removeAttachment(database, { personId: f.agent }, f.t.laptop, file.id, mail.listener)).kind).toBe('ok');
      expect((await removeAttachment(database, { personId: f.agent2 }, f.t.laptop, file.id, mail.listener)).kind).toBe('already-removed');
      expect(await removeAttachment(database, { personId: f.agent }, f.t.printer, file.id, mail.listener)).toEqual({ kind: 'not-found' });
      const removed = (await getAttachment(database.db, f.t.laptop, file.id))!;
      expect(removed).toMatchObject({ removed_by: f.agent, remover_name: 'Carol Castro' });
      const evs = await listEvents(database.db, f.t.laptop, { includeInternal: false });
      expect(evs.at(-1)).toMatchObject({ kind: 'detached', from_value: 'crash.log', to_value: String(file.id) });
      const [note] = (await listAttachments(database.db, f.t.laptop, { includeInternal: true })).filter((a) => a.internal);
      const unknown = 'f'.repeat(64);
      const removedAt = toDate(removed.removed_at)!.getTime();
      // Within the retention (removed after the cutoff) it is still needed; past it, only the live file is.
      expect(await referencedHashes(database.db, [file.sha256, note.sha256, unknown], new Date(removedAt - 60_000).toISOString())).toEqual(new Set([file.sha256, note.sha256]));
      expect(await referencedHashes(database.db, [file.sha256, note.sha256, unknown], new Date(removedAt + 60_000).toISOString())).toEqual(new Set([note.sha256]));
    });

    test('when two processes claim one lease, then one holds it until it lets go or it expires', async () => {
      const t0 = new Date('2026-03-01T10:00:00.000Z');
      const later = (ms: number) => new Date(t0.getTime() + ms);
      expect(await claimLease(database.db, 'contract-job', 'a', t0, 60_000)).toBe(true);
      expect(await claimLease(database.db, 'contract-job', 'b', later(1000), 60_000)).toBe(false);
      // The holder renews; the other still waits.
      expect(await claimLease(database.db, 'contract-job', 'a', later(50_000), 60_000)).toBe(true);
      expect(await claimLease(database.db, 'contract-job', 'b', later(70_000), 60_000)).toBe(false);
      expect(await claimLease(database.db, 'contract-job', 'b', later(111_000), 60_000)).toBe(true);
      await releaseLease(database.db, 'contract-job', 'a', later(112_000));
      expect(await claimLease(database.db, 'contract-job', 'a', later(113_000), 60_000)).toBe(false);
      await releaseLease(database.db, 'contract-job', 'b', later(114_000));
      expect(await claimLease(database.db, 'contract-job', 'a', later(115_000), 60_000)).toBe(true);
      const racers = await Promise.all(['c', 'd', 'e'].map((h) => claimLease(database.db, 'contract-race', h, t0, 60_000)));
      expect(racers.filter(Boolean)).toHaveLength(1);
    });

    test('when a ticket says how it reached the desk, then the channel reads back', async () => {
      const id = await database.write(async (trx) => {
        const walkedIn = await insertTicket(trx, database.dialect, { title: 'Walked in', description: 'At the desk.', status: 'new', active: 1, priority: 2, categoryId: f.hardware, requesterId: f.other, assigneeId: null, channel: 'walk-in', at: at(30) });
        // As insertNewTicket does, so the dashboard's totals still add up (a later test recounts them).
        await afterTicketRaised(trx, { id: walkedIn, version: 1, status: 'new', priority: 2, categoryId: f.hardware, teamId: null, assigneeId: null, requesterId: f.other, createdAt: at(30) }, at(30));
        return walkedIn;
      });
      expect((await getTicket(database.db, id))!.channel).toBe('walk-in');
      expect((await getTicket(database.db, f.t.laptop))!.channel).toBe('web');
    });

    test.each<[string, TicketOrder]>([
      ['-updated', { key: 'updated', desc: true }],
      ['updated', { key: 'updated', desc: false }],
      ['-priority', { key: 'priority', desc: true }],
      ['priority', { key: 'priority', desc: false }],
      ['-id', { key: 'id', desc: true }],
      ['created', { key: 'created', desc: false }],
    ])('when stepping through a list sorted by %s, then previous and next are exactly its neighbours', async (_name, sort) => {
      const q: TicketQuery = { status: 'all', requesterId: f.requester, sort };
      const list = await listTickets(database.db, database.dialect, q, 100, 0);
      expect(list.length).toBeGreaterThan(3);
      for (let i = 0; i < list.length; i++) {
        const r = list[i];
        const n = await neighbourTickets(database.db, database.dialect, q, { id: r.id, updatedAt: toDate(r.updated_at)!.toISOString(), priority: r.priority });
        expect({ i, prev: n.prev?.id, next: n.next?.id }).toEqual({ i, prev: list[i - 1]?.id, next: list[i + 1]?.id });
      }
    });

    test('when the requester side panel asks, then open tickets come newest first and "someone else replied" is known', async () => {
      const open = await openTicketsOf(database.db, database.dialect, f.requester, 3);
      const expected = (await ids({ requesterId: f.requester, status: 'active' })).slice(0, 3);
      expect(open.map((o) => o.id)).toEqual(expected);
      expect(open.every((o) => ['new', 'open', 'pending'].includes(o.status))).toBe(true);
      expect(await hasOthersReply(database.db, database.dialect, f.t.laptop, f.requester)).toBe(false);
      await addComment(database, { personId: f.requester, isAgent: false }, f.t.laptop, { body: 'Still dark.', internal: undefined }, mail.listener);
      await addComment(database, { personId: f.agent, isAgent: true }, f.t.laptop, { body: 'Only a note.', internal: 'on' }, mail.listener);
      expect(await hasOthersReply(database.db, database.dialect, f.t.laptop, f.requester)).toBe(false);
      await addComment(database, { personId: f.agent, isAgent: true }, f.t.laptop, { body: 'Hold the power button for 30 s.', internal: undefined }, mail.listener);
      expect(await hasOthersReply(database.db, database.dialect, f.t.laptop, f.requester)).toBe(true);
    });

    test('when a bulk change meets a current and a stale version, then it applies one, skips the other and writes the events', async () => {
      const a = await ticket({ title: 'Bulk A', category: f.hardware, requester: f.requester, minute: 40 });
      const b = await ticket({ title: 'Bulk B', category: f.hardware, requester: f.requester, minute: 41 });
      const out = await bulkChange(database, { personId: f.agent, isAgent: true }, () => true, { items: [{ id: a, version: 1 }, { id: b, version: 7 }], fields: { priority: 'urgent', assigneeId: f.agent2 } }, mail.listener);
      expect(out).toEqual({ applied: [{ id: a, title: 'Bulk A', changes: 3 }], unchanged: [], skipped: [{ id: b, title: 'Bulk B', reason: 'stale' }] });
      expect(await getTicket(database.db, a)).toMatchObject({ priority: 4, assignee_id: f.agent2, status: 'open', version: 2 });
      expect(await getTicket(database.db, b)).toMatchObject({ priority: 2, assignee_id: null, version: 1 });
      expect((await listEvents(database.db, a, { includeInternal: true, afterVersion: 1 })).map((e) => e.kind).sort()).toEqual(['assignee', 'priority', 'status']);
    });

    test('when a reply carries a status, then both land in one step; a reply that missed newer activity writes nothing', async () => {
      const id = await ticket({ title: 'Reply and resolve', category: f.hardware, requester: f.requester, minute: 42 });
      const [created] = await listEvents(database.db, id, { includeInternal: true });
      expect(await addComment(database, { personId: f.agent, isAgent: true }, id, { body: 'Fixed.', internal: undefined, status: 'resolved', seen: String(created.id) }, mail.listener)).toEqual({ kind: 'ok' });
      expect(await getTicket(database.db, id)).toMatchObject({ status: 'resolved', version: 2, comment_count: 1 });
      const late = await addComment(database, { personId: f.agent2, isAgent: true }, id, { body: 'Me too', internal: undefined, seen: String(created.id) }, mail.listener);
      expect(late.kind).toBe('changed');
      // The fixture's tickets are months old: the reply also records their service-level targets as missed.
      expect((await listEvents(database.db, id, { includeInternal: true })).map((e) => e.kind).filter((k) => k !== 'sla')).toEqual(['created', 'comment', 'status']);
    });

    test('when a title and description are edited, then the events keep the old text and search finds the new', async () => {
      const id = await ticket({ title: 'Keyboard sticky', description: 'Spilled tea on it.', category: f.hardware, requester: f.requester, minute: 43 });
      expect(await editText(database, { personId: f.agent, isAgent: true }, id, { version: 1, title: 'Keyboard replaced', description: 'Swapped for a new xylophonic one.' }, mail.listener)).toEqual({ kind: 'ok', changed: 2 });
      const evs = await listEvents(database.db, id, { includeInternal: true, afterVersion: 1 });
      expect(evs.map((e) => [e.kind, e.from_value, e.to_value, e.body])).toEqual([
        ['title', 'Keyboard sticky', 'Keyboard replaced', null],
        ['description', null, null, 'Spilled tea on it.'],
      ]);
      expect(await ids({ words: searchWords('xylophonic') })).toEqual([id]);
      expect(await ids({ words: searchWords('sticky') })).toEqual([]);
      expect((await editText(database, { personId: f.agent, isAgent: true }, id, { version: 1, title: 'x', description: 'y' }, mail.listener)).kind).toBe('conflict');
    });

    test('when people are searched, then names, logins and e-mail addresses match and wildcards are literal', async () => {
      const found = async (...words: string[]) => (await searchKnownPeople(database.db, database.dialect, words, 10)).map((p) => p.login);
      expect(await found('abbott')).toEqual(['CORP\\Alice']);
      expect(await found('ALI', 'abb')).toEqual(['CORP\\Alice']);
      expect(await found('alice@corp')).toEqual(['CORP\\Alice']);
      expect(await found('corp\\dan')).toEqual(['CORP\\Dan']);
      for (const wild of ['%', '_', '[a-z]', '\\']) expect({ wild, found: await found(wild) }).toEqual({ wild, found: wild === '\\' ? expect.arrayContaining(['CORP\\Alice']) : [] });
    });

    test('when views are saved, then each agent lists their own and the shared ones, and a deleted one is gone', async () => {
      const mine = await insertView(database.db, database.dialect, { ownerId: f.agent, name: 'Printers', query: 'category=6', shared: false, at: at(50) });
      const shared = await insertView(database.db, database.dialect, { ownerId: f.agent2, name: 'Everyone’s urgent', query: 'priority=urgent', shared: true, at: at(51) });
      expect((await listViewsFor(database.db, f.agent)).map((v) => v.id)).toEqual([mine, shared]);
      expect((await listViewsFor(database.db, f.agent2)).map((v) => v.id)).toEqual([shared]);
      expect(await deleteView(database.db, mine)).toBe(true);
      expect((await listViewsFor(database.db, f.agent)).map((v) => v.id)).toEqual([shared]);
    });

    test('when canned replies are stored, then only active ones are offered, by title', async () => {
      await insertResponse(database.db, { title: 'Zzz retired', body: 'old', active: false, at: at(60) });
      await insertResponse(database.db, { title: 'Access granted', body: 'Hi {{requester.firstName}} ✓', active: true, at: at(60) });
      expect((await listResponses(database.db, { activeOnly: true })).map((r) => [r.title, r.body])).toEqual([['Access granted', 'Hi {{requester.firstName}} ✓']]);
      expect(await listResponses(database.db, { activeOnly: false })).toHaveLength(2);
    });

    test('when the seeder adds hundreds of tickets with their own ids, then the batches fit the parameter limit and every row lands', async () => {
      const before = await count({});
      const result = await seedTickets(database, { tickets: 320, seed: 7, generatedPeople: 25, days: 10, batchSize: 320 });
      expect(result.tickets).toBe(320);
      expect(await count({})).toBe(before + 320);
      const events = await database.db.selectFrom('ticket_events').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
      expect(Number(events.n)).toBeGreaterThanOrEqual(result.events);
      // The database's own id sequence carries on after the seeded ids.
      const next = await ticket({ title: 'After the seed', category: f.hardware, requester: f.requester, minute: 20 });
      expect(next).toBeGreaterThan(Math.max(...Object.values(f.t)));
      expect((await getTicket(database.db, next))!.title).toBe('After the seed');
    }, 120_000);

    test('when a list is read a page at a time after the last ticket seen, then every order gives the same tickets as one long page', async () => {
      const sorts: TicketOrder[] = (['id', 'created', 'updated', 'priority', 'due'] as const).flatMap((key) => [true, false].map((desc) => ({ key, desc })));
      for (const sort of sorts) {
        const all = await listTickets(database.db, database.dialect, { status: 'all', sort }, 1000, 0);
        const ids: number[] = [];
        let after: ListAnchor | undefined;
        for (;;) {
          const page = await listTickets(database.db, database.dialect, { status: 'all', sort }, 3, 0, after);
          ids.push(...page.map((r) => r.id));
          if (page.length < 3) break;
          after = anchorOf(page[page.length - 1]);
        }
        expect({ sort, ids }).toEqual({ sort, ids: all.map((r) => r.id) });
      }
    });

    test('when a ticket is raised with a webhook on, then its delivery is queued in the same transaction, claimed once, and finished only by its holder', async () => {
      const hook = (await activeWebhooks(database.db))[0];
      const id = await createTicket(database, f.requester, { title: 'Webhook contract', description: 'd', categoryId: f.hardware, priority: 'urgent' }, listener);
      const mine = (await listDeliveries(database.db, database.dialect, hook.id, 500)).filter((d) => d.ticket_id === id);
      expect(mine.map((d) => d.event)).toEqual(['ticket.raised']);
      const now = new Date().toISOString();
      expect(await outbox.dueOutboxIds(database.db, database.dialect, 'webhook_deliveries', now, 1000)).toContain(mine[0].id);
      const claims = await Promise.all(['a', 'b', 'c'].map((h) => database.write((trx) => outbox.claimOutboxRow(trx, 'webhook_deliveries', mine[0].id, h, now, new Date(Date.now() + 60_000).toISOString()))));
      expect(claims.filter(Boolean)).toHaveLength(1);
      const holder = ['a', 'b', 'c'][claims.indexOf(true)];
      expect(await outbox.dueOutboxIds(database.db, database.dialect, 'webhook_deliveries', now, 1000)).not.toContain(mine[0].id);
      expect(await finishDelivery(database.db, mine[0].id, 'someone-else', { status: 'delivered', lastStatus: 200, lastAnswer: 'ok' }, now)).toBe(false);
      expect(await finishDelivery(database.db, mine[0].id, holder, { status: 'delivered', lastStatus: 200, lastAnswer: '200 OK', deliveredAt: now }, now)).toBe(true);
      // A delivered one is never queued again.
      expect(await requeueDelivery(database.db, hook.id, mine[0].id, now)).toBe(false);
    });

    test('when a token is used, then it is found by its hash, its per-minute count stops at the limit across callers, and revoking works once', async () => {
      const id = await insertToken(database.db, database.dialect, { personId: f.requester, name: 'Contract', tokenHash: 'c'.repeat(64), hint: 'dsk_cccc', scope: 'read', role: 'requester', at: at(1), expiresAt: at(100_000) });
      expect(await findTokenByHash(database.db, 'c'.repeat(64))).toMatchObject({ id, login: 'CORP\\Alice', scope: 'read', role: 'requester' });
      const slots = await Promise.all(Array.from({ length: 5 }, () => database.write((trx) => takeRateSlots(trx, id, 1000, 1, 3, at(2)))));
      expect(slots.filter(Boolean)).toHaveLength(3);
      expect(await takeRateSlots(database.db, id, 1001, 2, 3, at(3))).toBe(true);
      expect(await takeRateSlots(database.db, id, 1001, 2, 3, at(3))).toBe(false);
      expect(await takeRateSlots(database.db, id, 1001, 1, 3, at(3))).toBe(true);
      expect(await revokeToken(database.db, id, f.agent, at(4), f.other)).toBe(false);
      expect(await revokeToken(database.db, id, f.agent, at(4))).toBe(true);
      expect(await revokeToken(database.db, id, f.agent, at(5))).toBe(false);
    });
    test('when teams are added, listed by login and changed, then names, members and versions behave on this engine', async () => {
      const estates = await database.write((trx) => insertTeam(trx, database.dialect, { name: 'Facilities', description: 'Desks and keys', directoryGroup: 'CORP\\Facilities Team', active: true }, at(40)));
      // More members than one statement's parameters allow.
      const members = Array.from({ length: 700 }, (_, i) => ({ login: `CORP\\member${i}`, key: `corp\\member${i}` }));
      await database.write((trx) => replaceTeamMembers(trx, estates, members));
      expect(await listTeamMembers(database.db, [estates])).toHaveLength(700);
      expect(await teamsListingLogin(database.db, 'corp\\member699')).toEqual([estates]);
      expect(await findTeamByName(database.db, 'FACILITIES')).toEqual({ id: estates, name: 'Facilities' });
      expect(await database.write((trx) => updateTeamAtVersion(trx, estates, 1, { name: 'Estates', description: null, directoryGroup: null, active: false }, at(41)))).toBe(true);
      expect(await database.write((trx) => updateTeamAtVersion(trx, estates, 1, { name: 'Lost', description: null, directoryGroup: null, active: true }, at(42)))).toBe(false);
      expect(await getTeam(database.db, estates)).toMatchObject({ name: 'Estates', active: 0, version: 2, directory_group: null });
      expect((await listTeams(database.db, { activeOnly: true })).map((t) => t.id)).not.toContain(estates);
      await database.write((trx) => replaceTeamMembers(trx, estates, members.slice(0, 2)));
      expect((await listTeamMembers(database.db, [estates])).map((m) => m.login_key)).toEqual(['corp\\member0', 'corp\\member1']);
      // A retired team takes no new tickets.
      await database.db.updateTable('categories').set({ default_team_id: estates }).where('id', '=', f.printing).execute();
      expect(await categoryDefaultTeam(database.db, f.printing)).toBeNull();
      await database.write((trx) => updateTeamAtVersion(trx, estates, 2, { name: 'Estates', description: null, directoryGroup: null, active: true }, at(43)));
      expect(await categoryDefaultTeam(database.db, f.printing)).toBe(estates);
      await database.db.updateTable('categories').set({ default_team_id: null }).where('id', '=', f.printing).execute();
    });

    test('when service levels are saved at a version, then a stale save changes nothing and targets come back as written', async () => {
      const s = await getSlaSettings(database.db);
      const targets = await listTargets(database.db);
      expect(await database.write((trx) => updateSlaSettingsAtVersion(trx, s.id, s.version + 5, { calendar: s.calendar, atRiskPercent: 10, by: null }, at(50)))).toBe(false);
      expect(await database.write((trx) => updateSlaSettingsAtVersion(trx, s.id, s.version, { calendar: s.calendar, atRiskPercent: 25, by: f.agent }, at(50)))).toBe(true);
      await database.write((trx) => replaceTargets(trx, [...targets, { priority: 3, category_id: f.hardware, response_minutes: 30, resolution_minutes: null }]));
      expect(await listTargets(database.db)).toEqual(expect.arrayContaining([{ priority: 3, category_id: f.hardware, response_minutes: 30, resolution_minutes: null }]));
      await database.write((trx) => replaceTargets(trx, targets));
      expect(await listTargets(database.db)).toEqual(targets);
    });

    test('when several writers add to one new counter at once, then none of their additions is lost', async () => {
      await Promise.all(Array.from({ length: 8 }, () => database.write((trx) => addToCounters(trx, 'ticket_daily', { day: '1999-12-31' }, { raised: 1, resolved: 2 }))));
      expect((await listDays(database.db, '1999-12-31'))[0]).toEqual({ day: '1999-12-31', raised: 8, resolved: 16 });
      await database.db.deleteFrom('ticket_daily').where('day', '=', '1999-12-31').execute();
    });

    test('when clocks pass their due instants, then each miss is recorded once, and settling a ticket again changes nothing', async () => {
      const overdue = await listOverdueClocks(database.db, database.dialect, '2030-01-01T00:00:00.000Z', 5);
      expect(overdue.length).toBeGreaterThan(0);
      expect(overdue.map((c) => toDate(c.due_at)!.getTime())).toEqual([...overdue.map((c) => toDate(c.due_at)!.getTime())].sort((a, b) => a - b));
      const recorded = await recordBreaches(database, new Date(Date.now() + 365 * 86_400_000), 50);
      expect(recorded).toBeGreaterThan(0);
      const policy = await loadPolicy(database.db);
      const sample = await paged(database.db.selectFrom('tickets').select(['id', 'version', 'status', 'priority', 'category_id', 'requester_id', 'created_at']).orderBy('id', 'desc'), database.dialect, 40, 0).execute();
      for (const t of sample) {
        const before = await listClocks(database.db, t.id);
        await database.write((trx) => settleClocks(trx, policy, { id: t.id, version: t.version, status: t.status, priority: t.priority, categoryId: t.category_id, requesterId: t.requester_id, createdAt: toDate(t.created_at)!.toISOString() }, new Date().toISOString(), {}));
        const after = await listClocks(database.db, t.id);
        const norm = (cs: typeof before) => cs.map((c) => ({ ...c, due_at: toDate(c.due_at)?.toISOString() ?? null, warn_at: toDate(c.warn_at)?.toISOString() ?? null, paused_at: toDate(c.paused_at)?.toISOString() ?? null }));
        expect({ id: t.id, clocks: norm(after) }).toEqual({ id: t.id, clocks: norm(before) });
      }
    });

    test('when tickets have been raised, changed, answered, resolved and seeded, then the dashboard\'s running totals equal a count from scratch', async () => {
      await addComment(database, { personId: f.agent, isAgent: true }, f.t.urgent, { body: 'Looking now', internal: undefined }, NO_LISTENER);
      const kept = await keptTotals(database);
      expect(kept).toEqual(await recountTotals(database));
      expect(Object.keys(kept.months).length).toBeGreaterThan(0);
      expect((await listOpenCounts(database.db)).reduce((n, r) => n + r.n, 0)).toBe(await count({ status: 'active' }));
      expect((await listOpenAges(database.db)).reduce((n, r) => n + r.n, 0)).toBe(await count({ status: 'active' }));
      expect((await openTicketsByTeam(database.db)).size).toBeGreaterThan(0);
      expect((await listMonths(database.db, Object.keys(kept.months).map((k) => k.split('|')[0]))).length).toBe(Object.keys(kept.months).length);
    });

    test('when a list is read whole in batches, then it is every page of it in the same order, filters and sorts alike', async () => {
      const teams = await listTeams(database.db, { activeOnly: true });
      const now = new Date().toISOString();
      const lists: TicketQuery[] = [
        { status: 'all', sort: { key: 'updated', desc: true } },
        { status: 'active', sort: { key: 'due', desc: false } },
        { status: 'active', sort: { key: 'due', desc: true }, teamIds: teams.map((x) => x.id) },
        { status: 'all', sort: { key: 'priority', desc: true }, teamIds: null },
        { status: 'active', sort: { key: 'due', desc: false }, sla: { state: 'breached', now } },
        { status: 'active', sort: { key: 'id', desc: false }, sla: { state: 'at-risk', now } },
      ];
      for (const q of lists) {
        const paged: number[] = [];
        for (let offset = 0; ; offset += 50) {
          const page = await listTickets(database.db, database.dialect, q, 50, offset);
          paged.push(...page.map((r) => r.id));
          if (page.length < 50) break;
        }
        const whole: number[] = [];
        for await (const batch of allTickets(database.db, database.dialect, q, 37)) whole.push(...batch.map((r) => r.id));
        expect({ q, ids: whole }).toEqual({ q, ids: paged });
        expect(whole.length).toBe(await countTickets(database.db, database.dialect, q));
      }
    }, 120_000);
  });
}
