import { addBusinessTime, businessMinutesBetween, MAX_TARGET_MINUTES, readClock } from '../../../../app/features/service-levels/business-time';
import { calendarOf, type BusinessCalendar } from '../../../../app/features/service-levels/calendar';
import { ALL_WEEK, hoursOn, MON_FRI } from './arbitraries';

const at = (iso: string) => new Date(iso);
const due = (calendar: BusinessCalendar, start: string, minutes: number) => addBusinessTime(calendar, at(start), minutes).toISOString();

const london = calendarOf({ timeZone: 'Europe/London', hours: hoursOn(MON_FRI, '09:00', '17:30') });

describe('adding business time', () => {
  test('when a ticket arrives Friday 17:30 with an hour to go on 09:00–17:30, then it is due Monday 10:00', () => {
    expect(due(london, '2024-06-07T16:30:00Z', 60)).toBe('2024-06-10T09:00:00.000Z');
  });

  test('when a ticket arrives inside hours, then the minutes count from the moment it arrived', () => {
    expect(due(london, '2024-06-05T10:15:00Z', 45)).toBe('2024-06-05T11:00:00.000Z');
  });

  test('when the day has a lunch break, then the break does not count', () => {
    const lunch = calendarOf({ timeZone: 'Europe/London', hours: { wed: [{ start: '08:00', end: '12:00' }, { start: '13:00', end: '17:00' }] } });
    expect(due(lunch, '2024-06-05T10:30:00Z', 60)).toBe('2024-06-05T12:30:00.000Z');
  });

  test('when the target ends exactly at closing time, then it is due at closing, not at the next opening', () => {
    expect(due(london, '2024-06-07T15:30:00Z', 60)).toBe('2024-06-07T16:30:00.000Z');
  });

  test('when the target is zero, then it is due at once, even outside hours', () => {
    expect(due(london, '2024-06-08T12:00:00Z', 0)).toBe('2024-06-08T12:00:00.000Z');
  });

  test('when it spans Christmas and Boxing Day, then both are skipped with the weekend', () => {
    const uk = calendarOf({ timeZone: 'Europe/London', hours: hoursOn(MON_FRI, '09:00', '17:30'), holidays: ['2024-12-25', '2024-12-26', '2025-01-01'] });
    // Tue 24th 16:30–17:30 (1 h), Fri 27th (8 h 30 m), Mon 30th 09:00–09:30.
    expect(due(uk, '2024-12-24T16:30:00Z', 600)).toBe('2024-12-30T09:30:00.000Z');
    expect(due(uk, '2024-12-31T17:00:00Z', 120)).toBe('2025-01-02T10:30:00.000Z');
  });

  test('when Easter and the last Sunday of March fall together in London, then Tuesday opens at 09:00 summer time', () => {
    const uk = calendarOf({ timeZone: 'Europe/London', hours: hoursOn(MON_FRI, '09:00', '17:30'), holidays: ['2024-03-29', '2024-04-01'] });
    expect(due(uk, '2024-03-28T17:00:00Z', 60)).toBe('2024-04-02T08:30:00.000Z');
  });

  test('when the desk never closes, then a day across the spring change is 24 real hours, 25 on the clocks', () => {
    const always = calendarOf({ timeZone: 'Europe/London', hours: hoursOn(ALL_WEEK, '00:00', '24:00') });
    expect(due(always, '2024-03-30T12:00:00Z', 24 * 60)).toBe('2024-03-31T12:00:00.000Z');
  });

  test('when it spans US Thanksgiving and the day after, then it is due Monday', () => {
    const us = calendarOf({ timeZone: 'America/New_York', hours: hoursOn(MON_FRI, '08:00', '18:00'), holidays: ['2024-11-28', '2024-11-29'] });
    expect(due(us, '2024-11-27T21:00:00Z', 240)).toBe('2024-12-02T15:00:00.000Z');
  });

  test('when Sydney springs forward over a long weekend, then Tuesday opens at 09:00 daylight time', () => {
    const nsw = calendarOf({ timeZone: 'Australia/Sydney', hours: hoursOn(MON_FRI, '09:00', '18:00'), holidays: ['2024-10-07'] });
    expect(due(nsw, '2024-10-04T07:00:00Z', 120)).toBe('2024-10-07T23:00:00.000Z');
  });

  test('when the zone keeps no daylight saving, then Tokyo hours are fixed in UTC', () => {
    const tokyo = calendarOf({ timeZone: 'Asia/Tokyo', hours: hoursOn(MON_FRI, '09:00', '18:00') });
    expect(due(tokyo, '2024-06-07T08:00:00Z', 120)).toBe('2024-06-10T01:00:00.000Z');
  });

  test('when the target is a working week, then it is due at the same time a week later', () => {
    const office = calendarOf({ timeZone: 'Europe/London', hours: hoursOn(MON_FRI, '09:00', '17:00') });
    expect(due(office, '2024-06-05T09:00:00Z', 5 * 8 * 60)).toBe('2024-06-12T09:00:00.000Z');
  });

  test('when every working day for twenty years is a holiday, then it is due after the last one, without searching forever', () => {
    const mondays = Array.from({ length: 1000 }, (_, i) => new Date(Date.UTC(2024, 0, 1 + 7 * i)).toISOString().slice(0, 10));
    const mondaysOnly = calendarOf({ timeZone: 'UTC', hours: { mon: [{ start: '09:00', end: '10:00' }] }, holidays: mondays });
    expect(due(mondaysOnly, '2023-12-31T00:00:00Z', 30)).toBe('2043-03-02T09:30:00.000Z');
  });

  test('when a calendar somehow has no working time, then adding time fails instead of looping', () => {
    const forged = { ...london, week: [[], [], [], [], [], [], []] } as BusinessCalendar;
    expect(() => addBusinessTime(forged, at('2024-06-05T10:00:00Z'), 60)).toThrow(/no working time/);
  });

  test('when the target or the start is not a usable value, then it is refused', () => {
    expect(() => addBusinessTime(london, at('2024-06-05T10:00:00Z'), -1)).toThrow(RangeError);
    expect(() => addBusinessTime(london, at('2024-06-05T10:00:00Z'), Number.NaN)).toThrow(RangeError);
    expect(() => addBusinessTime(london, at('2024-06-05T10:00:00Z'), MAX_TARGET_MINUTES + 1)).toThrow(RangeError);
    expect(() => addBusinessTime(london, new Date(Number.NaN), 60)).toThrow(RangeError);
  });
});

