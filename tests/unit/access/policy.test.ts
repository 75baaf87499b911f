import { createPolicy, type Action, type Viewer } from '../../../app/access/policy';
import { resolveRoles } from '../../../app/access/roles';

const guest: Viewer = { anonymous: true, personId: null, roles: new Set() };
const alice: Viewer = { anonymous: false, personId: 1, roles: new Set(['requester']) };
const bob: Viewer = { anonymous: false, personId: 2, roles: new Set(['requester']) };
const agent: Viewer = { anonymous: false, personId: 3, roles: new Set(['requester', 'agent']) };
const admin: Viewer = { anonymous: false, personId: 4, roles: new Set(['requester', 'agent', 'admin']) };
const alicesTicket = { requesterId: 1, status: 'open' as const };

describe('the policy', () => {
  const browse = createPolicy({ anonymous: 'browse' });
  const none = createPolicy({ anonymous: 'none' });

  const everyAction: Action[] = [
    'tickets.list', 'tickets.list-all', 'ticket.view', 'ticket.view-internal', 'ticket.view-contact', 'ticket.create', 'ticket.comment', 'ticket.note', 'ticket.edit',
    'ticket.close', 'ticket.reopen', 'known-issues.view', 'known-issues.manage', 'known-issues.see-tickets', 'dashboard.view', 'me.view', 'health.detail', 'admin.view',
  ];
  const allowedFor = (policy: typeof browse, v: Viewer) => everyAction.filter((a) => policy.can(v, a, alicesTicket));

  test('when guests may browse, then they read the known issues and nothing of any ticket', () => {
    expect(allowedFor(browse, guest)).toEqual(['known-issues.view', 'me.view']);
  });

  test('when guests may not browse, then they see neither tickets nor known issues', () => {
    expect(allowedFor(none, guest)).toEqual(['me.view']);
  });

  test('when a requester asks, then they read the known issues and work only their own tickets', () => {
    expect(allowedFor(browse, alice)).toEqual(['tickets.list', 'ticket.view', 'ticket.view-contact', 'ticket.create', 'ticket.comment', 'ticket.close', 'known-issues.view', 'me.view']);
    expect(allowedFor(none, alice)).toEqual(allowedFor(browse, alice));
    expect(allowedFor(browse, bob)).toEqual(['tickets.list', 'ticket.create', 'known-issues.view', 'me.view']);
  });

  test('when agents and admins ask, then they manage known issues and see the dashboard; only admins see health details', () => {
    expect(browse.can(agent, 'known-issues.manage')).toBe(true);
    expect(browse.can(agent, 'dashboard.view')).toBe(true);
    expect(browse.can(admin, 'dashboard.view')).toBe(true);
    expect(browse.can(agent, 'known-issues.see-tickets')).toBe(true);
    expect(browse.can(agent, 'health.detail')).toBe(false);
    expect(browse.can(admin, 'health.detail')).toBe(true);
  });

  test('when a requester looks at tickets, then only their own are theirs to see, reply to and close', () => {
    expect(browse.can(alice, 'ticket.view', alicesTicket)).toBe(true);
    expect(browse.can(alice, 'ticket.comment', alicesTicket)).toBe(true);
    expect(browse.can(alice, 'ticket.close', alicesTicket)).toBe(true);
    expect(browse.can(bob, 'ticket.view', alicesTicket)).toBe(false);
    expect(browse.can(bob, 'ticket.comment', alicesTicket)).toBe(false);
    expect(browse.can(alice, 'ticket.edit', alicesTicket)).toBe(false);
    expect(browse.can(alice, 'ticket.note', alicesTicket)).toBe(false);
    expect(browse.can(alice, 'tickets.list-all')).toBe(false);
  });

  test('when a ticket is closed, then it can be reopened but not closed again', () => {
    const closed = { requesterId: 1, status: 'closed' as const };
    expect(browse.can(alice, 'ticket.close', closed)).toBe(false);
    expect(browse.can(alice, 'ticket.reopen', closed)).toBe(true);
    expect(browse.can(alice, 'ticket.reopen', alicesTicket)).toBe(false);
  });

  test('when an agent or admin acts, then they may work any ticket; only admins administer', () => {
    for (const v of [agent, admin]) {
      for (const a of ['ticket.view', 'ticket.view-internal', 'ticket.note', 'ticket.edit', 'ticket.comment'] as Action[]) expect(browse.can(v, a, alicesTicket)).toBe(true);
      expect(browse.can(v, 'tickets.list-all')).toBe(true);
    }
    expect(browse.can(agent, 'admin.view')).toBe(false);
    expect(browse.can(admin, 'admin.view')).toBe(true);
  });

  test('when the workbench is asked for, then agents work the queue, raise tickets for others and use canned replies; only admins share views and manage replies', () => {
    for (const a of ['tickets.bulk', 'views.save', 'people.search', 'ticket.create-for-others', 'responses.use'] as Action[]) {
      expect({ a, alice: browse.can(alice, a), agent: browse.can(agent, a), admin: browse.can(admin, a), guest: browse.can(guest, a) }).toEqual({ a, alice: false, agent: true, admin: true, guest: false });
    }
    for (const a of ['views.share', 'responses.manage'] as Action[]) {
      expect({ a, agent: browse.can(agent, a), admin: browse.can(admin, a) }).toEqual({ a, agent: false, admin: true });
    }
  });

  test('when text is edited, then agents always may, the requester only until someone else has replied, and nobody else', () => {
    const fresh = { ...alicesTicket, othersReplied: false };
    const answered = { ...alicesTicket, othersReplied: true };
    expect(browse.can(alice, 'ticket.edit-text', fresh)).toBe(true);
    expect(browse.can(alice, 'ticket.edit-text', answered)).toBe(false);
    // Not knowing whether anyone replied is treated as "they did".
    expect(browse.can(alice, 'ticket.edit-text', alicesTicket)).toBe(false);
    expect(browse.can(bob, 'ticket.edit-text', fresh)).toBe(false);
    expect(browse.can(guest, 'ticket.edit-text', fresh)).toBe(false);
    expect(browse.can(agent, 'ticket.edit-text', answered)).toBe(true);
  });

  test('when files are asked for, then requesters have their own tickets\' files, agents and admins every file and removal, and guests never, in either mode', () => {
    for (const p of [browse, none]) {
      expect(p.can(guest, 'files.view')).toBe(false);
      expect(p.can(guest, 'ticket.files', alicesTicket)).toBe(false);
    }
    expect(browse.can(alice, 'files.view')).toBe(true);
    expect(browse.can(alice, 'ticket.files', alicesTicket)).toBe(true);
    expect(browse.can(bob, 'ticket.files', alicesTicket)).toBe(false);
    expect(browse.can(alice, 'ticket.remove-file', alicesTicket)).toBe(false);
    for (const v of [agent, admin]) {
      expect(browse.can(v, 'ticket.files', alicesTicket)).toBe(true);
      expect(browse.can(v, 'ticket.remove-file', alicesTicket)).toBe(true);
    }
  });

  test('when a ticket action is asked without a ticket, then it is refused rather than guessed', () => {
    expect(browse.can(admin, 'ticket.edit')).toBe(false);
  });
});

