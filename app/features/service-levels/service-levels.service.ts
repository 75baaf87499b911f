import type { Database } from '../../db/database';
import type { SlaKind } from '../../db/schema';
import { toDate } from '../../db/values';
import type { CategoryRow } from '../categories/categories.queries';
import type { FieldErrors } from '../shared/form-values';
import { PRIORITIES, priorityCode, type PriorityName } from '../tickets/ticket-values';
import { MAX_TARGET_MINUTES } from './business-time';
import { parseCalendar, WEEKDAYS, type CalendarInput, type Weekday } from './calendar';
import { pausesOf, storedCalendar, type SlaPolicy } from './clocks';
import { explainClock, formatExplanation, localTimeText } from './explain';
import { getSlaSettings, listClocks, listStatusChanges, listTargets, replaceTargets, updateSlaSettingsAtVersion, type ClockRow, type TargetRow } from './service-levels.queries';

/** Spans of working hours the form offers per day (a morning and an afternoon, say). */
export const SPANS_PER_DAY = 2;
/** Empty exception rows the form offers for adding. */
const BLANK_EXCEPTIONS = 2;

export interface TargetFields {
  response: string;
  resolution: string;
}

export interface ExceptionFields extends TargetFields {
  category: string;
  priority: string;
  remove: boolean;
}

/** The service-levels form as posted; each field's name is its input's name, and its id with dots as dashes. */
export interface ServiceLevelForm {
  version: string;
  timeZone: string;
  /** hours[day][span] */
  hours: Record<Weekday, { start: string; end: string }[]>;
  /** One date per line. */
  holidays: string;
  atRiskPercent: string;
  targets: Record<PriorityName, TargetFields>;
  exceptions: ExceptionFields[];
}

const str = (v: unknown) => (typeof v === 'string' ? v.trim() : '');

/** A field name as an input id: `hours.mon.0.start` → `hours-mon-0-start`. */
export const fieldId = (name: string) => name.replace(/\./g, '-');

export function readServiceLevelForm(body: Record<string, unknown>): ServiceLevelForm {
  const hours = Object.fromEntries(WEEKDAYS.map((d) => [d, Array.from({ length: SPANS_PER_DAY }, (_, i) => ({ start: str(body[`hours.${d}.${i}.start`]), end: str(body[`hours.${d}.${i}.end`]) }))])) as ServiceLevelForm['hours'];
  const targets = Object.fromEntries(PRIORITIES.map((p) => [p, { response: str(body[`targets.${p}.response`]), resolution: str(body[`targets.${p}.resolution`]) }])) as ServiceLevelForm['targets'];
  const exceptions: ExceptionFields[] = [];
  for (let i = 0; i < 100 && body[`exceptions.${i}.category`] !== undefined; i++) {
    exceptions.push({
      category: str(body[`exceptions.${i}.category`]),
      priority: str(body[`exceptions.${i}.priority`]),
      response: str(body[`exceptions.${i}.response`]),
      resolution: str(body[`exceptions.${i}.resolution`]),
      remove: body[`exceptions.${i}.remove`] === 'on',
    });
  }
  return { version: str(body.version), timeZone: str(body.timeZone), hours, holidays: typeof body.holidays === 'string' ? body.holidays : '', atRiskPercent: str(body.atRiskPercent), targets, exceptions };
}

/** The form as the stored settings fill it, with blank rows for adding exceptions. */
export function serviceLevelFormOf(settings: { version: number; calendar: string; at_risk_percent: number }, targets: TargetRow[]): ServiceLevelForm {
  const input = storedCalendar(settings.calendar).input;
  const hours = Object.fromEntries(WEEKDAYS.map((d) => [d, Array.from({ length: SPANS_PER_DAY }, (_, i) => input.hours[d]?.[i] ?? { start: '', end: '' })])) as ServiceLevelForm['hours'];
  const general = (p: PriorityName) => targets.find((t) => t.priority === priorityCode(p) && t.category_id === null);
  return {
    version: String(settings.version),
    timeZone: input.timeZone,
    hours,
    holidays: (input.holidays ?? []).join('\n'),
    atRiskPercent: String(settings.at_risk_percent),
    targets: Object.fromEntries(PRIORITIES.map((p) => [p, { response: durationText(general(p)?.response_minutes ?? null), resolution: durationText(general(p)?.resolution_minutes ?? null) }])) as ServiceLevelForm['targets'],
    exceptions: [
      ...targets
        .filter((t) => t.category_id !== null)
        .map((t) => ({ category: String(t.category_id), priority: PRIORITIES[t.priority - 1], response: durationText(t.response_minutes), resolution: durationText(t.resolution_minutes), remove: false })),
      ...blankExceptions(),
    ],
  };
}

function blankExceptions(): ExceptionFields[] {
  return Array.from({ length: BLANK_EXCEPTIONS }, () => ({ category: '', priority: '', response: '', resolution: '', remove: false }));
}