describe('daylight-saving edges', () => {
  const sundays = (timeZone: string, start: string, end: string) => calendarOf({ timeZone, hours: { sun: [{ start, end }] } });
  const sundayMinutes = (calendar: BusinessCalendar, sunday: string) =>
    businessMinutesBetween(calendar, at(`${sunday}T00:00:00Z`), new Date(Date.parse(`${sunday}T00:00:00Z`) + 3 * 86_400_000 - 1));

  test('when the clocks change inside a whole-day span, then the day counts its real length', () => {
    const allSunday = sundays('Europe/London', '00:00', '24:00');
    expect(sundayMinutes(allSunday, '2024-03-30')).toBe(23 * 60);
    expect(sundayMinutes(allSunday, '2024-10-26')).toBe(25 * 60);
    expect(sundayMinutes(allSunday, '2024-06-08')).toBe(24 * 60);
  });

  test('when the clocks change outside the span, then an 08:00–18:00 day is ten hours', () => {
    expect(sundayMinutes(sundays('America/New_York', '08:00', '18:00'), '2024-03-09')).toBe(600);
    expect(sundayMinutes(sundays('Australia/Sydney', '08:00', '18:00'), '2024-10-05')).toBe(600);
  });

  test('when a span starts at a time the clocks skip, then it opens at the jump', () => {
    const skipped = sundays('America/New_York', '02:30', '04:00');
    expect(sundayMinutes(skipped, '2024-03-09')).toBe(60);
    expect(due(skipped, '2024-03-09T17:00:00Z', 1)).toBe('2024-03-10T07:01:00.000Z');
  });

  test('when a span starts at a time the clocks show twice, then it opens at the first showing and stays open', () => {
    const repeated = sundays('America/New_York', '01:30', '03:00');
    expect(sundayMinutes(repeated, '2024-11-02')).toBe(150);
    expect(due(repeated, '2024-11-02T17:00:00Z', 1)).toBe('2024-11-03T05:31:00.000Z');
  });

  test('when a span ends at a time the clocks show twice, then it closes at the first showing', () => {
    expect(sundayMinutes(sundays('America/New_York', '00:00', '01:30'), '2024-11-02')).toBe(90);
  });

  test('when a span lies wholly inside the skipped hour, then that day has no working time and the next week does', () => {
    const ghost = sundays('America/New_York', '02:10', '02:50');
    expect(sundayMinutes(ghost, '2024-03-09')).toBe(0);
    expect(due(ghost, '2024-03-09T17:00:00Z', 10)).toBe('2024-03-17T06:20:00.000Z');
  });
});

