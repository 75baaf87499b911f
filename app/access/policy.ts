import type { AnonymousMode } from '../config/schema';
import type { Role } from './roles';

export type TicketStatus = 'new' | 'open' | 'pending' | 'resolved' | 'closed';

/** Who is asking, as the policy needs to know them. */
export interface Viewer {
  anonymous: boolean;
  personId: number | null;
  roles: ReadonlySet<Role>;
}

/** The facts about a ticket that decide access. */
export interface TicketFacts {
  requesterId: number;
  status: TicketStatus;
  /** Someone other than the requester has replied; after that the requester's text is fixed. Unknown: treated as yes. */
  othersReplied?: boolean;
}

export type Action =
  | 'tickets.list' // see a ticket list at all (signed-in people only)
  | 'tickets.list-all' // see everyone's tickets, not just one's own
  | 'ticket.view'
  | 'ticket.view-internal' // internal notes
  | 'ticket.view-contact' // the requester's e-mail, department
  | 'ticket.create'
  | 'ticket.comment'
  | 'ticket.note' // internal note
  | 'ticket.edit' // status, priority, category, assignee
  | 'ticket.close' // requester closing their own ticket
  | 'ticket.reopen'
  | 'ticket.edit-text' // title and description
  | 'ticket.create-for-others' // choose the requester and the channel
  | 'tickets.bulk' // change many tickets from the queue
  | 'views.save' // saved queue views of one's own
  | 'views.share' // saved views every agent sees
  | 'people.search'
  | 'responses.use' // insert canned replies
  | 'responses.manage'
  | 'known-issues.view' // the known issues the desk publishes, and their public updates
  | 'known-issues.manage' // publish, update, resolve known issues; link tickets to them
  | 'known-issues.see-tickets' // which tickets are linked to a known issue
  | 'files.view' // files attached to tickets, at all (signed-in people; which ones: ticket.files)
  | 'ticket.files' // this ticket's files (internal notes' files also need ticket.view-internal)
  | 'ticket.remove-file'
  | 'dashboard.view' // the desk's figures: volumes, backlog, targets met, load
  | 'me.view'
  | 'me.notifications' // choose which e-mails one gets (signed-in people only)
  | 'api-tokens.own' // create, see and revoke one's own API tokens
  | 'api-tokens.manage' // see and revoke everyone's API tokens
  | 'webhooks.manage'
  | 'health.detail' // /healthz with process, identity and error details
  | 'admin.view';

const TICKET_ACTIONS: ReadonlySet<Action> = new Set<Action>([
  'ticket.view',
  'ticket.view-internal',
  'ticket.view-contact',
  'ticket.comment',
  'ticket.note',
  'ticket.edit',
  'ticket.close',
  'ticket.reopen',
  'ticket.edit-text',
  'ticket.files',
  'ticket.remove-file',
]);

export interface Policy {
  can(viewer: Viewer, action: Action, ticket?: TicketFacts): boolean;
}

/**
 * The one policy. Routes enforce it and views ask it, so a control is never shown that
 * the route would refuse, and never refused after being shown.
 *
 * Tickets are private to their requester and the agents: a guest never sees one, in any
 * form, whatever DESKSIDE_ANONYMOUS says. What everybody may read is what the desk
 * publishes: with `browse`, guests see the known issues and their public updates (and
 * the home and help pages, which need no permission); with `none`, only those two pages.
 */
export function createPolicy(opts: { anonymous: AnonymousMode }): Policy {
  const browse = opts.anonymous === 'browse';
  const isAgent = (v: Viewer) => v.roles.has('agent') || v.roles.has('admin');
  const owns = (v: Viewer, t: TicketFacts) => !v.anonymous && v.personId !== null && v.personId === t.requesterId;

  function can(viewer: Viewer, action: Action, ticket?: TicketFacts): boolean {
    if (TICKET_ACTIONS.has(action) && !ticket) return false;
    const t = ticket as TicketFacts;
    if (viewer.anonymous) {
      switch (action) {
        case 'me.view':
          return true;
        case 'known-issues.view':
          return browse;
        default:
          return false;
      }
    }
    const agent = isAgent(viewer);
    switch (action) {
      case 'me.view':
      case 'tickets.list':
      case 'ticket.create':
      case 'known-issues.view':
      case 'me.notifications':
      case 'files.view':
      case 'api-tokens.own':
        return true;
      case 'tickets.list-all':
      case 'dashboard.view':
      case 'known-issues.manage':
      case 'known-issues.see-tickets':
        return agent;
      case 'ticket.view':
      case 'ticket.view-contact':
      case 'ticket.comment':
      case 'ticket.files':
        return agent || owns(viewer, t);
      case 'ticket.view-internal':
      case 'ticket.note':
      case 'ticket.edit':
      case 'ticket.remove-file':
        return agent;
      case 'ticket.close':
        return (agent || owns(viewer, t)) && t.status !== 'closed';
      case 'ticket.reopen':
        return (agent || owns(viewer, t)) && (t.status === 'resolved' || t.status === 'closed');
      case 'ticket.edit-text':
        return agent || (owns(viewer, t) && t.othersReplied === false);
      case 'ticket.create-for-others':
      case 'tickets.bulk':
      case 'views.save':
      case 'people.search':
      case 'responses.use':
        return agent;
      case 'views.share':
      case 'responses.manage':
      case 'admin.view':
      case 'health.detail':
      case 'api-tokens.manage':
      case 'webhooks.manage':
        return viewer.roles.has('admin');
    }
  }

  return { can };
}
