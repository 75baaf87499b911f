import { calendarOf } from '../../../../app/features/service-levels/calendar';
import { explainClock, formatExplanation } from '../../../../app/features/service-levels/explain';
import { ALL_WEEK, hoursOn, MON_FRI } from './arbitraries';

const at = (iso: string) => new Date(iso);

describe('explaining a due time', () => {
  const christmas = calendarOf({ timeZone: 'Europe/London', hours: hoursOn(MON_FRI, '08:00', '18:00'), holidays: ['2023-12-25'] });

  test('when a ticket is raised late on Friday before Christmas, then the hover text walks through the weekend and the holiday', () => {
    const text = formatExplanation(explainClock(christmas, { start: at('2023-12-22T16:30:00Z'), targetMinutes: 180 }));
    expect(text).toBe('Raised Fri 22 Dec 16:30; 1 h 30 m on Fri 22 Dec, 16:30–18:00; weekend skipped; Mon 25 Dec holiday skipped; 1 h 30 m on Tue 26 Dec, 08:00–09:30; due Tue 26 Dec 09:30');
  });

  test('when the steps are read as data, then each carries its local date and time and the due instant', () => {
    const steps = explainClock(christmas, { start: at('2023-12-22T16:30:00Z'), targetMinutes: 180 });
    expect(steps.map((s) => s.kind)).toEqual(['raised', 'counted', 'skipped', 'skipped', 'counted', 'due']);
    expect(steps[2]).toEqual({ kind: 'skipped', reason: 'weekend', first: { date: '2023-12-23', weekday: 'sat' }, last: { date: '2023-12-24', weekday: 'sun' }, days: 2 });
    expect(steps[5]).toEqual({ kind: 'due', at: { at: at('2023-12-26T09:30:00Z'), date: '2023-12-26', weekday: 'tue', time: '09:30' } });
  });

  test('when the target is two weeks, then whole working days are told as one step per week', () => {
    const office = calendarOf({ timeZone: 'Europe/London', hours: hoursOn(MON_FRI, '08:00', '18:00') });
    const text = formatExplanation(explainClock(office, { start: at('2024-06-03T09:00:00Z'), targetMinutes: 10 * 600 }));
    expect(text).toBe(
      'Raised Mon 3 Jun 10:00; 8 h on Mon 3 Jun, 10:00–18:00; 40 h over 4 working days, Tue 4 Jun – Fri 7 Jun; weekend skipped; ' +
        '50 h over 5 working days, Mon 10 Jun – Fri 14 Jun; weekend skipped; 2 h on Mon 17 Jun, 08:00–10:00; due Mon 17 Jun 10:00',
    );
  });

  test('when consecutive holidays and closed weekdays follow each other, then each run is one step', () => {
    const uk = calendarOf({ timeZone: 'Europe/London', hours: { mon: [{ start: '09:00', end: '17:00' }], tue: [{ start: '09:00', end: '17:00' }], fri: [{ start: '09:00', end: '17:00' }] }, holidays: ['2024-12-24', '2024-12-27'] });
    const text = formatExplanation(explainClock(uk, { start: at('2024-12-23T16:00:00Z'), targetMinutes: 120 }));
    expect(text).toBe('Raised Mon 23 Dec 16:00; 1 h on Mon 23 Dec, 16:00–17:00; Tue 24 Dec holiday skipped; Wed 25 Dec – Thu 26 Dec closed; Fri 27 Dec holiday skipped; weekend skipped; 1 h on Mon 30 Dec, 09:00–10:00; due Mon 30 Dec 10:00');
  });

  describe('with pauses', () => {
    const office = calendarOf({ timeZone: 'Europe/London', hours: hoursOn(MON_FRI, '09:00', '17:00') });
    const start = at('2024-06-03T08:00:00Z');

    test('when the ticket waited for the requester, then the pause and the working time it did not count are told', () => {
      const text = formatExplanation(explainClock(office, { start, targetMinutes: 480, pauses: [{ from: at('2024-06-03T10:00:00Z'), to: at('2024-06-04T09:00:00Z') }] }));
      expect(text).toBe(
        'Raised Mon 3 Jun 09:00; 2 h on Mon 3 Jun, 09:00–11:00; paused Mon 3 Jun 11:00 – Tue 4 Jun 10:00, waiting for the requester (7 h not counted); ' +
          '6 h on Tue 4 Jun, 10:00–16:00; due Tue 4 Jun 16:00',
      );
    });

    test('when it is still waiting, then the explanation ends with what is left', () => {
      const text = formatExplanation(explainClock(office, { start, targetMinutes: 480, pauses: [{ from: at('2024-06-03T10:00:00Z') }] }));
      expect(text).toBe('Raised Mon 3 Jun 09:00; 2 h on Mon 3 Jun, 09:00–11:00; paused since Mon 3 Jun 11:00, waiting for the requester; 6 h left when the clock resumes');
    });

    test('when it waited over a whole weekend, then the weekend is part of the pause, not skipped as well', () => {
      const friday = at('2024-06-07T08:00:00Z');
      const text = formatExplanation(explainClock(office, { start: friday, targetMinutes: 480, pauses: [{ from: at('2024-06-07T14:00:00Z'), to: at('2024-06-10T09:00:00Z') }] }));
      expect(text).toBe(
        'Raised Fri 7 Jun 09:00; 6 h on Fri 7 Jun, 09:00–15:00; paused Fri 7 Jun 15:00 – Mon 10 Jun 10:00, waiting for the requester (3 h not counted); ' +
          '2 h on Mon 10 Jun, 10:00–12:00; due Mon 10 Jun 12:00',
      );
    });

    test('when it waited only outside hours, then the pause is told as costing nothing', () => {
      const text = formatExplanation(explainClock(office, { start, targetMinutes: 600, pauses: [{ from: at('2024-06-03T17:00:00Z'), to: at('2024-06-04T07:00:00Z') }] }));
      expect(text).toBe(
        'Raised Mon 3 Jun 09:00; 8 h on Mon 3 Jun, 09:00–17:00; paused Mon 3 Jun 18:00 – Tue 4 Jun 08:00, waiting for the requester (no working time lost); ' +
          '2 h on Tue 4 Jun, 09:00–11:00; due Tue 4 Jun 11:00',
      );
    });
  });

  test('when a round-the-clock desk reaches its target at midnight, then the stretch ends at 24:00', () => {
    const always = calendarOf({ timeZone: 'Europe/London', hours: hoursOn(ALL_WEEK, '00:00', '24:00') });
    const text = formatExplanation(explainClock(always, { start: at('2024-06-08T11:00:00Z'), targetMinutes: 720 }));
    expect(text).toBe('Raised Sat 8 Jun 12:00; 12 h on Sat 8 Jun, 12:00–24:00; due Sun 9 Jun 00:00');
  });
});
