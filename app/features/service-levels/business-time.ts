/**
 * Business time: how service-level clocks count. Pure: no I/O, no database, no `Date.now()`.
 *
 * Contract (everything else in service levels builds on it):
 * - Instants are `Date`s; durations are business minutes, counted to the millisecond
 *   (a fraction of a minute stays a fraction; round only for display).
 * - A calendar (`parseCalendar` in calendar.ts) has an IANA time zone, spans of working
 *   hours per weekday on that zone's clocks, and holidays: local dates whose spans all drop.
 * - Business time is real elapsed time while the desk is open. Each span of a day is one
 *   continuous opening, from the instant its start time is first shown on the zone's clocks
 *   to the instant its end time is first shown:
 *   - a span's length is real time, so 08:00–18:00 is 10 hours on a day the clocks change
 *     outside it, 9 hours if they spring forward inside it, 11 if they fall back inside it;
 *   - a start or end time the clocks skip (say 02:30 when 02:00 jumps to 03:00) is the
 *     instant of the jump: the first moment the clock shows that time or later;
 *   - a start or end time the clocks show twice (01:30 when 02:00 falls back to 01:00) is
 *     its first showing; an opening that has begun stays open through the repeated hour.
 * - Intervals are half-open, `[from, to)`: pauses, openings, and `businessMinutesBetween`.
 * - `addBusinessTime(c, s, m)` is the earliest instant t ≥ s with
 *   `businessMinutesBetween(c, s, t) >= m`: s itself for m = 0; for m > 0, inside an opening
 *   or exactly at its end, never in closed time. A start outside hours starts at the next opening.
 * - A clock with pauses counts business time in [start, now) outside every pause; a pause
 *   without an end is still going on, and a ticket paused short of its target has no due
 *   instant until it resumes.
 * - Met or missed is judged by the instant: an event at or before `due` met the target, one
 *   after it missed, even in closed time just after a due at closing (where the elapsed
 *   minutes still equal the target).
 * - Zone offsets are learnt from Intl and remembered per process (zone.ts), and so are a
 *   calendar's openings per day (a calendar never changes once parsed); nothing else is kept.
 * - Work is proportional to the days covered (the hours of one day at a time, never minute by
 *   minute); targets are at most MAX_TARGET_MINUTES, and a search that meets more closed days
 *   in a row than the calendar allows throws instead of looping.
 */
import type { BusinessCalendar } from './calendar';
import { DAY, MINUTE, weekdayOfDay, zoneNamed } from './zone';

/** A year of round-the-clock minutes: far beyond any service level, small enough to answer quickly. */
export const MAX_TARGET_MINUTES = 366 * 24 * 60;

/** `[from, to)`; `to` missing or null: still paused. */
export interface Pause {
  from: Date;
  to?: Date | null;
}

export interface SlaClock {
  start: Date;
  targetMinutes: number;
  pauses?: readonly Pause[];
}

export interface ClockReading {
  /** When the target is reached; null while paused short of it (the due instant moves with the resumption). */
  due: Date | null;
  /** The start of the pause going on at `now`, if any. */
  pausedSince: Date | null;
  /** Business minutes counted in [start, now), pauses left out. */
  elapsedMinutes: number;
  /** targetMinutes − elapsedMinutes: negative once past due. */
  remainingMinutes: number;
}

/** The instant at which `minutes` business minutes have elapsed since `start` (see the contract above). */
export function addBusinessTime(calendar: BusinessCalendar, start: Date, minutes: number): Date {
  return new Date(addMs(calendar, instant(start, 'start'), targetMs(minutes)));
}

/** Business minutes in [a, b); 0 when b ≤ a. */
export function businessMinutesBetween(calendar: BusinessCalendar, a: Date, b: Date): number {
  return betweenMs(calendar, instant(a, 'a'), instant(b, 'b')) / MINUTE;
}

/** Due instant (or paused), elapsed and remaining business minutes at `now` for a clock that pauses. */
export function readClock(calendar: BusinessCalendar, clock: SlaClock, now: Date): ClockReading {
  const target = targetMs(clock.targetMinutes);
  const start = instant(clock.start, 'start');
  const at = instant(now, 'now');
  const running = runningSegments(start, clock.pauses ?? []);
  const end = dueOrPause(calendar, target, running);
  let elapsed = 0;
  for (const [from, to] of running.segments) {
    if (from >= at) break;
    elapsed += betweenMs(calendar, from, Math.min(to, at));
  }
  const open = running.openSince;
  return {
    due: end.due === null ? null : new Date(end.due),
    pausedSince: open !== null && open <= at ? new Date(open) : null,
    elapsedMinutes: elapsed / MINUTE,
    remainingMinutes: (target - elapsed) / MINUTE,
  };
}

// The rest is shared with explain.ts, which must count exactly as the clock does.

/**
 * Calls `visit(open, close)` for each opening (or its part) after `from`, in order, until it
 * returns true. Throws when the calendar goes longer without an opening than it can: a week
 * for every holiday, plus three (a week, the first partial day, a day lost to a clock change).
 */
