import fc from 'fast-check';
import { addBusinessTime, businessMinutesBetween, readClock, type Pause } from '../../../../app/features/service-levels/business-time';
import { calendarOf } from '../../../../app/features/service-levels/calendar';
import { explainClock, formatExplanation } from '../../../../app/features/service-levels/explain';
import { DAY, hoursOn, instantArb, MINUTE, MON_FRI, openByWall, scenarioArb, targetArb, wallAt, ZONES } from './arbitraries';

const add = (s: { calendar: Parameters<typeof addBusinessTime>[0] }, from: Date | number, minutes: number) => addBusinessTime(s.calendar, new Date(from), minutes);
const between = (s: { calendar: Parameters<typeof addBusinessTime>[0] }, a: Date | number, b: Date | number) => businessMinutesBetween(s.calendar, new Date(a), new Date(b));

describe('business time, for any calendar, zone and start', () => {
  test('when m business minutes are added, then exactly m business minutes lie between start and due', () => {
    fc.assert(
      fc.property(scenarioArb(), targetArb, (s, m) => {
        expect(between(s, s.start, add(s, s.start, m))).toBe(m);
      }),
    );
  });

  test('when more minutes are added, then the due instant is never earlier', () => {
    fc.assert(
      fc.property(scenarioArb(), targetArb, targetArb, (s, m1, m2) => {
        const [small, large] = m1 <= m2 ? [m1, m2] : [m2, m1];
        expect(add(s, s.start, small).getTime()).toBeLessThanOrEqual(add(s, s.start, large).getTime());
      }),
    );
  });

  test('when m1 then m2 minutes are added, then it is the same as adding m1 + m2', () => {
    fc.assert(
      fc.property(scenarioArb(), targetArb, targetArb, (s, m1, m2) => {
        expect(add(s, add(s, s.start, m1), m2)).toEqual(add(s, s.start, m1 + m2));
      }),
    );
  });

  test('when anything is due, then the wall clock just before it shows a working day, no holiday, inside a span', () => {
    fc.assert(
      fc.property(scenarioArb(), targetArb, (s, m) => {
        const t = add(s, s.start, m).getTime() - 1;
        const wall = wallAt(s.zone, t);
        // An opening that began before the clocks fell back stays open through the repeated hour.
        const hourAgo = wallAt(s.zone, t - 60 * MINUTE);
        const continued = hourAgo.offset > wall.offset && openByWall(s.input, { ...wall, minute: wall.minute + (hourAgo.offset - wall.offset) / MINUTE });
        expect({ wall, open: openByWall(s.input, wall) || continued }).toEqual({ wall, open: true });
      }),
    );
  });

  test('when a range is split at any point, then its business minutes are the sum of the parts', () => {
    fc.assert(
      fc.property(scenarioArb(), fc.integer({ min: 0, max: 10 * 1440 }), fc.integer({ min: 0, max: 10 * 1440 }), (s, x, y) => {
        const a = s.start.getTime();
        const [b, c] = [a + Math.min(x, y) * MINUTE, a + Math.max(x, y) * MINUTE];
        expect(between(s, a, b) + between(s, b, c)).toBeCloseTo(between(s, a, c), 9);
      }),
    );
  });

  test('when counted minute by minute on the wall clock, then business minutes agree (spans away from the repeated hour)', () => {
    fc.assert(
      fc.property(scenarioArb({ grid: 30, avoidRepeated: true }), fc.integer({ min: 0, max: 3 * 1440 }), (s, length) => {
        const a = s.start.getTime();
        let open = 0;
        for (let t = a; t < a + length * MINUTE; t += MINUTE) if (openByWall(s.input, wallAt(s.zone, t))) open++;
        expect(between(s, a, a + length * MINUTE)).toBe(open);
      }),
      { numRuns: 60 },
    );
  });

  test('when the target is whole working weeks on Mon–Fri 09:00–17:00, then it is due at the same wall time that many weeks on', () => {
    const scenario = fc.constantFrom(...ZONES).chain((zone) => fc.record({ zone: fc.constant(zone), day: instantArb(zone), minute: fc.integer({ min: 9 * 60 + 1, max: 17 * 60 - 1 }), weeks: fc.integer({ min: 1, max: 4 }) }));
    fc.assert(
      fc.property(scenario, ({ zone, day, minute, weeks }) => {
        const office = calendarOf({ timeZone: zone, hours: hoursOn(MON_FRI, '09:00', '17:00') });
        const start = instantAtWall(zone, wallAt(zone, day.getTime()).date, minute);
        fc.pre(!['sat', 'sun'].includes(wallAt(zone, start).weekday));
        const due = addBusinessTime(office, new Date(start), weeks * 5 * 8 * 60);
        const [before, after] = [wallAt(zone, start), wallAt(zone, due.getTime())];
        expect({ weekday: after.weekday, minute: after.minute, days: Math.round((Date.parse(after.date) - Date.parse(before.date)) / DAY) }).toEqual({ weekday: before.weekday, minute, days: 7 * weeks });
      }),
    );
  });
});

