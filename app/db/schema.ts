import type { ColumnType, Generated } from 'kysely';

/**
 * Table shapes as the query builder sees them. Timestamps are ISO-8601 UTC strings on
 * the way in; reading them back goes through `toDate` (db/values.ts), since SQLite
 * returns the string and SQL Server a Date.
 */
type Timestamp = ColumnType<string | Date, string, string>;

export interface PeopleTable {
  id: Generated<number>;
  login: string;
  login_key: string;
  display_name: string | null;
  email: string | null;
  department: string | null;
  title: string | null;
  /** 1 once Deskside has seen this person with the agent role: the assignee list. */
  is_agent: number;
  created_at: Timestamp;
  updated_at: Timestamp;
}

export interface SessionsTable {
  id: string;
  person_id: number;
  auth_type: string;
  source: string;
  created_at: Timestamp;
  expires_at: Timestamp;
}

export interface CategoriesTable {
  id: Generated<number>;
  name: string;
  description: string | null;
  sort_order: number;
  active: number;
  /** New tickets in this category go to this team. */
  default_team_id: number | null;
  created_at: Timestamp;
}

export interface TicketsTable {
  id: Generated<number>;
  title: string;
  description: string;
  status: string;
  /** 1 while new/open/pending, 0 once resolved/closed: lets the queue use one index. */
  active: number;
  /** 1 low, 2 normal, 3 high, 4 urgent: numeric so "most urgent first" can use an index. */
  priority: number;
  category_id: number;
  requester_id: number;
  assignee_id: number | null;
  created_at: Timestamp;
  updated_at: Timestamp;
  resolved_at: Timestamp | null;
  version: number;
  /** How the ticket reached the desk: web, phone, walk-in or email (migration 007). */
  channel: ColumnType<string, string | undefined, string>;
  team_id: number | null;
  /** The next due instant of the ticket's running service-level clocks, or NO_DUE. */
  sla_due_at: ColumnType<string | Date, string | undefined, string>;
  /** At risk from here (a share of the target left); null without a due instant. */
  sla_warn_at: Timestamp | null;
  /** Which target sla_due_at is for, or `paused` while every running clock waits on the requester. */
  sla_due_kind: 'response' | 'resolution' | 'paused' | null;
}

export interface TicketEventsTable {
  id: Generated<number>;
  ticket_id: number;
  actor_id: number | null;
  kind: string;
  body: string | null;
  from_value: string | null;
  to_value: string | null;
  /** The ticket's version after this event; a 409 shows events newer than the form's. */
  ticket_version: number;
  created_at: Timestamp;
}

export interface SignInAttemptsTable {
  id: Generated<number>;
  subject: string;
  attempted_at: Timestamp;
}

export type KnownIssueStatus = 'investigating' | 'identified' | 'monitoring' | 'resolved';

export interface KnownIssuesTable {
  id: Generated<number>;
  title: string;
  summary: string;
  status: KnownIssueStatus;
  /** 1 until resolved. */
  active: number;
  category_id: number | null;
  created_by: number;
  created_at: Timestamp;
  updated_at: Timestamp;
  resolved_at: Timestamp | null;
  version: number;
}

export interface KnownIssueEventsTable {
  id: Generated<number>;
  known_issue_id: number;
  actor_id: number | null;
  /** published, status, edited, update (public); ticket-linked (agents only). */
  kind: string;
  body: string | null;
  from_value: string | null;
  to_value: string | null;
  /** 1 when guests and requesters may read it. */
  public: number;
  created_at: Timestamp;
}

export interface KnownIssueTicketsTable {
  known_issue_id: number;
  ticket_id: number;
  linked_by: number | null;
  linked_at: Timestamp;
}

export type MailOutboxStatus = 'queued' | 'sent' | 'failed';
export type MailAudience = 'requester' | 'assignee' | 'agent';

