import type { Database } from '../../db/database';
import { nowIso } from '../../db/values';
import { cleanText, oneLine, type FieldErrors } from '../shared/form-values';
import { getResponse, insertResponse, listResponses, updateResponse, type ResponseRow } from './responses.queries';

export const RESPONSE_LIMITS = { title: 120, body: 5000 } as const;

/** The placeholders a canned reply may use, and what each becomes. */
export const PLACEHOLDERS = {
  'requester.firstName': 'the requester’s first name',
  'requester.name': 'the requester’s full name',
  'ticket.id': 'the ticket’s number',
  'ticket.title': 'the ticket’s summary',
  'agent.name': 'your full name',
  'agent.firstName': 'your first name',
} as const;

export type Placeholder = keyof typeof PLACEHOLDERS;
export type PlaceholderValues = Record<Placeholder, string>;

const PLACEHOLDER_RE = /\{\{\s*([A-Za-z.]+)\s*\}\}/g;

export interface ResponseForm {
  title: string;
  body: string;
  active: boolean;
}

export function readResponseForm(body: Record<string, unknown>): ResponseForm {
  return { title: oneLine(body.title), body: cleanText(body.body), active: body.active === 'on' || body.active === 'true' };
}

function check(form: ResponseForm): FieldErrors {
  const errors: FieldErrors = {};
  if (!form.title) errors.title = 'Give the reply a title agents will recognise';
  else if (form.title.length > RESPONSE_LIMITS.title) errors.title = `Keep the title to ${RESPONSE_LIMITS.title} characters or fewer`;
  if (!form.body) errors.body = 'Write the text of the reply';
  else if (form.body.length > RESPONSE_LIMITS.body) errors.body = `Keep the text to ${RESPONSE_LIMITS.body.toLocaleString('en-GB')} characters or fewer (it is ${form.body.length.toLocaleString('en-GB')})`;
  else {
    const unknown = [...form.body.matchAll(PLACEHOLDER_RE)].map((m) => m[1]).filter((p) => !Object.hasOwn(PLACEHOLDERS, p));
    if (unknown.length) errors.body = `Unknown placeholder ${[...new Set(unknown)].map((p) => `{{${p}}}`).join(', ')}; use ${Object.keys(PLACEHOLDERS).map((p) => `{{${p}}}`).join(', ')}`;
  }
  return errors;
}

export function responsesFor(database: Database, opts: { activeOnly: boolean }): Promise<ResponseRow[]> {
  return listResponses(database.db, opts);
}

export function responseById(database: Database, id: number): Promise<ResponseRow | undefined> {
  return getResponse(database.db, id);
}

export async function addResponse(database: Database, form: ResponseForm): Promise<FieldErrors> {
  const errors = check(form);
  if (Object.keys(errors).length) return errors;
  await insertResponse(database.db, { ...form, at: nowIso() });
  return {};
}

/** null: no such reply. */
export async function changeResponse(database: Database, id: number, form: ResponseForm): Promise<FieldErrors | null> {
  const errors = check(form);
  if (Object.keys(errors).length) return errors;
  return (await updateResponse(database.db, id, { ...form, at: nowIso() })) ? {} : null;
}

/** The first word of a name, or the account part of a login when there is no name. */
export function firstName(name: string | null | undefined, login: string | null | undefined): string {
  const n = (name ?? '').trim();
  if (n) return n.split(/\s+/)[0];
  const l = login ?? '';
  return l.slice(l.lastIndexOf('\\') + 1).split('@')[0];
}

/**
 * The reply's text with its placeholders filled in. The result is plain text: pages show
 * it escaped (in the reply box, or inserted as a textarea's value), never as HTML.
 */
export function fillPlaceholders(body: string, values: PlaceholderValues): string {
  // Own keys only: `{{constructor}}` must stay text, not become Object's source.
  return body.replace(PLACEHOLDER_RE, (whole, name: string) => (Object.hasOwn(values, name) ? values[name as Placeholder] : whole));
}

/** The placeholder values for a ticket, written by this agent. */
export function placeholderValues(
  t: { id: number; title: string; requester_name: string | null; requester_login: string },
  agent: { displayName?: string; login?: string },
): PlaceholderValues {
  return {
    'requester.firstName': firstName(t.requester_name, t.requester_login),
    'requester.name': t.requester_name || t.requester_login,
    'ticket.id': String(t.id),
    'ticket.title': t.title,
    'agent.name': agent.displayName || agent.login || 'The service desk',
    'agent.firstName': firstName(agent.displayName, agent.login) || 'The service desk',
  };
}