export function eachOpening(calendar: BusinessCalendar, from: number, visit: (open: number, close: number) => boolean): void {
  const zone = zoneNamed(calendar.timeZone);
  const patience = 7 * (calendar.holidays.size + 3);
  let idle = 0;
  // No opening of an earlier local day reaches past `from`: a day ends at or before the
  // first instant the clocks show the next day's date, and `from` shows that date or later.
  for (let day = zone.dayOf(from); ; day++) {
    let opened = false;
    for (const [open, close] of openingsOn(calendar, day)) {
      if (close <= from) continue;
      opened = true;
      if (visit(Math.max(open, from), close)) return;
    }
    if (opened) idle = 0;
    else if (++idle > patience) throw new Error(`The business calendar (${calendar.timeZone}) has no working time in ${idle} days`);
  }
}

/** Working out a day's openings costs a few zone conversions; a calendar's days are kept (it never changes). */
const OPENINGS_KEPT = 4000;
const openingsKept = new WeakMap<BusinessCalendar, Map<number, readonly (readonly [number, number])[]>>();

/** The day's openings as instants `[open, close)`, in order; none on a holiday or a closed day. Do not modify the result. */
export function openingsOn(calendar: BusinessCalendar, day: number): readonly (readonly [number, number])[] {
  let kept = openingsKept.get(calendar);
  if (!kept) openingsKept.set(calendar, (kept = new Map<number, readonly (readonly [number, number])[]>()));
  let openings = kept.get(day);
  if (!openings) {
    openings = workOutOpenings(calendar, day);
    if (kept.size >= OPENINGS_KEPT) kept.clear();
    kept.set(day, openings);
  }
  return openings;
}

function workOutOpenings(calendar: BusinessCalendar, day: number): [number, number][] {
  if (calendar.holidays.has(day)) return [];
  const spans = calendar.week[weekdayOfDay(day)];
  if (spans.length === 0) return [];
  const zone = zoneNamed(calendar.timeZone);
  const openings: [number, number][] = [];
  for (const span of spans) {
    const open = zone.instantOf(day * DAY + span.start * MINUTE);
    const close = zone.instantOf(day * DAY + span.end * MINUTE);
    // A span wholly inside a spring-forward gap has no real time at all.
    if (close > open) openings.push([open, close]);
  }
  return openings;
}

export function addMs(calendar: BusinessCalendar, start: number, ms: number): number {
  if (ms === 0) return start;
  let remaining = ms;
  let due = start;
  eachOpening(calendar, start, (open, close) => {
    if (remaining <= close - open) {
      due = open + remaining;
      return true;
    }
    remaining -= close - open;
    return false;
  });
  return due;
}

export function betweenMs(calendar: BusinessCalendar, a: number, b: number): number {
  if (b <= a) return 0;
  let total = 0;
  eachOpening(calendar, a, (open, close) => {
    if (open >= b) return true;
    total += Math.min(close, b) - open;
    return close >= b;
  });
  return total;
}

export interface Running {
  /** `[from, to)` while the clock runs, in order; the last one's `to` is Infinity unless a pause is open. */
  segments: [number, number][];
  /** Where the open pause began, or null. */
  openSince: number | null;
  /** The pauses after start, clipped to it, merged and in order; `to` Infinity when open. */
  pauses: [number, number][];
}

export function runningSegments(start: number, pauses: readonly Pause[]): Running {
  const merged: [number, number][] = [];
  const sorted = pauses
    .map((p, i): [number, number] => {
      const from = instant(p.from, `pauses[${i}].from`);
      const to = p.to == null ? Infinity : instant(p.to, `pauses[${i}].to`);
      if (to < from) throw new RangeError(`pauses[${i}] ends (${new Date(to).toISOString()}) before it begins (${new Date(from).toISOString()})`);
      return [Math.max(from, start), to];
    })
    .filter(([from, to]) => to > from)
    .sort((x, y) => x[0] - y[0]);
  for (const [from, to] of sorted) {
    const last = merged[merged.length - 1];
    if (last && from <= last[1]) last[1] = Math.max(last[1], to);
    else merged.push([from, to]);
  }
  const segments: [number, number][] = [];
  let cursor = start;
  for (const [from, to] of merged) {
    if (from > cursor) segments.push([cursor, from]);
    cursor = to;
  }
  if (cursor !== Infinity) segments.push([cursor, Infinity]);
  const last = merged[merged.length - 1];
  return { segments, openSince: last && last[1] === Infinity ? last[0] : null, pauses: merged };
}

/** The due instant, or the business time still to run when the clock stops short of the target. */
export function dueOrPause(calendar: BusinessCalendar, target: number, running: Running): { due: number; remaining: 0 } | { due: null; remaining: number } {
  let remaining = target;
  for (const [from, to] of running.segments) {
    const available = to === Infinity ? Infinity : betweenMs(calendar, from, to);
    if (remaining <= available) return { due: addMs(calendar, from, remaining), remaining: 0 };
    remaining -= available;
  }
  return { due: null, remaining };
}

export function targetMs(minutes: number): number {
  if (!Number.isFinite(minutes) || minutes < 0 || minutes > MAX_TARGET_MINUTES) {
    throw new RangeError(`A business-time target must be between 0 and ${MAX_TARGET_MINUTES} minutes, not ${minutes}`);
  }
  return Math.round(minutes * MINUTE);
}

export function instant(d: Date, name: string): number {
  const t = d instanceof Date ? d.getTime() : NaN;
  if (Number.isNaN(t)) throw new RangeError(`${name} must be a valid Date`);
  return t;
}
