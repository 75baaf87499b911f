import { sql } from 'kysely';
import type { Database } from '../../app/db/database';

/**
 * A fingerprint of everything a request could change: row counts, versions, the
 * latest timestamps, the text of categories, saved views and canned replies. Equal fingerprints mean
 * nothing was written.
 */
export async function fingerprint(database: Database): Promise<string> {
  const db = database.db;
  const r = await sql<Record<string, unknown>>`select
      (select count(*) from tickets) as tickets,
      (select coalesce(sum(version), 0) from tickets) as versions,
      (select max(updated_at) from tickets) as updated,
      (select count(*) from ticket_events) as events,
      (select count(*) from attachments) as attachments,
      (select count(*) from attachments where removed_at is not null) as removed_attachments,
      (select count(*) from people) as people,
      (select coalesce(sum(is_agent), 0) from people) as agents,
      (select count(*) from categories) as categories,
      (select count(*) from known_issues) as known_issues,
      (select coalesce(sum(version), 0) from known_issues) as known_issue_versions,
      (select count(*) from known_issue_events) as known_issue_events,
      (select count(*) from known_issue_tickets) as known_issue_links,
      (select count(*) from mail_outbox) as outbox,
      (select group_concat(person_id || ':' || my_tickets || assigned || new_tickets, '|') from mail_preferences) as mail_preferences,
      (select count(*) from api_tokens) as api_tokens,
      (select count(*) from api_tokens where revoked_at is not null) as revoked_tokens,
      (select count(*) from webhooks) as webhooks,
      (select coalesce(sum(version), 0) || ':' || coalesce(group_concat(secret, '|'), '') from webhooks) as webhook_state,
      (select count(*) from webhook_deliveries) as webhook_deliveries,
      (select count(*) from webhook_deliveries where status = 'queued') as queued_deliveries,
      (select group_concat(name || ':' || coalesce(description, '') || ':' || sort_order || ':' || active || ':' || coalesce(default_team_id, 0), '|') from categories) as category_text,
      (select group_concat(owner_id || ':' || name || ':' || query || ':' || shared, '|') from saved_views) as views,
      (select group_concat(title || ':' || body || ':' || active, '|') from canned_responses) as responses,
      (select count(*) from teams) as teams,
      (select coalesce(sum(version), 0) from teams) as team_versions,
      (select count(*) from team_members) as team_members,
      (select coalesce(sum(version), 0) from sla_settings) as sla_settings_versions,
      (select count(*) from sla_targets) as sla_targets,
      (select count(*) from sla_clocks) as sla_clocks,
      (select count(*) from sla_clocks where outcome is not null) as sla_outcomes`.execute(db);

  return JSON.stringify(r.rows[0]);
}