/** A notification waiting to be sent, being sent (leased), sent or given up on (migration 006). */
export interface MailOutboxTable {
  id: Generated<number>;
  dedupe_key: string;
  kind: 'ticket' | 'test';
  audience: MailAudience | null;
  ticket_id: number | null;
  /** Comma-separated event ids, oldest first. */
  event_ids: string | null;
  person_id: number | null;
  to_address: string;
  subject: string;
  message_id: string;
  /** Space-separated Message-IDs this mail answers. */
  also_references: string | null;
  status: MailOutboxStatus;
  attempts: number;
  next_attempt_at: Timestamp;
  lease_owner: string | null;
  lease_expires_at: Timestamp | null;
  last_answer: string | null;
  created_at: Timestamp;
  updated_at: Timestamp;
  sent_at: Timestamp | null;
}

export type MailInboundOutcome = 'ticket' | 'comment' | 'ignored' | 'rejected' | 'rate-limited' | 'failed';

/** A message read from the desk's mailbox and what became of it. */
export interface MailInboundTable {
  id: Generated<number>;
  message_key: string;
  message_id: string | null;
  from_address: string | null;
  subject: string | null;
  outcome: MailInboundOutcome;
  reason: string | null;
  ticket_id: number | null;
  event_id: number | null;
  person_id: number | null;
  /** The whole text of a reply whose quoted part was cut from the comment. */
  original: string | null;
  received_at: Timestamp;
}

export interface MailPreferencesTable {
  person_id: number;
  my_tickets: number;
  assigned: number;
  new_tickets: number;
  updated_at: Timestamp;
}

export interface MailSenderArrivalsTable {
  id: Generated<number>;
  sender: string;
  arrived_at: Timestamp;
}

export interface AttachmentsTable {
  id: Generated<number>;
  ticket_id: number;
  sha256: string;
  /** bigint: SQL Server returns it as a string; read it through Number(). */
  size: ColumnType<number | string, number, number>;
  name: string;
  original_name: string;
  content_type: string;
  /** 1: came with an internal note, agents only. */
  internal: number;
  uploaded_by: number;
  created_at: Timestamp;
  removed_at: Timestamp | null;
  removed_by: number | null;
}

export interface WorkerLeasesTable {
  name: string;
  holder: string;
  expires_at: Timestamp;
}

// attachment_blob_heads and attachment_blobs (migration 005) belong to the database blob
// store, which types them itself (storage/database-blob-store.ts BlobTables).
export type ApiTokenScope = 'read' | 'read-write';
/** The most a token may do for its person: their own tickets, or the queue too. */
export type ApiTokenRole = 'requester' | 'agent';

export interface ApiTokensTable {
  id: Generated<number>;
  person_id: number;
  name: string;
  /** SHA-256 of the token, hex: the token itself is never stored. */
  token_hash: string;
  hint: string;
  scope: ApiTokenScope;
  role: ApiTokenRole;
  created_at: Timestamp;
  expires_at: Timestamp;
  last_used_at: Timestamp | null;
  revoked_at: Timestamp | null;
  revoked_by: number | null;
  rate_window: Generated<number>;
  rate_count: Generated<number>;
}

export type WebhookFormat = 'json' | 'teams';

export interface WebhooksTable {
  id: Generated<number>;
  name: string;
  url: string;
  secret: string;
  /** Comma-separated webhook events. */
  events: string;
  /** Comma-separated priority names; null: every priority. */
  priorities: string | null;
  /** Comma-separated team ids; null: every team. */
  teams: string | null;
  format: WebhookFormat;
  internal: number;
  active: number;
  link_base: string;
  created_by: number | null;
  created_at: Timestamp;
  updated_at: Timestamp;
  version: Generated<number>;
}

export type WebhookDeliveryStatus = 'queued' | 'delivered' | 'failed';