describe('business minutes between two instants', () => {
  test('when the second instant is not after the first, then no time has passed', () => {
    expect(businessMinutesBetween(london, at('2024-06-05T12:00:00Z'), at('2024-06-05T11:00:00Z'))).toBe(0);
    expect(businessMinutesBetween(london, at('2024-06-05T12:00:00Z'), at('2024-06-05T12:00:00Z'))).toBe(0);
  });

  test('when the range covers a weekend, then only the open hours count, to the second', () => {
    expect(businessMinutesBetween(london, at('2024-06-07T16:00:00Z'), at('2024-06-10T08:30:30Z'))).toBe(30 + 30.5);
  });
});

describe('a clock that pauses while waiting for the requester', () => {
  const office = calendarOf({ timeZone: 'Europe/London', hours: hoursOn(MON_FRI, '09:00', '17:00') });
  const clock = { start: at('2024-06-03T08:00:00Z'), targetMinutes: 480 };

  test('when it is never paused, then it is due after the target and counts elapsed time to now', () => {
    const reading = readClock(office, clock, at('2024-06-03T12:00:00Z'));
    expect(reading).toEqual({ due: at('2024-06-03T16:00:00Z'), pausedSince: null, elapsedMinutes: 240, remainingMinutes: 240 });
  });

  test('when it was paused and resumed, then the paused working time is added to the due time', () => {
    const paused = { ...clock, pauses: [{ from: at('2024-06-03T10:00:00Z'), to: at('2024-06-04T09:00:00Z') }] };
    const reading = readClock(office, paused, at('2024-06-04T10:00:00Z'));
    expect(reading).toEqual({ due: at('2024-06-04T15:00:00Z'), pausedSince: null, elapsedMinutes: 180, remainingMinutes: 300 });
  });

  test('when it is paused now, then there is no due time, only the minutes left', () => {
    const waiting = { ...clock, pauses: [{ from: at('2024-06-03T10:00:00Z') }] };
    expect(readClock(office, waiting, at('2024-06-04T08:00:00Z'))).toEqual({ due: null, pausedSince: at('2024-06-03T10:00:00Z'), elapsedMinutes: 120, remainingMinutes: 360 });
  });

  test('when the target was already missed before the pause, then the due time stays and the clock goes negative', () => {
    const late = { ...clock, pauses: [{ from: at('2024-06-04T09:00:00Z'), to: null }] };
    expect(readClock(office, late, at('2024-06-05T09:00:00Z'))).toEqual({ due: at('2024-06-03T16:00:00Z'), pausedSince: at('2024-06-04T09:00:00Z'), elapsedMinutes: 540, remainingMinutes: -60 });
  });

  test('when it is paused at the very moment the target is reached, then it was due at that moment, not at the resumption', () => {
    const exact = { ...clock, pauses: [{ from: at('2024-06-03T16:00:00Z'), to: at('2024-06-04T12:00:00Z') }] };
    expect(readClock(office, exact, at('2024-06-04T12:00:00Z')).due).toEqual(at('2024-06-03T16:00:00Z'));
  });

  test('when it was paused only over the weekend, then the due time does not move', () => {
    const friday = { start: at('2024-06-07T14:00:00Z'), targetMinutes: 240 };
    const weekend = { ...friday, pauses: [{ from: at('2024-06-07T16:00:00Z'), to: at('2024-06-10T08:00:00Z') }] };
    expect(readClock(office, weekend, at('2024-06-10T09:00:00Z')).due).toEqual(readClock(office, friday, at('2024-06-10T09:00:00Z')).due);
  });

  test('when pauses overlap or begin before the ticket, then each minute is left out once', () => {
    const messy = {
      ...clock,
      pauses: [
        { from: at('2024-06-03T07:00:00Z'), to: at('2024-06-03T09:00:00Z') },
        { from: at('2024-06-03T10:00:00Z'), to: at('2024-06-03T12:00:00Z') },
        { from: at('2024-06-03T11:00:00Z'), to: at('2024-06-03T13:00:00Z') },
      ],
    };
    expect(readClock(office, messy, at('2024-06-03T16:00:00Z')).elapsedMinutes).toBe(60 + 180);
  });

  test('when a pause ends before it begins, then the clock is refused rather than guessed', () => {
    const broken = { ...clock, pauses: [{ from: at('2024-06-03T12:00:00Z'), to: at('2024-06-03T10:00:00Z') }] };
    expect(() => readClock(office, broken, at('2024-06-03T16:00:00Z'))).toThrow(RangeError);
  });
});