/** Business minutes as the form writes them: `1h 30m`, `45m`, `10h`; empty for none. */
export function durationText(minutes: number | null): string {
  if (minutes === null) return '';
  const h = Math.floor(minutes / 60);
  const m = minutes % 60;
  if (h === 0) return `${m}m`;
  return m === 0 ? `${h}h` : `${h}h ${m}m`;
}

/**
 * A target as typed: `90`, `90m`, `4h`, `1h 30m`, `1.5h`, `1:30`. Minutes, or a message.
 * No days: a working day's length depends on the calendar, so targets are in hours.
 */
export function parseDuration(text: string): number | string {
  const t = text.trim().toLowerCase().replace(/\s+/g, ' ');
  let minutes: number | undefined;
  let m: RegExpExecArray | null;
  if ((m = /^(\d{1,6})\s?(m|min|mins|minutes?)?$/.exec(t))) minutes = Number(m[1]);
  else if ((m = /^(\d{1,4}(?:\.\d{1,2})?)\s?(h|hr|hrs|hours?)$/.exec(t))) minutes = Math.round(Number(m[1]) * 60);
  else if ((m = /^(\d{1,4})\s?(?:h|hr|hrs|hours?)\s?(\d{1,2})\s?(?:m|min|mins|minutes?)$/.exec(t))) minutes = Number(m[1]) * 60 + Number(m[2]);
  else if ((m = /^(\d{1,4}):(\d{2})$/.exec(t))) minutes = Number(m[1]) * 60 + Number(m[2]);
  if (minutes === undefined) return 'Enter the time in hours and minutes, like 4h, 1h 30m or 45m';
  if (minutes <= 0) return 'Enter a time longer than zero, or leave it empty for no target';
  if (minutes > MAX_TARGET_MINUTES) return `Keep the target to ${durationText(MAX_TARGET_MINUTES)} or less`;
  return minutes;
}

export interface ServiceLevelValues {
  calendar: CalendarInput;
  atRiskPercent: number;
  targets: TargetRow[];
}

/** Check the whole form; errors keyed by input id (fieldId of the field name). */
export function checkServiceLevels(form: ServiceLevelForm, categories: CategoryRow[]): { errors: FieldErrors; values?: ServiceLevelValues } {
  const errors: FieldErrors = {};
  const holidays = form.holidays.split(/\r?\n/).map((l) => l.trim()).filter(Boolean);
  const calendarInput: CalendarInput = {
    timeZone: form.timeZone,
    hours: Object.fromEntries(WEEKDAYS.map((d) => [d, form.hours[d].filter((s) => s.start || s.end)])),
    holidays,
  };
  const parsed = parseCalendar(calendarInput);
  if (!parsed.ok) {
    for (const p of parsed.problems) {
      const id = calendarFieldId(p.field, form);
      errors[id] ??= p.message;
    }
  }
  const percent = /^\d{1,2}$/.test(form.atRiskPercent) ? Number(form.atRiskPercent) : NaN;
  if (!(percent >= 1 && percent <= 99)) errors.atRiskPercent = 'Enter a whole number of percent from 1 to 99, like 25';

  const targets: TargetRow[] = [];
  const pair = (prefix: string, f: TargetFields, priority: number, categoryId: number | null) => {
    const response = f.response ? parseDuration(f.response) : null;
    const resolution = f.resolution ? parseDuration(f.resolution) : null;
    if (typeof response === 'string') errors[fieldId(`${prefix}.response`)] = response;
    if (typeof resolution === 'string') errors[fieldId(`${prefix}.resolution`)] = resolution;
    if (typeof response === 'number' && typeof resolution === 'number' && response > resolution) {
      errors[fieldId(`${prefix}.response`)] = 'The first-response target cannot be longer than the resolution target';
    }
    if (typeof response !== 'string' && typeof resolution !== 'string' && (response !== null || resolution !== null)) {
      targets.push({ priority, category_id: categoryId, response_minutes: response, resolution_minutes: resolution });
    }
  };
  for (const p of PRIORITIES) pair(`targets.${p}`, form.targets[p], priorityCode(p), null);
  const seen = new Set<string>();
  form.exceptions.forEach((x, i) => {
    if (x.remove || (!x.category && !x.priority && !x.response && !x.resolution)) return;
    const prefix = `exceptions.${i}`;
    const category = categories.find((c) => String(c.id) === x.category);
    if (!category) errors[fieldId(`${prefix}.category`)] = 'Choose the category this exception is for';
    if (!PRIORITIES.includes(x.priority as PriorityName)) errors[fieldId(`${prefix}.priority`)] = 'Choose the priority this exception is for';
    if (!x.response && !x.resolution) errors[fieldId(`${prefix}.response`)] = 'Enter a first-response or a resolution target, or remove the exception';
    if (!category || !PRIORITIES.includes(x.priority as PriorityName)) return;
    const key = `${category.id}|${x.priority}`;
    if (seen.has(key)) errors[fieldId(`${prefix}.category`)] = `${category.name} already has an exception for ${x.priority} tickets`;
    seen.add(key);
    pair(prefix, x, priorityCode(x.priority as PriorityName), category.id);
  });
  if (Object.keys(errors).length || !parsed.ok) return { errors };
  return { errors, values: { calendar: parsed.calendar.input, atRiskPercent: percent, targets } };
}

