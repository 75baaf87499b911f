import { canonicalZone, dayOfIsoDate } from './zone';

export const WEEKDAYS = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'] as const;
export type Weekday = (typeof WEEKDAYS)[number];

const DAY_NAMES: Record<Weekday, string> = {
  mon: 'Monday',
  tue: 'Tuesday',
  wed: 'Wednesday',
  thu: 'Thursday',
  fri: 'Friday',
  sat: 'Saturday',
  sun: 'Sunday',
};

/** What an admin form submits: times as `HH:MM` (24-hour; `24:00` ends a day), holidays as `YYYY-MM-DD`. */
export interface CalendarInput {
  timeZone: string;
  /** A day that is missing or has no spans is closed. */
  hours: Partial<Record<Weekday, ReadonlyArray<{ start: string; end: string }>>>;
  /** Whole days, dates on the calendar's own clocks. */
  holidays?: readonly string[];
}

/** `field` names the input: `timeZone`, `hours`, `hours.mon`, `hours.mon.0.start`, `holidays.2`. */
export interface CalendarProblem {
  field: string;
  message: string;
}

/** Minutes after local midnight, `[start, end)`, start < end ≤ 1440. */
export interface Span {
  readonly start: number;
  readonly end: number;
}

declare const parsed: unique symbol;

/** A valid calendar; only `parseCalendar` makes one, so the arithmetic never meets a bad one. */
export interface BusinessCalendar {
  readonly [parsed]: true;
  readonly timeZone: string;
  /** Index 0 is Monday; each day's spans sorted, touching spans joined. */
  readonly week: readonly (readonly Span[])[];
  /** Local dates as day numbers (see zone.ts). */
  readonly holidays: ReadonlySet<number>;
  /** The input, normalised (canonical zone, sorted holidays), for storing and for the form. */
  readonly input: CalendarInput;
}

/** A calendar lists at most this many holidays: enough for years ahead, and it bounds the search past them. */
export const MAX_HOLIDAYS = 1000;

export type CalendarResult = { ok: true; calendar: BusinessCalendar } | { ok: false; problems: CalendarProblem[] };

export function parseCalendar(input: CalendarInput): CalendarResult {
  const problems: CalendarProblem[] = [];
  const timeZone = canonicalZone(input.timeZone.trim());
  if (input.timeZone.trim() === '') problems.push({ field: 'timeZone', message: 'Enter a time zone, like Europe/London' });
  else if (!timeZone) problems.push({ field: 'timeZone', message: `“${input.timeZone}” is not a time zone we know; use a name like Europe/London or America/New_York` });

  const week = WEEKDAYS.map((day) => parseDay(day, input.hours[day] ?? [], problems));
  if (week.every((spans) => spans.length === 0) && !problems.some((p) => p.field.startsWith('hours.'))) {
    problems.push({ field: 'hours', message: 'Enter working hours for at least one day' });
  }

  const holidays = parseHolidays(input.holidays ?? [], problems);

  if (problems.length > 0 || !timeZone) return { ok: false, problems };
  const normalised: CalendarInput = {
    timeZone,
    hours: Object.fromEntries(WEEKDAYS.map((day) => [day, (input.hours[day] ?? []).map(({ start, end }) => ({ start: clock(parseTime(start, 'start') as number), end: clock(parseTime(end, 'end') as number) }))])),
    holidays: [...holidays.keys()].sort(),
  };
  const calendar = { timeZone, week, holidays: new Set(holidays.values()), input: normalised };
  return { ok: true, calendar: calendar as unknown as BusinessCalendar };
}

/** A calendar known to be valid (fixtures, stored settings already checked); throws with the problems otherwise. */
export function calendarOf(input: CalendarInput): BusinessCalendar {
  const result = parseCalendar(input);
  if (!result.ok) throw new Error(`Invalid business calendar: ${result.problems.map((p) => `${p.field}: ${p.message}`).join('; ')}`);
  return result.calendar;
}

function parseDay(day: Weekday, raw: ReadonlyArray<{ start: string; end: string }>, problems: CalendarProblem[]): Span[] {
  const spans: { span: Span; index: number }[] = [];
  raw.forEach(({ start, end }, index) => {
    const field = `hours.${day}.${index}`;
    const from = parseTime(start, 'start');
    const to = parseTime(end, 'end');
    if (typeof from === 'string') problems.push({ field: `${field}.start`, message: from });
    if (typeof to === 'string') problems.push({ field: `${field}.end`, message: to });
    if (typeof from !== 'number' || typeof to !== 'number') return;
    if (to <= from) {
      problems.push({ field: `${field}.end`, message: `${DAY_NAMES[day]}’s end time must be after its start time (${start.trim()}); split hours past midnight across two days` });
      return;
    }
    spans.push({ span: { start: from, end: to }, index });
  });
  spans.sort((a, b) => a.span.start - b.span.start);
  const joined: Span[] = [];
  for (let i = 0; i < spans.length; i++) {
    const { span, index } = spans[i];
    const last = joined[joined.length - 1];
    if (last && span.start < last.end) {
      problems.push({ field: `hours.${day}.${index}.start`, message: `${DAY_NAMES[day]}’s hours overlap: ${clock(last.start)}–${clock(last.end)} and ${clock(span.start)}–${clock(span.end)}` });
    } else if (last && span.start === last.end) {
      joined[joined.length - 1] = { start: last.start, end: span.end };
    } else {
      joined.push(span);
    }
  }
  return joined;
}

function parseTime(raw: string, which: 'start' | 'end'): number | string {
  const text = raw.trim();
  if (text === '') return `Enter the ${which} time, like 08:00`;
  const m = /^(\d{1,2}):(\d{2})$/.exec(text);
  const hours = m ? Number(m[1]) : NaN;
  const minutes = m ? Number(m[2]) : NaN;
  if (!m || minutes > 59 || hours > 24 || (hours === 24 && minutes > 0)) return `Enter the ${which} time as HH:MM on the 24-hour clock, like 08:00 or 17:30`;
  if (hours === 24 && which === 'start') return 'A day’s hours cannot start at 24:00; use 00:00 of the next day';
  return hours * 60 + minutes;
}

/** Date → day number, in input order; a problem for each bad, repeated or surplus entry. */
function parseHolidays(raw: readonly string[], problems: CalendarProblem[]): Map<string, number> {
  const days = new Map<string, number>();
  if (raw.length > MAX_HOLIDAYS) {
    problems.push({ field: 'holidays', message: `List at most ${MAX_HOLIDAYS} holidays; remove past years` });
    return days;
  }
  raw.forEach((entry, index) => {
    const text = entry.trim();
    const day = dayOfIsoDate(text);
    if (day === null) problems.push({ field: `holidays.${index}`, message: `Enter the holiday as a real date, like 2025-12-25 (not “${entry}”)` });
    else if (days.has(text)) problems.push({ field: `holidays.${index}`, message: `${text} is listed twice` });
    else days.set(text, day);
  });
  return days;
}

function clock(minutes: number): string {
  return `${String(Math.floor(minutes / 60)).padStart(2, '0')}:${String(minutes % 60).padStart(2, '0')}`;
}
