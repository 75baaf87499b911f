import { detectAutomatic } from '../../../../app/features/mail/auto-reply';
import type { InboundMessage } from '../../../../app/features/mail/inbound-message';
import { EXCHANGE_OOF, GMAIL_EN, NEWSLETTER, OOF_DE_SUBJECT_ONLY, OUTLOOK_DESKTOP_EN, PERSON, POSTFIX_BOUNCE, READ_RECEIPT, parse } from './samples';

function msg(headers: Record<string, string>, over: Partial<InboundMessage> = {}): InboundMessage {
  return {
    headers: Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v] as const),
    subject: 'Printer broken',
    from: 'someone@corp.example',
    text: 'x',
    html: null,
    ...over,
  };
}

describe('detectAutomatic on real machine mail', () => {
  test.each([
    ['an Exchange out-of-office', EXCHANGE_OOF, { kind: 'auto-reply', reason: 'Auto-Submitted: auto-replied' }],
    ['a German out-of-office with no loop headers', OOF_DE_SUBJECT_ONLY, { kind: 'auto-reply', reason: 'Subject: Abwesenheitsnotiz: [#123] Drucker im 2. Stock' }],
    ['a Postfix bounce (folded Content-Type)', POSTFIX_BOUNCE, { kind: 'bounce', reason: 'Content-Type: multipart/report; report-type=delivery-status' }],
    ['a read receipt', READ_RECEIPT, { kind: 'receipt', reason: 'Content-Type: multipart/report; report-type=disposition-notification' }],
    ['a newsletter', NEWSLETTER, { kind: 'mailing-list', reason: 'List-Unsubscribe: <https://vendor.example/unsub?u=1>, <mailto:unsub@vendor.example>' }],
  ])('when it is %s, then it is automatic with the evidence named', async (_what, message, expected) => {
    expect(detectAutomatic(await parse(message))).toEqual(expected);
  });

  test.each([
    ['a person (Auto-Submitted: no, "Out of office" in the subject but no colon)', PERSON],
    ['an Outlook reply', OUTLOOK_DESKTOP_EN],
    ['a Gmail reply', GMAIL_EN],
  ])('when it is %s, then it is not automatic', async (_what, message) => {
    expect(detectAutomatic(await parse(message))).toBeNull();
  });
});

describe('detectAutomatic, one signal at a time', () => {
  test.each([
    [{ 'Auto-Submitted': 'auto-generated' }, 'auto-generated', 'Auto-Submitted: auto-generated'],
    [{ 'Auto-Submitted': 'auto-replied; owner-email="a@b.example"' }, 'auto-reply', 'Auto-Submitted: auto-replied; owner-email="a@b.example"'],
    [{ 'Auto-Submitted': 'auto-notified' }, 'auto-generated', 'Auto-Submitted: auto-notified'],
    [{ Precedence: 'bulk' }, 'bulk', 'Precedence: bulk'],
    [{ Precedence: 'junk' }, 'bulk', 'Precedence: junk'],
    [{ Precedence: 'list' }, 'mailing-list', 'Precedence: list'],
    [{ 'X-Autoreply': 'yes' }, 'auto-reply', 'X-Autoreply: yes'],
    [{ 'X-Autorespond': 'Vacation' }, 'auto-reply', 'X-Autorespond: Vacation'],
    [{ 'List-Id': 'IT announcements <it.lists.corp.example>' }, 'mailing-list', 'List-Id: IT announcements <it.lists.corp.example>'],
    [{ 'Return-Path': '<>' }, 'bounce', 'Return-Path: <>'],
  ])('when the headers are %j, then it is %s', (headers, kind, reason) => {
    expect(detectAutomatic(msg(headers))).toEqual({ kind, reason });
  });

  test.each(['MAILER-DAEMON@mx.corp.example', 'postmaster@corp.example'])('when the sender is %s, then it is a bounce', (from) => {
    expect(detectAutomatic(msg({}, { from }))?.kind).toBe('bounce');
  });

  test.each([
    ['Automatic reply: [#123] Printer', 'auto-reply'],
    ['Automatische Antwort: [#123] Drucker', 'auto-reply'],
    ['Out of Office: Printer', 'auto-reply'],
    ['Out of Office AutoReply: Printer', 'auto-reply'],
    ['Abwesenheitsnotiz: Drucker', 'auto-reply'],
    ['Undeliverable: [#123] Printer', 'bounce'],
    ['Unzustellbar: [#123] Drucker', 'bounce'],
    ['Delivery Status Notification (Failure)', 'bounce'],
  ])('when the subject is "%s", then it is %s', (subject, kind) => {
    expect(detectAutomatic(msg({}, { subject }))?.kind).toBe(kind);
  });

  test.each([
    [{ 'Auto-Submitted': 'no' }, 'Printer broken'],
    [{ 'Auto-Submitted': 'No' }, 'Printer broken'],
    [{ Precedence: 'first-class' }, 'Printer broken'],
    [{ 'X-Autoreply': 'no' }, 'Printer broken'],
    // What Exchange adds to a person's message sent through a distribution group.
    [{ 'X-Auto-Response-Suppress': 'DR, OOF, AutoReply' }, 'Printer broken'],
    [{ 'X-Auto-Response-Suppress': 'All' }, 'Printer broken'],
    [{}, 'Out of office replies are not sent'],
    [{}, 'Re: Automatic replies setup'],
    [{}, 'Postmaster tools question'],
  ])('when a person writes with %j and subject "%s", then it is not automatic', (headers, subject) => {
    expect(detectAutomatic(msg(headers, { subject }))).toBeNull();
  });
});
