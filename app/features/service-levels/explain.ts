/**
 * Why a clock is due when it is, as a few steps a person can read on hover:
 * "Raised Fri 22 Dec 16:30; 1 h 30 m on Fri 22 Dec, 16:30–18:00; weekend skipped;
 * Mon 25 Dec holiday skipped; 1 h 30 m on Tue 26 Dec, 08:00–09:30; due Tue 26 Dec 09:30".
 * The steps come from the same arithmetic as `readClock`: their counted minutes add up to
 * the target, and the last step is the same due instant (or the pause it waits on).
 */
import { betweenMs, dueOrPause, instant, openingsOn, runningSegments, targetMs, type SlaClock } from './business-time';
import { WEEKDAYS, type BusinessCalendar, type Weekday } from './calendar';
import { DAY, MINUTE, isoDateOfDay, weekdayOfDay, zoneNamed, type Zone } from './zone';

/** A date on the calendar's clocks. */
export interface LocalDate {
  date: string;
  weekday: Weekday;
}

/** An instant, with its date and time on the calendar's clocks. */
export interface LocalMoment extends LocalDate {
  at: Date;
  /** HH:MM */
  time: string;
}

export type ExplainStep =
  | { kind: 'raised'; at: LocalMoment }
  /** Business time that counted: one stretch of a day, or whole working days in a row (wholeDays ≥ 2). */
  | { kind: 'counted'; from: LocalMoment; to: LocalMoment; first: LocalDate; last: LocalDate; wholeDays: number; minutes: number }
  /** Days in a row with no working time; `weekend` when they are closed Saturdays and Sundays. */
  | { kind: 'skipped'; reason: 'weekend' | 'closed' | 'holiday'; first: LocalDate; last: LocalDate; days: number }
  /** Waiting for the requester; `minutes` of business time not counted (null while it goes on). */
  | { kind: 'paused'; from: LocalMoment; to: LocalMoment | null; minutes: number | null }
  | { kind: 'due'; at: LocalMoment }
  /** Paused short of the target: this much business time runs once the clock resumes. */
  | { kind: 'waiting'; remainingMinutes: number };

type Piece =
  | { at: number; kind: 'counted'; day: number; from: number; to: number; ms: number; whole: boolean }
  | { at: number; kind: 'skipped'; day: number; reason: 'closed' | 'holiday' }
  | { at: number; kind: 'paused'; from: number; to: number; ms: number | null };

export function explainClock(calendar: BusinessCalendar, clock: SlaClock): ExplainStep[] {
  const start = instant(clock.start, 'start');
  const running = runningSegments(start, clock.pauses ?? []);
  const end = dueOrPause(calendar, targetMs(clock.targetMinutes), running);
  const stop = end.due ?? running.openSince;
  if (stop === null) throw new Error('A clock short of its target must be paused');
  const zone = zoneNamed(calendar.timeZone);

  const pieces: Piece[] = [];
  for (const [from, to] of running.pauses) {
    if (from < stop || from === running.openSince) pieces.push({ at: from, kind: 'paused', from, to, ms: to === Infinity ? null : betweenMs(calendar, from, to) });
  }
  for (let day = zone.dayOf(start); day <= zone.dayOf(stop); day++) pieces.push(...dayPieces(calendar, zone, day, start, stop, running.pauses));
  pieces.sort((a, b) => a.at - b.at);

  const local = (t: number) => localMoment(zone, t);
  const steps: ExplainStep[] = [{ kind: 'raised', at: local(start) }];
  for (const piece of pieces) {
    const previous = steps[steps.length - 1];
    if (piece.kind === 'paused') {
      steps.push({ kind: 'paused', from: local(piece.from), to: piece.to === Infinity ? null : local(piece.to), minutes: piece.ms === null ? null : piece.ms / MINUTE });
    } else if (piece.kind === 'skipped') {
      const reason = piece.reason;
      if (previous.kind === 'skipped' && previous.reason === reason && dayNumber(previous.last) === piece.day - 1) {
        previous.last = localDate(piece.day);
        previous.days++;
      } else {
        steps.push({ kind: 'skipped', reason, first: localDate(piece.day), last: localDate(piece.day), days: 1 });
      }
    } else if (previous.kind === 'counted' && previous.wholeDays > 0 && piece.whole && dayNumber(previous.last) === piece.day - 1) {
      previous.to = local(piece.to);
      previous.last = localDate(piece.day);
      previous.wholeDays++;
      previous.minutes += piece.ms / MINUTE;
    } else {
      steps.push({ kind: 'counted', from: local(piece.from), to: local(piece.to), first: localDate(piece.day), last: localDate(piece.day), wholeDays: piece.whole ? 1 : 0, minutes: piece.ms / MINUTE });
    }
  }
  for (const step of steps) {
    if (step.kind === 'skipped' && step.reason === 'closed' && isWeekend(step)) step.reason = 'weekend';
  }
  steps.push(end.due === null ? { kind: 'waiting', remainingMinutes: end.remaining / MINUTE } : { kind: 'due', at: local(end.due) });
  return steps;
}

