/**
 * fast-check generators and an independent wall-clock reader for the business-time properties.
 * The reader asks Intl directly, one instant at a time, so it shares no code with zone.ts.
 */
import fc from 'fast-check';
import { calendarOf, type BusinessCalendar, type CalendarInput, type Weekday } from '../../../../app/features/service-levels/calendar';

export const MINUTE = 60_000;
export const DAY = 1440 * MINUTE;

export const ZONES = ['Europe/London', 'America/New_York', 'Australia/Sydney', 'Asia/Tokyo'] as const;
export type ZoneName = (typeof ZONES)[number];

/** The clock changes of 2024 and 2025 (Tokyo has none; it borrows London's dates as ordinary days). */
const CHANGES: Record<ZoneName, string[]> = {
  'Europe/London': ['2024-03-31T01:00Z', '2024-10-27T01:00Z', '2025-03-30T01:00Z', '2025-10-26T01:00Z'],
  'America/New_York': ['2024-03-10T07:00Z', '2024-11-03T06:00Z', '2025-03-09T07:00Z', '2025-11-02T06:00Z'],
  'Australia/Sydney': ['2024-04-06T16:00Z', '2024-10-05T16:00Z', '2025-04-05T16:00Z', '2025-10-04T16:00Z'],
  'Asia/Tokyo': ['2024-03-31T01:00Z', '2024-10-27T01:00Z', '2025-03-30T01:00Z', '2025-10-26T01:00Z'],
};
/** Local times the clocks show twice in each zone (minutes after midnight, exclusive bounds). */
export const REPEATED_HOUR: Record<ZoneName, [number, number] | null> = {
  'Europe/London': [60, 120],
  'America/New_York': [60, 120],
  'Australia/Sydney': [120, 180],
  'Asia/Tokyo': null,
};

const FROM = Date.parse('2024-01-01T00:00Z');
const TO = Date.parse('2026-01-01T00:00Z');

/** Whole minutes, half of them within four days of a clock change. */
export function instantArb(zone: ZoneName): fc.Arbitrary<Date> {
  const nearChange = fc.tuple(fc.constantFrom(...CHANGES[zone]), fc.integer({ min: -4 * 1440, max: 4 * 1440 })).map(([iso, m]) => Date.parse(iso) + m * MINUTE);
  const anywhere = fc.integer({ min: FROM / MINUTE, max: TO / MINUTE }).map((m) => m * MINUTE);
  return fc.oneof(nearChange, anywhere).map((t) => new Date(t));
}

const hhmm = (m: number) => `${String(Math.floor(m / 60)).padStart(2, '0')}:${String(m % 60).padStart(2, '0')}`;
export const MON_FRI: Weekday[] = ['mon', 'tue', 'wed', 'thu', 'fri'];
export const ALL_WEEK: Weekday[] = [...MON_FRI, 'sat', 'sun'];
/** The same hours on each of `days`: `hoursOn(MON_FRI, '09:00', '17:30')`. */
export const hoursOn = (days: readonly Weekday[], start: string, end: string): CalendarInput['hours'] => Object.fromEntries(days.map((d) => [d, [{ start, end }]]));

/** Up to two spans on a grid of `grid` minutes; boundaries in `avoid` are left out. */
function dayArb(grid: number, avoid: (m: number) => boolean) {
  return fc.uniqueArray(fc.integer({ min: 0, max: 1440 / grid }), { maxLength: 4 }).map((slots) => {
    const bounds = slots.map((s) => s * grid).filter((m) => !avoid(m)).sort((a, b) => a - b);
    const spans: { start: string; end: string }[] = [];
    for (let i = 0; i + 1 < bounds.length; i += 2) spans.push({ start: hhmm(bounds[i]), end: hhmm(bounds[i + 1]) });
    return spans;
  });
}

