import { planRecipients } from '../../../../app/features/mail/outbox.service';
import type { RecordedEvent } from '../../../../app/features/tickets/tickets.queries';

const AT = '2026-03-01T09:00:00.000Z';
const REQUESTER = 1;
const AGENT = 2;
const OTHER_AGENT = 3;
const WATCHER = 4;
const tickets = new Map([[10, { id: 10, title: 'Printer', requester_id: REQUESTER, assignee_id: AGENT }]]);

let nextId = 100;
function ev(kind: RecordedEvent['kind'], actorId: number, extra: Partial<RecordedEvent> = {}): RecordedEvent {
  return { id: nextId++, ticketId: 10, actorId, kind, ticketVersion: 1, at: AT, ...extra };
}

const plan = (events: RecordedEvent[], watchers: number[] = []) =>
  planRecipients(events, tickets, watchers).map((p) => ({ to: p.personId, audience: p.audience, wish: p.wish, kinds: p.events.map((e) => e.kind) }));

describe('who hears of which ticket event', () => {
  test('when a ticket is raised, then its requester gets the acknowledgement and watching agents hear of it, but not the one who raised it', () => {
    expect(plan([ev('created', REQUESTER)], [WATCHER, REQUESTER])).toEqual([
      { to: REQUESTER, audience: 'requester', wish: 'my_tickets', kinds: ['created'] },
      { to: WATCHER, audience: 'agent', wish: 'new_tickets', kinds: ['created'] },
    ]);
    expect(plan([ev('created', WATCHER)], [WATCHER]).map((p) => p.to)).toEqual([REQUESTER]);
  });

  test('when an agent replies and resolves in one go, then the requester gets one mail telling of both', () => {
    expect(plan([ev('comment', AGENT, { body: 'Fixed.' }), ev('status', AGENT, { from: 'open', to: 'resolved' })])).toEqual([
      { to: REQUESTER, audience: 'requester', wish: 'my_tickets', kinds: ['comment', 'status'] },
    ]);
  });

  test('when an agent writes an internal note or changes priority, then nobody hears of it', () => {
    expect(plan([ev('note', AGENT, { body: 'secret' }), ev('priority', AGENT, { from: 'low', to: 'high' }), ev('category', AGENT)])).toEqual([]);
  });

  test('when the requester replies, then the assignee hears of it; when they close it themselves, nobody does', () => {
    expect(plan([ev('comment', REQUESTER, { body: 'Still broken' }), ev('status', REQUESTER, { from: 'pending', to: 'open' })])).toEqual([
      { to: AGENT, audience: 'assignee', wish: 'assigned', kinds: ['comment'] },
    ]);
    expect(plan([ev('status', REQUESTER, { from: 'open', to: 'closed' })])).toEqual([]);
  });

  test('when a ticket is assigned, then the new assignee hears of it unless they took it themselves; reopening or a status other than done says nothing', () => {
    expect(plan([ev('assignee', AGENT, { from: null, to: String(OTHER_AGENT) }), ev('status', AGENT, { from: 'new', to: 'open' })])).toEqual([
      { to: OTHER_AGENT, audience: 'assignee', wish: 'assigned', kinds: ['assignee'] },
    ]);
    expect(plan([ev('assignee', OTHER_AGENT, { from: null, to: String(OTHER_AGENT) })])).toEqual([]);
    expect(plan([ev('status', AGENT, { from: 'resolved', to: 'closed' }), ev('status', AGENT, { from: 'resolved', to: 'open' })])).toEqual([]);
  });

  test('when files come with a new ticket or a reply, then whoever hears of the post hears of them; files alone are told like a reply; an internal note\u2019s files go to nobody', () => {
    expect(plan([ev('created', REQUESTER), ev('attached', REQUESTER, { from: 'photo.jpg', to: '1' })], [WATCHER])).toEqual([
      { to: REQUESTER, audience: 'requester', wish: 'my_tickets', kinds: ['created', 'attached'] },
      { to: WATCHER, audience: 'agent', wish: 'new_tickets', kinds: ['created', 'attached'] },
    ]);
    expect(plan([ev('attached', AGENT, { from: 'fix.ps1', to: '2' })])).toEqual([{ to: REQUESTER, audience: 'requester', wish: 'my_tickets', kinds: ['attached'] }]);
    expect(plan([ev('attached', REQUESTER, { from: 'log.txt', to: '3' })])).toEqual([{ to: AGENT, audience: 'assignee', wish: 'assigned', kinds: ['attached'] }]);
    expect(plan([ev('note', AGENT, { body: 'x' }), ev('note-attached', AGENT, { from: 'secret.txt', to: '4' })])).toEqual([]);
  });

  test('when a known issue update is copied into the ticket, then its requester hears of it as of a reply', () => {
    expect(plan([ev('issue-update', OTHER_AGENT, { body: 'Fixed tonight', to: '5' }), ev('issue-linked', OTHER_AGENT, { to: '5' })])).toEqual([
      { to: REQUESTER, audience: 'requester', wish: 'my_tickets', kinds: ['issue-update'] },
    ]);
  });
});
