import { backoffMs, classifySendError } from '../../../../app/features/mail/sender';

describe('what an SMTP error means for a notification', () => {
  test.each([
    ['a 4xx answer', { code: 'EMESSAGE', responseCode: 451, response: '451 4.3.0 Try again later', permanent: false }, 'temporary'],
    ['a 5xx answer', { code: 'EENVELOPE', responseCode: 550, response: '550 5.1.1 No such user', permanent: true }, 'permanent'],
    ['503 (bad sequence: a new connection may do)', { code: 'EPROTOCOL', responseCode: 503, response: '503 5.5.1 Bad sequence' }, 'temporary'],
    ['a server that is gone', { code: 'ECONNECTION', message: 'connect ECONNREFUSED 127.0.0.1:25' }, 'temporary'],
    ['a timeout', { code: 'ETIMEDOUT', message: 'Greeting never received' }, 'temporary'],
    ['a refused password (535 is 5xx, but the site fixes it, not the message)', { code: 'EAUTH', responseCode: 535, response: '535 5.7.8 Authentication failed', permanent: true }, 'temporary'],
    ['an address nodemailer will never send to', { code: 'EENVELOPE', message: 'Invalid recipient "x"' }, 'permanent'],
  ])('when it is %s, then the notification is %s', (_what, err, kind) => {
    const v = classifySendError(Object.assign(new Error((err as { message?: string }).message ?? 'x'), err));
    expect(v.kind).toBe(kind);
    expect(v.answer.length).toBeGreaterThan(0);
  });

  test('when the answer is kept, then it is the server\u2019s words with the code, on one line', () => {
    expect(classifySendError(Object.assign(new Error('x'), { code: 'EENVELOPE', responseCode: 550, response: '550 5.1.1 <x@y>:\r\n No such user', permanent: true })).answer).toBe('550 5.1.1 <x@y>: No such user (EENVELOPE)');
  });

  test('when tries keep failing, then each wait doubles from 30 s up to 30 minutes, give or take a tenth', () => {
    const b = { firstMs: 30_000, maxMs: 1_800_000 };
    expect([1, 2, 3, 4, 7, 50].map((n) => backoffMs(n, b, () => 0.5))).toEqual([30_000, 60_000, 120_000, 240_000, 1_800_000, 1_800_000]);
    expect(backoffMs(1, b, () => 0)).toBe(27_000);
    expect(backoffMs(1, b, () => 1)).toBe(33_000);
  });
});
