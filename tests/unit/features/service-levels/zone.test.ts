import fc from 'fast-check';
import { Zone } from '../../../../app/features/service-levels/zone';
import { DAY, MINUTE, wallAt } from './arbitraries';

// Lord Howe moves its clocks by 30 minutes; Santiago changes at midnight, so whole local dates start at 01:00.
const ZONES = ['Europe/London', 'America/New_York', 'Australia/Sydney', 'Asia/Tokyo', 'Australia/Lord_Howe', 'America/Santiago'];

/** The instants at which each zone's clocks changed in 2024–2025, found hour by hour, then minute by minute, with Intl. */
function changes(zone: string): number[] {
  const found: number[] = [];
  let previous = wallAt(zone, Date.UTC(2024, 0, 1)).offset;
  for (let t = Date.UTC(2024, 0, 1) + 60 * MINUTE; t < Date.UTC(2026, 0, 1); t += 60 * MINUTE) {
    const offset = wallAt(zone, t).offset;
    if (offset === previous) continue;
    let exact = t - 60 * MINUTE;
    while (wallAt(zone, exact).offset === previous) exact += MINUTE;
    found.push(exact);
    previous = offset;
  }
  return found;
}

describe('wall-clock time in a zone', () => {
  const changesByZone = Object.fromEntries(ZONES.map((z) => [z, changes(z)]));

  test('when the clock changes are looked up with Intl, then each zone has the ones it is known for', () => {
    expect(Object.fromEntries(ZONES.map((z) => [z, changesByZone[z].length]))).toEqual({
      'Europe/London': 4,
      'America/New_York': 4,
      'Australia/Sydney': 4,
      'Asia/Tokyo': 0,
      'Australia/Lord_Howe': 4,
      'America/Santiago': 4,
    });
  });

  test('when looking for the instant of a wall time, then it is the first instant the clocks show that time or later', () => {
    const near = fc.constantFrom(...ZONES).chain((zone) =>
      fc.record({ zone: fc.constant(zone), wall: fc.tuple(fc.constantFrom(Date.UTC(2024, 6, 1), ...changesByZone[zone]), fc.integer({ min: -180, max: 180 })).map(([t, m]) => t + wallAt(zone, t - DAY).offset + m * MINUTE) }),
    );
    fc.assert(
      fc.property(near, ({ zone, wall }) => {
        let first = wall - 15 * 60 * MINUTE;
        while (first + wallAt(zone, first).offset < wall) first += MINUTE;
        expect(new Zone(zone).instantOf(wall)).toBe(first);
      }),
      { numRuns: 80 },
    );
  });

  test('when reading the offset at any instant, then it matches Intl, across the changes found', () => {
    fc.assert(
      fc.property(fc.constantFrom(...ZONES), fc.integer({ min: Date.UTC(2024, 0, 1) / 1000, max: Date.UTC(2026, 0, 1) / 1000 }), (zone, seconds) => {
        const zoneClock = new Zone(zone);
        for (const t of [seconds * 1000, ...changesByZone[zone]]) {
          expect({ t, offset: zoneClock.offsetAt(t) }).toEqual({ t, offset: wallAt(zone, t).offset });
          expect({ t, offset: zoneClock.offsetAt(t - 1) }).toEqual({ t, offset: wallAt(zone, t - 1).offset });
        }
      }),
      { numRuns: 30 },
    );
  });

  test('when Samoa skipped 30 December 2011, then every time that day is the instant of the jump', () => {
    const apia = new Zone('Pacific/Apia');
    expect(new Date(apia.instantOf(Date.UTC(2011, 11, 30, 9, 0))).toISOString()).toBe('2011-12-30T10:00:00.000Z');
    expect(apia.instantOf(Date.UTC(2011, 11, 30, 23, 59))).toBe(apia.instantOf(Date.UTC(2011, 11, 31, 0, 0)));
  });
});
