import { MAX_HOLIDAYS, parseCalendar, type CalendarInput } from '../../../../app/features/service-levels/calendar';

const officeHours: CalendarInput['hours'] = { mon: [{ start: '08:00', end: '18:00' }], tue: [{ start: '08:00', end: '18:00' }] };
const problemsOf = (input: CalendarInput) => {
  const result = parseCalendar(input);
  return result.ok ? [] : result.problems.map((p) => p.field);
};

describe('parsing a business calendar', () => {
  test('when the calendar is good, then it is normalised: canonical zone, joined spans, sorted holidays', () => {
    const result = parseCalendar({
      timeZone: ' europe/london ',
      hours: { mon: [{ start: '13:00', end: '17:00' }, { start: '8:00', end: '13:00' }] },
      holidays: ['2025-12-26', '2025-12-25'],
    });
    if (!result.ok) throw new Error(JSON.stringify(result.problems));
    expect(result.calendar.timeZone).toBe('Europe/London');
    expect(result.calendar.week[0]).toEqual([{ start: 8 * 60, end: 17 * 60 }]);
    expect(result.calendar.week.slice(1).every((day) => day.length === 0)).toBe(true);
    expect(result.calendar.input.holidays).toEqual(['2025-12-25', '2025-12-26']);
    expect(result.calendar.input.hours.mon).toEqual([{ start: '13:00', end: '17:00' }, { start: '08:00', end: '13:00' }]);
  });

  test('when the time zone is unknown or empty, then the zone field says so', () => {
    expect(problemsOf({ timeZone: 'Mars/Olympus_Mons', hours: officeHours })).toEqual(['timeZone']);
    expect(problemsOf({ timeZone: '', hours: officeHours })).toEqual(['timeZone']);
  });

  test('when a time is malformed, then that time is named', () => {
    expect(problemsOf({ timeZone: 'UTC', hours: { mon: [{ start: '8am', end: '17:60' }] } })).toEqual(['hours.mon.0.start', 'hours.mon.0.end']);
    expect(problemsOf({ timeZone: 'UTC', hours: { tue: [{ start: '24:00', end: '24:00' }] } })).toEqual(['hours.tue.0.start']);
    expect(problemsOf({ timeZone: 'UTC', hours: { tue: [{ start: '', end: '25:00' }] } })).toEqual(['hours.tue.0.start', 'hours.tue.0.end']);
  });

  test('when a span ends before it starts or runs past midnight, then its end is named', () => {
    expect(problemsOf({ timeZone: 'UTC', hours: { wed: [{ start: '18:00', end: '08:00' }] } })).toEqual(['hours.wed.0.end']);
    expect(problemsOf({ timeZone: 'UTC', hours: { wed: [{ start: '09:00', end: '09:00' }] } })).toEqual(['hours.wed.0.end']);
  });

  test('when two spans of a day overlap, then the later one is named with both in the message', () => {
    const result = parseCalendar({ timeZone: 'UTC', hours: { thu: [{ start: '12:30', end: '17:00' }, { start: '08:00', end: '13:00' }] } });
    expect(result.ok ? [] : result.problems).toEqual([{ field: 'hours.thu.0.start', message: expect.stringContaining('08:00–13:00 and 12:30–17:00') }]);
  });

  test('when no day has working hours, then the hours as a whole are named', () => {
    expect(problemsOf({ timeZone: 'UTC', hours: {} })).toEqual(['hours']);
    expect(problemsOf({ timeZone: 'UTC', hours: { fri: [] } })).toEqual(['hours']);
  });

  test('when a holiday is not a real date or is listed twice, then that entry is named', () => {
    expect(problemsOf({ timeZone: 'UTC', hours: officeHours, holidays: ['2025-02-30', '25/12/2025', '2025-12-25', '2025-12-25'] })).toEqual(['holidays.0', 'holidays.1', 'holidays.3']);
  });

  test('when there are more holidays than the limit, then the list is refused as a whole', () => {
    const many = Array.from({ length: MAX_HOLIDAYS + 1 }, (_, i) => new Date(Date.UTC(2025, 0, 1 + i)).toISOString().slice(0, 10));
    expect(problemsOf({ timeZone: 'UTC', hours: officeHours, holidays: many })).toEqual(['holidays']);
  });
});