describe('resolveRoles', () => {
  const config = { agents: ['Helpdesk Agents', 'CORP\\carol'], admins: ['CN=Deskside Admins,OU=Groups,DC=corp,DC=example', 'LAB\\Ops'] };

  test('when nobody is named, then a signed-in person is a requester only', () => {
    expect(resolveRoles({ key: 'corp\\alice', groups: [] }, config).roles).toEqual(['requester']);
  });

  test('when the login is listed, then the role comes from the login (case-insensitively)', () => {
    const r = resolveRoles({ key: 'corp\\carol', groups: [] }, config);
    expect(r.roles).toEqual(['requester', 'agent']);
    expect(r.grants[1]).toMatchObject({ role: 'agent', setting: 'DESKSIDE_AGENTS', entry: 'CORP\\carol', via: 'login' });
  });

  test('when a group matches by name, DN or DOMAIN\\name, then the grant says which', () => {
    const r = resolveRoles(
      {
        key: 'corp\\dan',
        groups: [
          { name: 'helpdesk agents', domain: 'CORP', dn: 'CN=helpdesk agents,OU=Groups,DC=corp,DC=example', nested: true },
          { name: 'Deskside Admins', domain: 'CORP', dn: 'CN=Deskside Admins, OU=Groups, DC=corp, DC=example' },
        ],
      },
      config,
    );
    expect(r.roles).toEqual(['requester', 'agent', 'admin']);
    expect(r.grants.map((g) => [g.role, g.via, g.group])).toEqual([
      ['requester', undefined, undefined],
      ['agent', 'group', 'helpdesk agents'],
      ['admin', 'group', 'Deskside Admins'],
    ]);
  });

  test('when a DOMAIN\\group entry names another domain, then a same-named group elsewhere does not match', () => {
    expect(resolveRoles({ key: 'corp\\x', groups: [{ name: 'Ops', domain: 'CORP' }] }, config).roles).toEqual(['requester']);
    expect(resolveRoles({ key: 'lab\\x', groups: [{ name: 'Ops', domain: 'LAB' }] }, config).roles).toEqual(['requester', 'agent', 'admin']);
  });
});

describe('the policy for API tokens and webhooks', () => {
  const policy = createPolicy({ anonymous: 'browse' });

  test('when anyone signed in asks, then they manage their own tokens; guests have none', () => {
    expect(policy.can(alice, 'api-tokens.own')).toBe(true);
    expect(policy.can(agent, 'api-tokens.own')).toBe(true);
    expect(policy.can(guest, 'api-tokens.own')).toBe(false);
  });

  test('when tokens of everyone and webhooks are asked for, then only admins may', () => {
    for (const action of ['api-tokens.manage', 'webhooks.manage'] as const) {
      expect([guest, alice, agent, admin].map((v) => policy.can(v, action))).toEqual([false, false, false, true]);
    }
  });
});