describe('a clock that pauses, for any calendar, zone and start', () => {
  const readAt = (s: { calendar: Parameters<typeof readClock>[0]; start: Date }, targetMinutes: number, pauses: Pause[], now: Date | number) =>
    readClock(s.calendar, { start: s.start, targetMinutes, pauses }, new Date(now));

  test('when it pauses only while the desk is closed, then the due time does not move', () => {
    fc.assert(
      fc.property(scenarioArb(), targetArb, fc.integer({ min: -2 * 1440, max: 30 * 1440 }), (s, m, offset) => {
        const from = s.start.getTime() + offset * MINUTE;
        // The instant the clock would next count from: a pause up to it costs no business time.
        const to = Math.max(from, add(s, from, 1).getTime() - MINUTE);
        expect(between(s, from, to)).toBe(0);
        expect(readAt(s, m, [{ from: new Date(from), to: new Date(to) }], to).due).toEqual(add(s, s.start, m));
      }),
    );
  });

  test('when it pauses for p business minutes before it is due, then it is due exactly p business minutes later', () => {
    fc.assert(
      fc.property(scenarioArb(), targetArb, fc.integer({ min: 0, max: 999 }), fc.integer({ min: 0, max: 5 * 1440 }), (s, m, share, length) => {
        const due = add(s, s.start, m).getTime();
        const from = s.start.getTime() + Math.floor(((due - s.start.getTime()) * share) / 1000);
        const to = from + length * MINUTE;
        const p = between(s, from, to);
        expect(readAt(s, m, [{ from: new Date(from), to: new Date(to) }], to).due).toEqual(add(s, due, p));
      }),
    );
  });

  test('when it is paused now, short of its target, then it has no due time and keeps what was left at the pause', () => {
    fc.assert(
      fc.property(scenarioArb(), targetArb, fc.integer({ min: 0, max: 999 }), fc.integer({ min: 0, max: 30 * 1440 }), (s, m, share, later) => {
        const due = add(s, s.start, m).getTime();
        const from = s.start.getTime() + Math.floor(((due - s.start.getTime()) * share) / 1000);
        const counted = between(s, s.start, from);
        const reading = readAt(s, m, [{ from: new Date(from) }], from + later * MINUTE);
        expect(reading).toEqual({ due: null, pausedSince: new Date(from), elapsedMinutes: counted, remainingMinutes: expect.closeTo(m - counted, 9) });
      }),
    );
  });

  const pausesArb = (start: Date) =>
    fc
      .array(fc.record({ at: fc.integer({ min: -1440, max: 20 * 1440 }), length: fc.integer({ min: 0, max: 4 * 1440 }), open: fc.integer({ min: 0, max: 7 }).map((n) => n === 0) }), { maxLength: 4 })
      .map((ps) => ps.map(({ at, length, open }): Pause => ({ from: new Date(start.getTime() + at * MINUTE), to: open ? null : new Date(start.getTime() + (at + length) * MINUTE) })));
  const withPauses = scenarioArb().chain((s) => fc.record({ s: fc.constant(s), m: targetArb, pauses: pausesArb(s.start) }));

  test('when read at its due instant, then exactly the target has elapsed, and elapsed time never runs backwards', () => {
    fc.assert(
      fc.property(withPauses, fc.integer({ min: 0, max: 40 * 1440 }), fc.integer({ min: 0, max: 40 * 1440 }), ({ s, m, pauses }, x, y) => {
        const [early, late] = [s.start.getTime() + Math.min(x, y) * MINUTE, s.start.getTime() + Math.max(x, y) * MINUTE];
        expect(readAt(s, m, pauses, early).elapsedMinutes).toBeLessThanOrEqual(readAt(s, m, pauses, late).elapsedMinutes);
        const due = readAt(s, m, pauses, s.start).due;
        if (due) expect(readAt(s, m, pauses, due)).toMatchObject({ elapsedMinutes: m, remainingMinutes: 0 });
      }),
    );
  });

  test('when a due time is explained, then the steps run in order, count the target and end at the same due instant', () => {
    fc.assert(
      fc.property(withPauses, ({ s, m, pauses }) => {
        const steps = explainClock(s.calendar, { start: s.start, targetMinutes: m, pauses });
        const reading = readAt(s, m, pauses, s.start);
        const counted = steps.reduce((sum, step) => sum + (step.kind === 'counted' ? step.minutes : 0), 0);
        const last = steps[steps.length - 1];
        expect(last).toEqual(reading.due ? expect.objectContaining({ kind: 'due', at: expect.objectContaining({ at: reading.due }) }) : expect.objectContaining({ kind: 'waiting' }));
        expect(counted + (last.kind === 'waiting' ? last.remainingMinutes : 0)).toBeCloseTo(m, 6);
        const times = steps.flatMap((step) => ('from' in step ? [step.from.at.getTime(), ...(step.to ? [step.to.at.getTime()] : [])] : []));
        expect(times).toEqual([...times].sort((a, b) => a - b));
        expect(formatExplanation(steps)).toMatch(/^Raised .*; (due|.* left when the clock resumes)/);
      }),
    );
  });
});

/** The instant the zone's clocks show `minute` on `date`, for times no clock change comes near. */
function instantAtWall(zone: string, date: string, minute: number): number {
  const wall = Date.parse(`${date}T00:00:00Z`) + minute * MINUTE;
  let t = wall - wallAt(zone, wall).offset;
  t = wall - wallAt(zone, t).offset;
  return t;
}
