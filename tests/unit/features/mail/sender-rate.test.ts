import { decideSenderRate, senderKey, windowStart, type SenderRateLimit } from '../../../../app/features/mail/sender-rate';

const limit: SenderRateLimit = { maxMessages: 3, windowMinutes: 10 };
const t0 = new Date('2026-11-02T10:00:00Z');
const at = (minutes: number) => new Date(t0.getTime() + minutes * 60_000);

describe('decideSenderRate', () => {
  test('when a sender stays within N per window, then every message is allowed and counted', () => {
    expect(decideSenderRate([], at(0), limit)).toEqual({ allowed: true, count: 1, retryAfter: null });
    expect(decideSenderRate([at(0), at(1)], at(2), limit)).toEqual({ allowed: true, count: 3, retryAfter: null });
  });

  test('when the N+1st message comes inside the window, then it is refused with the time the sender could try again', () => {
    const d = decideSenderRate([at(0), at(1), at(2)], at(3), limit);
    expect(d.allowed).toBe(false);
    expect(d.count).toBe(4);
    // With the arrival at 3 recorded too, the sender is back under the limit once 1 and 0 have left: at 1 + 10.
    expect(d.retryAfter).toEqual(at(11));
  });

  test('when the refused sender keeps going, then the refusals count too and the window keeps sliding', () => {
    const arrivals = [at(0), at(1), at(2), at(3), at(4)];
    const d = decideSenderRate(arrivals, at(5), limit);
    // Back under the limit when only 4 and 5 are left in the window: 3 + 10.
    expect(d).toEqual({ allowed: false, count: 6, retryAfter: at(13) });
  });

  test('when the window has passed, then older arrivals no longer count (an arrival exactly a window ago is out)', () => {
    expect(decideSenderRate([at(0), at(1), at(2)], at(10), limit)).toEqual({ allowed: true, count: 3, retryAfter: null });
    expect(decideSenderRate([at(0), at(1), at(2)], at(12.5), limit)).toEqual({ allowed: true, count: 1, retryAfter: null });
  });

  test('when arrivals come unsorted or from a clock slightly ahead, then the decision is the same', () => {
    expect(decideSenderRate([at(2), at(0), at(3.5)], at(3), limit)).toEqual(decideSenderRate([at(0), at(2), at(3)], at(3), limit));
  });

  test('when the retry time comes and nothing more was sent, then the next message is allowed', () => {
    const arrivals = [at(0), at(1), at(2), at(3)];
    const d = decideSenderRate(arrivals.slice(0, 3), at(3), limit);
    expect(decideSenderRate(arrivals, d.retryAfter as Date, limit).allowed).toBe(true);
    expect(decideSenderRate(arrivals, new Date((d.retryAfter as Date).getTime() - 1), limit).allowed).toBe(false);
  });

  test('when the limit is not positive, then it throws rather than refusing or allowing everything', () => {
    expect(() => decideSenderRate([], t0, { maxMessages: 0, windowMinutes: 10 })).toThrow();
    expect(() => decideSenderRate([], t0, { maxMessages: 3, windowMinutes: 0 })).toThrow();
  });
});

describe('windowStart and senderKey', () => {
  test('when the store prunes, then it may forget arrivals at or before now minus the window', () => {
    expect(windowStart(at(30), limit)).toEqual(at(20));
  });

  test('when the same sender writes with different case or spaces, then they count as one', () => {
    expect(senderKey(' Bob@Corp.Example ')).toBe(senderKey('bob@corp.example'));
  });
});