export interface WebhookDeliveriesTable {
  id: Generated<number>;
  webhook_id: number;
  delivery_key: string;
  event: string;
  ticket_id: number | null;
  body: string;
  status: WebhookDeliveryStatus;
  attempts: Generated<number>;
  next_attempt_at: Timestamp;
  lease_owner: string | null;
  lease_expires_at: Timestamp | null;
  last_status: number | null;
  last_answer: string | null;
  created_at: Timestamp;
  updated_at: Timestamp;
  delivered_at: Timestamp | null;
}

/** An agent's named queue view: filters and sort as the list address's query string. */
export interface SavedViewsTable {
  id: Generated<number>;
  owner_id: number;
  name: string;
  query: string;
  /** 1: a tab for every agent (only admins share). */
  shared: number;
  created_at: Timestamp;
}

/** A reply agents insert and adapt; `{{placeholders}}` are filled in per ticket. */
export interface CannedResponsesTable {
  id: Generated<number>;
  title: string;
  body: string;
  active: number;
  created_at: Timestamp;
  updated_at: Timestamp;
}

export interface TeamsTable {
  id: Generated<number>;
  name: string;
  description: string | null;
  /** A group name or DN whose members (nested included) are the team. */
  directory_group: string | null;
  active: number;
  version: number;
  created_at: Timestamp;
  updated_at: Timestamp;
}

export interface TeamMembersTable {
  team_id: number;
  login_key: string;
  login: string;
}

export interface SlaSettingsTable {
  id: Generated<number>;
  /** CalendarInput as JSON. */
  calendar: string;
  at_risk_percent: number;
  version: number;
  updated_by: number | null;
  updated_at: Timestamp;
}

export interface SlaTargetsTable {
  id: Generated<number>;
  priority: number;
  category_id: number | null;
  response_minutes: number | null;
  resolution_minutes: number | null;
}

export type SlaKind = 'response' | 'resolution';

export interface SlaClocksTable {
  ticket_id: number;
  kind: SlaKind;
  target_minutes: number;
  started_at: Timestamp;
  due_at: Timestamp | null;
  warn_at: Timestamp | null;
  paused_at: Timestamp | null;
  stopped_at: Timestamp | null;
  outcome: 'met' | 'breached' | null;
  outcome_at: Timestamp | null;
  watch: number;
}

export interface TicketDailyTable {
  day: string;
  raised: number;
  resolved: number;
}

export interface TicketOpenAgesTable {
  /** The UTC date open tickets were raised on. */
  day: string;
  n: number;
}

export interface TicketOpenCountsTable {
  team_id: number;
  assignee_id: number;
  priority: number;
  n: number;
}

export interface SlaMonthlyTable {
  month: string;
  kind: SlaKind;
  met: number;
  breached: number;
}

export interface DB {
  people: PeopleTable;
  sign_in_attempts: SignInAttemptsTable;
  sessions: SessionsTable;
  categories: CategoriesTable;
  tickets: TicketsTable;
  ticket_events: TicketEventsTable;
  known_issues: KnownIssuesTable;
  known_issue_events: KnownIssueEventsTable;
  known_issue_tickets: KnownIssueTicketsTable;
  mail_outbox: MailOutboxTable;
  mail_inbound: MailInboundTable;
  mail_preferences: MailPreferencesTable;
  mail_sender_arrivals: MailSenderArrivalsTable;
  attachments: AttachmentsTable;
  worker_leases: WorkerLeasesTable;
  api_tokens: ApiTokensTable;
  webhooks: WebhooksTable;
  webhook_deliveries: WebhookDeliveriesTable;
  saved_views: SavedViewsTable;
  canned_responses: CannedResponsesTable;
  teams: TeamsTable;
  team_members: TeamMembersTable;
  sla_settings: SlaSettingsTable;
  sla_targets: SlaTargetsTable;
  sla_clocks: SlaClocksTable;
  ticket_daily: TicketDailyTable;
  ticket_open_ages: TicketOpenAgesTable;
  ticket_open_counts: TicketOpenCountsTable;
  sla_monthly: SlaMonthlyTable;
}
