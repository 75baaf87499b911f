import { exactTime, relativeTime } from '../../../app/web/format';

// The texts are remembered per locale and instant (format.ts); these pin that remembering
// never gives one locale's or one minute's text for another.
describe('times on pages', () => {
  test('when two instants fall in one UTC minute, then they read the same; the next minute reads differently', () => {
    const a = new Date('2026-11-29T16:29:01.000Z');
    const b = new Date('2026-11-29T16:29:59.999Z');
    const c = new Date('2026-11-29T16:30:00.000Z');
    expect(exactTime(a)).toBe('29 Nov 2026, 16:29 UTC');
    expect(exactTime(b)).toBe(exactTime(a));
    expect(exactTime(c)).toBe('29 Nov 2026, 16:30 UTC');
    expect(exactTime(new Date('1969-12-31T23:59:30.000Z'))).toBe('31 Dec 1969, 23:59 UTC');
  });

  test('when the same instant is asked for in two locales, then each gets its own text, again and again', () => {
    const at = new Date('2026-03-02T09:05:00.000Z');
    for (let i = 0; i < 3; i++) {
      expect(exactTime(at, 'en-GB')).toBe('2 Mar 2026, 09:05 UTC');
      expect(exactTime(at, 'de-DE')).toBe('02.03.2026, 09:05 UTC');
    }
  });

  test('when times are relative, then past and future, units and locales each read their own', () => {
    const now = new Date('2026-11-29T12:00:00.000Z');
    const ago = (s: number) => new Date(now.getTime() - s * 1000);
    for (let i = 0; i < 2; i++) {
      expect(relativeTime(ago(10), now)).toBe('just now');
      expect(relativeTime(ago(3 * 3600), now)).toBe('3 hours ago');
      expect(relativeTime(ago(-3 * 3600), now)).toBe('in 3 hours');
      expect(relativeTime(ago(3 * 86400), now)).toBe('3 days ago');
      expect(relativeTime(ago(86400), now)).toBe('yesterday');
      expect(relativeTime(ago(3 * 3600), now, 'de-DE')).toBe('vor 3 Stunden');
      expect(relativeTime(ago(150), now)).toBe('2 minutes ago');
    }
  });
});