/** "Raised Fri 22 Dec 16:30; 1 h 30 m on Fri 22 Dec, 16:30–18:00; weekend skipped; …; due Tue 26 Dec 09:30" */
export function formatExplanation(steps: readonly ExplainStep[]): string {
  const text = steps.map((step): string => {
    switch (step.kind) {
      case 'raised':
        return `raised ${moment(step.at)}`;
      case 'counted':
        if (step.wholeDays >= 2) return `${duration(step.minutes)} over ${step.wholeDays} working days, ${dateLabel(step.first)} – ${dateLabel(step.last)}`;
        return `${duration(step.minutes)} on ${dateLabel(step.first)}, ${step.from.time}–${endTime(step.to, step.first)}`;
      case 'skipped':
        if (step.reason === 'weekend') return 'weekend skipped';
        return `${dateRange(step)} ${step.reason === 'holiday' ? (step.days > 1 ? 'holidays skipped' : 'holiday skipped') : 'closed'}`;
      case 'paused':
        if (!step.to) return `paused since ${moment(step.from)}, waiting for the requester`;
        return `paused ${moment(step.from)} – ${moment(step.to)}, waiting for the requester (${step.minutes ? `${duration(step.minutes)} not counted` : 'no working time lost'})`;
      case 'due':
        return `due ${moment(step.at)}`;
      case 'waiting':
        return `${duration(step.remainingMinutes)} left when the clock resumes`;
    }
  });
  const joined = text.join('; ');
  return joined.charAt(0).toUpperCase() + joined.slice(1);
}

/** An instant on the calendar's clocks, as the explanation writes it: "Tue 26 Dec 09:30". */
export function localTimeText(calendar: BusinessCalendar, at: Date): string {
  return moment(localMoment(zoneNamed(calendar.timeZone), instant(at, 'at')));
}

/** What counted on one day, split only where a pause interrupts it; or the day skipped. */
function dayPieces(calendar: BusinessCalendar, zone: Zone, day: number, start: number, stop: number, pauses: readonly [number, number][]): Piece[] {
  const dayStart = zone.instantOf(day * DAY);
  const from = Math.max(dayStart, start);
  const to = Math.min(zone.instantOf((day + 1) * DAY), stop);
  if (to <= from) return [];
  const openings = openingsOn(calendar, day);
  if (openings.length === 0) {
    if (coveredBy(pauses, from, to)) return [];
    return [{ at: dayStart, kind: 'skipped', day, reason: calendar.holidays.has(day) ? 'holiday' : 'closed' }];
  }
  const stretches: [number, number, number][] = [];
  let counted = 0;
  let full = 0;
  for (const [open, close] of openings) {
    full += close - open;
    for (const [a, b] of subtract([Math.max(open, start), Math.min(close, stop)], pauses)) {
      const last = stretches[stretches.length - 1];
      if (last && !pauses.some(([p]) => p >= last[1] && p < a)) {
        last[1] = b;
        last[2] += b - a;
      } else stretches.push([a, b, b - a]);
      counted += b - a;
    }
  }
  return stretches.map(([a, b, ms]) => ({ at: a, kind: 'counted', day, from: a, to: b, ms, whole: counted === full && stretches.length === 1 }));
}

function subtract([from, to]: [number, number], pauses: readonly [number, number][]): [number, number][] {
  const parts: [number, number][] = [];
  let cursor = from;
  for (const [a, b] of pauses) {
    if (b <= cursor || a >= to) continue;
    if (a > cursor) parts.push([cursor, a]);
    cursor = Math.max(cursor, b);
  }
  if (cursor < to) parts.push([cursor, to]);
  return parts;
}

function coveredBy(pauses: readonly [number, number][], from: number, to: number): boolean {
  return subtract([from, to], pauses).length === 0;
}

const WEEKDAY_LABELS = ['Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun'];
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

function localDate(day: number): LocalDate {
  return { date: isoDateOfDay(day), weekday: WEEKDAYS[weekdayOfDay(day)] };
}

function localMoment(zone: Zone, t: number): LocalMoment {
  const wall = zone.wallOf(t);
  const day = Math.floor(wall / DAY);
  const minutes = Math.floor((wall - day * DAY) / MINUTE);
  return { at: new Date(t), ...localDate(day), time: `${String(Math.floor(minutes / 60)).padStart(2, '0')}:${String(minutes % 60).padStart(2, '0')}` };
}

function dayNumber(d: LocalDate): number {
  return Date.parse(`${d.date}T00:00:00Z`) / DAY;
}

function isWeekend(step: { first: LocalDate; last: LocalDate }): boolean {
  for (let day = dayNumber(step.first); day <= dayNumber(step.last); day++) {
    if (weekdayOfDay(day) < 5) return false;
  }
  return true;
}

function dateLabel(d: LocalDate): string {
  const [, month, day] = d.date.split('-').map(Number);
  return `${WEEKDAY_LABELS[WEEKDAYS.indexOf(d.weekday)]} ${day} ${MONTHS[month - 1]}`;
}

function dateRange(step: { first: LocalDate; last: LocalDate }): string {
  return step.first.date === step.last.date ? dateLabel(step.first) : `${dateLabel(step.first)} – ${dateLabel(step.last)}`;
}

function moment(m: LocalMoment): string {
  return `${dateLabel(m)} ${m.time}`;
}

/** A stretch that runs to midnight ends at 24:00 of its own day, not 00:00 of the next. */
function endTime(to: LocalMoment, day: LocalDate): string {
  return to.date !== day.date && to.time === '00:00' ? '24:00' : to.time;
}

function duration(minutes: number): string {
  const whole = Math.round(minutes);
  const h = Math.floor(whole / 60);
  const m = whole % 60;
  if (h === 0) return `${m} m`;
  return m === 0 ? `${h} h` : `${h} h ${m} m`;
}
