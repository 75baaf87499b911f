/**
 * Wall-clock time in an IANA time zone, from `Intl.DateTimeFormat` (Node's full ICU).
 *
 * A "wall" value is a local date and time written as milliseconds as if it were UTC:
 * `Date.UTC(2024, 2, 31, 9, 30)` is 09:30 on 31 March 2024 on the zone's clocks.
 * A "day" is a local calendar date as a whole number of days since 1970-01-01.
 *
 * Assumes what every tzdata zone satisfies since the 19th century: offsets lie within
 * ±15 hours, and a zone changes its offset at most once in any 30 hours.
 */

export const MINUTE = 60_000;
export const HOUR = 60 * MINUTE;
export const DAY = 24 * HOUR;

/** Monday is 0, Sunday 6 (1970-01-01, day 0, was a Thursday). */
export function weekdayOfDay(day: number): number {
  return (((day + 3) % 7) + 7) % 7;
}

export function dayOfIsoDate(iso: string): number | null {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(iso);
  if (!m) return null;
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const wall = Date.UTC(y, mo - 1, d);
  const back = new Date(wall);
  // Date.UTC rolls 2024-02-30 over to 1 March; a real date survives the round trip.
  if (back.getUTCFullYear() !== y || back.getUTCMonth() !== mo - 1 || back.getUTCDate() !== d) return null;
  return wall / DAY;
}

export function isoDateOfDay(day: number): string {
  return new Date(day * DAY).toISOString().slice(0, 10);
}

/** The zone's canonical name (`europe/london` → `Europe/London`), or null when ICU does not know it. */
export function canonicalZone(name: string): string | null {
  try {
    return new Intl.DateTimeFormat('en-US', { timeZone: name }).resolvedOptions().timeZone;
  } catch {
    return null;
  }
}

/** One UTC day's offsets: `before` until the instant `change`, `after` from it (equal, and change Infinity, on most days). */
interface OffsetDay {
  before: number;
  after: number;
  change: number;
}

/** Past this many remembered days a zone forgets them all; a day costs about 2 µs to learn again. */
const REMEMBERED_DAYS = 20_000;

export class Zone {
  private readonly format: Intl.DateTimeFormat;
  private readonly days = new Map<number, OffsetDay>();

  constructor(readonly name: string) {
    this.format = new Intl.DateTimeFormat('en-US', {
      timeZone: name,
      hourCycle: 'h23',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
    });
  }

  /** The offset (wall − instant, in ms) in force at the instant t. */
  offsetAt(t: number): number {
    const utcDay = Math.floor(t / DAY);
    let entry = this.days.get(utcDay);
    if (!entry) {
      entry = this.learnDay(utcDay);
      if (this.days.size >= REMEMBERED_DAYS) this.days.clear();
      this.days.set(utcDay, entry);
    }
    return t < entry.change ? entry.before : entry.after;
  }

  wallOf(t: number): number {
    return t + this.offsetAt(t);
  }

  dayOf(t: number): number {
    return Math.floor(this.wallOf(t) / DAY);
  }

  /**
   * The earliest instant whose wall-clock reading is at or after `wall`.
   * An ordinary time has exactly one instant. A time the clocks skip (spring forward)
   * gives the instant they jump; a time they show twice (fall back) gives its first showing.
   * Non-decreasing in `wall`, so wall-clock spans map to ordered, non-overlapping instants.
   */
  instantOf(wall: number): number {
    const early = this.offsetAt(wall - 15 * HOUR);
    const late = this.offsetAt(wall + 15 * HOUR);
    const byEarly = wall - early;
    const byLate = wall - late;
    const earlyFits = this.offsetAt(byEarly) === early;
    const lateFits = this.offsetAt(byLate) === late;
    if (earlyFits && lateFits) return Math.min(byEarly, byLate);
    if (earlyFits) return byEarly;
    if (lateFits) return byLate;
    // In a gap: the change lies between the two readings; find the first instant on the late offset.
    let lo = Math.min(byEarly, byLate);
    let hi = Math.max(byEarly, byLate);
    while (hi - lo > 1) {
      const mid = Math.floor((lo + hi) / 2);
      if (this.offsetAt(mid) === late) hi = mid;
      else lo = mid;
    }
    return hi;
  }

  private rawOffset(t: number): number {
    const whole = t - (((t % 1000) + 1000) % 1000);
    const m = /(\d+)\/(\d+)\/(\d+),? (\d+):(\d+):(\d+)/.exec(this.format.format(whole));
    if (!m) throw new Error(`Cannot read the time in ${this.name} at ${new Date(t).toISOString()}`);
    const wall = Date.UTC(Number(m[3]), Number(m[1]) - 1, Number(m[2]), Number(m[4]), Number(m[5]), Number(m[6]));
    return wall - whole;
  }

  private learnDay(utcDay: number): OffsetDay {
    const start = utcDay * DAY;
    const end = start + DAY;
    const before = this.rawOffset(start);
    const after = this.rawOffset(end);
    if (before === after) return { before, after, change: Infinity };
    // tzdata changes offsets on whole seconds, so a search to the second is exact.
    let lo = start;
    let hi = end;
    while (hi - lo > 1000) {
      const mid = lo + Math.floor((hi - lo) / 2000) * 1000;
      if (this.rawOffset(mid) === before) lo = mid;
      else hi = mid;
    }
    return { before, after, change: hi };
  }
}

const zones = new Map<string, Zone>();

/** The shared, memoised zone for a canonical name (from `canonicalZone`). */
export function zoneNamed(name: string): Zone {
  let zone = zones.get(name);
  if (!zone) {
    zone = new Zone(name);
    zones.set(name, zone);
  }
  return zone;
}