export function hoursArb(grid: number, avoid: (m: number) => boolean = () => false): fc.Arbitrary<CalendarInput['hours']> {
  const random = fc
    .tuple(...ALL_WEEK.map(() => dayArb(grid, avoid)))
    .filter((days) => days.some((d) => d.length > 0))
    .map((days) => Object.fromEntries(ALL_WEEK.map((d, i) => [d, days[i]])));
  const usual = fc.constantFrom(
    hoursOn(MON_FRI, '08:00', '18:00'),
    hoursOn(MON_FRI, '09:00', '17:30'),
    Object.fromEntries(MON_FRI.map((d) => [d, [{ start: '08:00', end: '12:00' }, { start: '13:00', end: '17:00' }]])),
    hoursOn(ALL_WEEK, '00:00', '24:00'),
    hoursOn(['sun', 'mon', 'tue', 'wed', 'thu'], '08:00', '16:00'),
  );
  return fc.oneof(random, usual);
}

/** Local dates, a third of them within a few days of a clock change. */
export function holidaysArb(zone: ZoneName): fc.Arbitrary<string[]> {
  const near = fc.tuple(fc.constantFrom(...CHANGES[zone]), fc.integer({ min: -3, max: 3 })).map(([iso, d]) => Date.parse(iso) + d * DAY);
  const anywhere = fc.integer({ min: FROM / DAY, max: TO / DAY + 60 }).map((d) => d * DAY);
  return fc.uniqueArray(fc.oneof(near, anywhere, anywhere).map((t) => new Date(t).toISOString().slice(0, 10)), { maxLength: 25 });
}

export interface Scenario {
  input: CalendarInput;
  calendar: BusinessCalendar;
  zone: ZoneName;
  start: Date;
}

/** A calendar in one of the four zones and a start near it in time; inputs kept for readable counterexamples. */
export function scenarioArb(options: { grid?: number; avoidRepeated?: boolean } = {}): fc.Arbitrary<Scenario> {
  const grid = options.grid ?? 15;
  return fc.constantFrom(...ZONES).chain((zone) => {
    const repeated = REPEATED_HOUR[zone];
    const avoid = (m: number) => options.avoidRepeated === true && repeated !== null && m > repeated[0] && m < repeated[1];
    return fc.record({ hours: hoursArb(grid, avoid), holidays: holidaysArb(zone), start: instantArb(zone) }).map(({ hours, holidays, start }) => {
      const input: CalendarInput = { timeZone: zone, hours, holidays };
      return { input, calendar: calendarOf(input), zone, start };
    });
  });
}

/** Business minutes for a target: mostly under a week, some up to five weeks of office hours. */
export const targetArb = fc.oneof(fc.integer({ min: 1, max: 600 }), fc.integer({ min: 1, max: 3000 }), fc.integer({ min: 2400, max: 15_000 }));

// ---------------------------------------------------------------- independent wall clock

const formats = new Map<string, Intl.DateTimeFormat>();

export interface Wall {
  date: string;
  weekday: Weekday;
  /** Whole minutes after local midnight. */
  minute: number;
  /** Local time minus UTC, in ms. */
  offset: number;
}

export function wallAt(zone: string, t: number): Wall {
  let format = formats.get(zone);
  if (!format) {
    format = new Intl.DateTimeFormat('en-US', { timeZone: zone, hourCycle: 'h23', weekday: 'short', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit' });
    formats.set(zone, format);
  }
  const parts = Object.fromEntries(format.formatToParts(t).map((p) => [p.type, p.value]));
  const [y, mo, d, h, mi, s] = [parts.year, parts.month, parts.day, parts.hour, parts.minute, parts.second].map(Number);
  const whole = Math.floor(t / 1000) * 1000;
  return {
    date: `${parts.year}-${parts.month}-${parts.day}`,
    weekday: parts.weekday.toLowerCase() as Weekday,
    minute: h * 60 + mi,
    offset: Date.UTC(y, mo - 1, d, h, mi, s) - whole,
  };
}

/** Is the desk open at t by the wall clock alone: a working weekday, not a holiday, inside a span. */
export function openByWall(input: CalendarInput, wall: Wall): boolean {
  if ((input.holidays ?? []).includes(wall.date)) return false;
  return (input.hours[wall.weekday] ?? []).some(({ start, end }) => minutes(start) <= wall.minute && wall.minute < minutes(end));
}

function minutes(hm: string): number {
  const [h, m] = hm.split(':').map(Number);
  return h * 60 + m;
}