/** Where a calendar problem belongs on the form: its input, or the day's first when it is about the day. */
function calendarFieldId(field: string, form: ServiceLevelForm): string {
  if (field === 'timeZone') return 'timeZone';
  if (field.startsWith('holidays')) return 'holidays';
  if (field === 'hours') return 'hours-mon-0-start';
  const m = /^hours\.(\w+)\.(\d+)\.(start|end)$/.exec(field);
  if (m) {
    // parseCalendar numbers a day's spans as they were given: the non-empty ones.
    const day = m[1] as Weekday;
    const filled = form.hours[day].map((s, i) => ({ s, i })).filter(({ s }) => s.start || s.end);
    const index = filled[Number(m[2])]?.i ?? 0;
    return `hours-${day}-${index}-${m[3]}`;
  }
  const day = /^hours\.(\w+)$/.exec(field);
  return day ? `hours-${day[1]}-0-start` : 'timeZone';
}

export type SaveResult = { kind: 'ok' } | { kind: 'invalid'; errors: FieldErrors } | { kind: 'conflict' };

/**
 * Save the calendar and every target at once, if nobody saved since the form was opened.
 * Tickets keep the targets their clocks started with; these apply to tickets raised or
 * re-prioritised from now on.
 */
export async function saveServiceLevels(database: Database, actorId: number, form: ServiceLevelForm, categories: CategoryRow[]): Promise<SaveResult> {
  const { errors, values } = checkServiceLevels(form, categories);
  if (!/^\d{1,9}$/.test(form.version)) errors.version = 'This form is missing its version; reload the page and try again';
  if (!values || Object.keys(errors).length) return { kind: 'invalid', errors };
  return database.write(async (trx) => {
    const settings = await getSlaSettings(trx);
    if (!(await updateSlaSettingsAtVersion(trx, settings.id, Number(form.version), { calendar: JSON.stringify(values.calendar), atRiskPercent: values.atRiskPercent, by: actorId }, new Date().toISOString()))) return { kind: 'conflict' };
    await replaceTargets(trx, values.targets);
    return { kind: 'ok' };
  });
}

export async function loadServiceLevelForm(database: Database): Promise<ServiceLevelForm> {
  const [settings, targets] = await Promise.all([getSlaSettings(database.db), listTargets(database.db)]);
  return serviceLevelFormOf(settings, targets);
}

/** One target's clock on the ticket page. */
export interface ClockView {
  kind: SlaKind;
  label: string;
  target: string;
  state: 'running' | 'at-risk' | 'overdue' | 'paused' | 'met' | 'breached';
  /** The due instant, when there is one. */
  due: Date | null;
  /** The due instant on the calendar's clocks, e.g. "Tue 26 Dec 09:30". */
  dueText: string | null;
  /** When it stopped (reply or resolution). */
  stoppedAt: Date | null;
  /** The business-time arithmetic, step by step. */
  explanation: string;
  /** Business time still to run while paused. */
  leftText: string | null;
}

/** The ticket's clocks for its page: where each stands now and how its due time was worked out. */
export async function ticketClocks(database: Database, policy: SlaPolicy, ticketId: number, now: Date): Promise<ClockView[]> {
  const clocks = await listClocks(database.db, ticketId);
  if (clocks.length === 0) return [];
  const changes = await listStatusChanges(database.db, ticketId);
  return clocks.map((c) => clockView(policy, c, changes, now));
}

function clockView(policy: SlaPolicy, c: ClockRow, changes: { from_value: string | null; to_value: string | null; created_at: string | Date }[], now: Date): ClockView {
  const due = toDate(c.due_at);
  const warn = toDate(c.warn_at);
  const stoppedAt = toDate(c.stopped_at);
  // The pauses as they stood when the clock stopped (later ones did not move it).
  const upTo = stoppedAt ?? now;
  const pauses = pausesOf(changes.filter((e) => toDate(e.created_at)! <= upTo));
  const steps = explainClock(policy.calendar, { start: toDate(c.started_at)!, targetMinutes: c.target_minutes, pauses });
  const last = steps[steps.length - 1];
  let state: ClockView['state'];
  if (c.outcome === 'met') state = 'met';
  else if (c.outcome === 'breached') state = 'breached';
  else if (!due) state = 'paused';
  else if (due <= now) state = 'overdue';
  else if (warn && warn <= now) state = 'at-risk';
  else state = 'running';
  return {
    kind: c.kind,
    label: c.kind === 'response' ? 'First response' : 'Resolution',
    target: durationText(c.target_minutes),
    state,
    due,
    dueText: due ? localTimeText(policy.calendar, due) : null,
    stoppedAt,
    explanation: formatExplanation(steps),
    leftText: last.kind === 'waiting' ? durationText(Math.round(last.remainingMinutes)) : null,
  };
}
