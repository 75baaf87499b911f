/**
 * `npm run bench:business-time`: how long the service-level arithmetic takes, per call.
 * A micro-benchmark, not a test: figures depend on the machine. Each figure is the median
 * of 7 batches after a warm-up; "first call" is one process's first ever call (zone set-up
 * and learning its offsets), the price a fresh iisnode process pays once.
 */
import { addBusinessTime, businessMinutesBetween, readClock } from '../../app/features/service-levels/business-time';
import { calendarOf } from '../../app/features/service-levels/calendar';
import { explainClock, formatExplanation } from '../../app/features/service-levels/explain';
import { Zone } from '../../app/features/service-levels/zone';

const weekdays = (start: string, end: string) => Object.fromEntries(['mon', 'tue', 'wed', 'thu', 'fri'].map((d) => [d, [{ start, end }]]));
const ukHolidays = ['2025-01-01', '2025-04-18', '2025-04-21', '2025-05-05', '2025-05-26', '2025-08-25', '2025-12-25', '2025-12-26', '2026-01-01', '2026-04-03', '2026-04-06'];
const london = calendarOf({ timeZone: 'Europe/London', hours: weekdays('08:00', '18:00'), holidays: ukHolidays });
const MINUTE = 60_000;
const YEAR_START = Date.UTC(2025, 0, 1);
/** Starts spread over a year at odd minutes, so the figures are not one lucky day. */
const starts = Array.from({ length: 997 }, (_, i) => new Date(YEAR_START + i * 527 * MINUTE));

let sink = 0;
function measure(label: string, perBatch: number, run: (i: number) => number): void {
  for (let i = 0; i < perBatch; i++) sink += run(i);
  const batches: number[] = [];
  for (let b = 0; b < 7; b++) {
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < perBatch; i++) sink += run(i);
    batches.push(Number(process.hrtime.bigint() - t0) / perBatch);
  }
  batches.sort((a, b) => a - b);
  const ns = batches[3];
  console.log(`${label.padEnd(70)} ${ns >= 1e6 ? `${(ns / 1e6).toFixed(2)} ms` : `${(ns / 1e3).toFixed(1)} µs`}`);
}

const t0 = process.hrtime.bigint();
sink += addBusinessTime(london, starts[0], 600).getTime();
console.log(`${'first call in the process (1 working day)'.padEnd(70)} ${(Number(process.hrtime.bigint() - t0) / 1e6).toFixed(2)} ms`);

measure('a zone set up (one Intl.DateTimeFormat per zone and process)', 200, () => new Zone('America/New_York').offsetAt(YEAR_START));
const newYork = new Zone('America/New_York');
let unseen = 0;
measure('a zone learning one more day of offsets (2 Intl calls)', 2000, () => newYork.offsetAt(YEAR_START + unseen++ * 86_400_000));

const at = (i: number) => starts[i % starts.length];
measure('addBusinessTime, 1 hour', 5000, (i) => addBusinessTime(london, at(i), 60).getTime());
measure('addBusinessTime, 1 working day (10 h)', 5000, (i) => addBusinessTime(london, at(i), 600).getTime());
measure('addBusinessTime, 2 weeks (100 h)', 2000, (i) => addBusinessTime(london, at(i), 6000).getTime());
measure('addBusinessTime, 10 weeks (500 h)', 500, (i) => addBusinessTime(london, at(i), 30_000).getTime());
measure('businessMinutesBetween, 1 year apart', 200, (i) => businessMinutesBetween(london, at(i), new Date(at(i).getTime() + 365 * 86_400_000)));

const pauses = (i: number) => [
  { from: new Date(at(i).getTime() + 90 * MINUTE), to: new Date(at(i).getTime() + 1500 * MINUTE) },
  { from: new Date(at(i).getTime() + 3000 * MINUTE), to: new Date(at(i).getTime() + 4000 * MINUTE) },
];
const clock = (i: number, targetMinutes: number) => ({ start: at(i), targetMinutes, pauses: pauses(i) });
const now = (i: number) => new Date(at(i).getTime() + 5 * 86_400_000);
measure('readClock, 2-week target, 2 pauses', 2000, (i) => readClock(london, clock(i, 6000), now(i)).elapsedMinutes);
measure('queue page: 100 tickets × (first response 1 h + resolution 2 weeks)', 20, (p) => {
  let s = 0;
  for (let i = 0; i < 100; i++) {
    s += readClock(london, clock(p * 100 + i, 60), now(p * 100 + i)).elapsedMinutes;
    s += readClock(london, clock(p * 100 + i, 6000), now(p * 100 + i)).elapsedMinutes;
  }
  return s;
});
measure('explainClock + formatExplanation, 2-week target, 2 pauses', 1000, (i) => formatExplanation(explainClock(london, clock(i, 6000))).length);

if (sink === 42) console.log('');
