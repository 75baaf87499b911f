import {
  mailHost,
  messageIdsIn,
  notificationMessageId,
  parseOurMessageId,
  ticketFromReferences,
  ticketFromSubject,
  ticketRootMessageId,
  titleFromSubject,
  withoutSubjectPrefixes,
  type ThreadingContext,
} from '../../../../app/features/mail/threading';
import { header } from '../../../../app/features/mail/inbound-message';
import { GMAIL_EN, OUTLOOK_DESKTOP_EN, parse, raw } from './samples';

const ctx: ThreadingContext = { host: 'helpdesk.corp.example', key: 'a-test-key-derived-from-the-app-secret' };

describe('mailHost', () => {
  test('when only DESKSIDE_PUBLIC_URL is set, then its host name (lower-case, no port) is the host', () => {
    expect(mailHost({ publicUrl: 'https://HelpDesk.Corp.Example:8443/deskside/' })).toBe('helpdesk.corp.example');
  });

  test('when a mail domain is configured, then it wins over the public URL', () => {
    expect(mailHost({ domain: 'Mail.Corp.Example', publicUrl: 'https://helpdesk.corp.example' })).toBe('mail.corp.example');
  });

  test.each([[{}], [{ publicUrl: 'not a url' }], [{ domain: 'bad host!' }], [{ publicUrl: 'http://[::1]:3000/' }]])('when %j gives no DNS name, then it throws', (opts) => {
    expect(() => mailHost(opts)).toThrow();
  });
});

describe('Message-IDs we make', () => {
  test('when a ticket’s root and a notification’s id are made, then they have the documented shapes and our host', () => {
    expect(ticketRootMessageId(123, ctx)).toMatch(/^<ticket-123\.[0-9a-f]{16}@helpdesk\.corp\.example>$/);
    expect(notificationMessageId({ ticketId: 123, eventId: 456, recipient: 'bob@corp.example' }, ctx)).toMatch(/^<ticket-123\.event-456\.[0-9a-f]{8}\.[0-9a-f]{16}@helpdesk\.corp\.example>$/);
  });

  test('when the same notification is made again (a retry), then its Message-ID is the same; another recipient or event gets another', () => {
    const id = (eventId: number, recipient: string) => notificationMessageId({ ticketId: 123, eventId, recipient }, ctx);
    expect(id(456, 'bob@corp.example')).toBe(id(456, ' BOB@corp.example'));
    expect(id(456, 'bob@corp.example')).not.toBe(id(456, 'carol@corp.example'));
    expect(id(456, 'bob@corp.example')).not.toBe(id(457, 'bob@corp.example'));
    expect(ticketRootMessageId(123, ctx)).toBe(ticketRootMessageId(123, ctx));
  });

  test('when an id is not a positive integer, then making a Message-ID throws', () => {
    expect(() => ticketRootMessageId(0, ctx)).toThrow();
    expect(() => notificationMessageId({ ticketId: 1, eventId: 1.5, recipient: 'x@y' }, ctx)).toThrow();
  });

  test('when our ids are parsed back, then they give their ticket and event', () => {
    expect(parseOurMessageId(ticketRootMessageId(123, ctx), ctx)).toEqual({ ticketId: 123, eventId: null });
    expect(parseOurMessageId(notificationMessageId({ ticketId: 123, eventId: 456, recipient: 'bob@corp.example' }, ctx), ctx)).toEqual({ ticketId: 123, eventId: 456 });
    expect(parseOurMessageId(ticketRootMessageId(123, ctx).toUpperCase().replace('HELPDESK.CORP.EXAMPLE', 'HelpDesk.corp.example'), ctx)).toEqual({ ticketId: 123, eventId: null });
  });

  test('when an id is forged, from another host, made with another key or someone else’s, then it is not ours', () => {
    const root = ticketRootMessageId(123, ctx);
    const forged = root.replace('ticket-123', 'ticket-124');
    expect(parseOurMessageId(forged, ctx)).toBeNull();
    expect(parseOurMessageId('<ticket-123@helpdesk.corp.example>', ctx)).toBeNull();
    expect(parseOurMessageId(root.replace('helpdesk.corp.example', 'evil.example'), ctx)).toBeNull();
    expect(parseOurMessageId(ticketRootMessageId(123, { ...ctx, key: 'another key' }), ctx)).toBeNull();
    expect(parseOurMessageId('<CAF=abc123@mail.gmail.com>', ctx)).toBeNull();
  });
});

describe('ticketFromReferences', () => {
  const root = ticketRootMessageId(123, ctx);
  const note = notificationMessageId({ ticketId: 123, eventId: 456, recipient: 'bob@corp.example' }, ctx);

  test('when a real client’s reply carries our ids in In-Reply-To and References, then the ticket is found', async () => {
    const message = await parse(OUTLOOK_DESKTOP_EN.replace('Message-ID: <reply-1@mail.example>', `Message-ID: <reply-1@mail.example>\r\nIn-Reply-To: ${note}\r\nReferences: ${root}\r\n ${note}`));
    expect(ticketFromReferences({ inReplyTo: header(message, 'in-reply-to'), references: header(message, 'references') }, ctx)).toBe(123);
  });

  test('when In-Reply-To is someone else’s but References holds our root, then the ticket is still found', () => {
    expect(ticketFromReferences({ inReplyTo: '<other@mail.example>', references: `<a@x.example> ${root} <other@mail.example>` }, ctx)).toBe(123);
  });

  test('when In-Reply-To points at one ticket and References at another, then In-Reply-To wins', () => {
    const other = ticketRootMessageId(77, ctx);
    expect(ticketFromReferences({ inReplyTo: note, references: other }, ctx)).toBe(123);
  });

  test('when none of the ids is ours (a new message, or a forged plain id), then there is no ticket', async () => {
    const message = await parse(GMAIL_EN);
    expect(ticketFromReferences({ inReplyTo: header(message, 'in-reply-to'), references: header(message, 'references') }, ctx)).toBeNull();
    expect(ticketFromReferences({ references: '<ticket-123@helpdesk.corp.example>' }, ctx)).toBeNull();
    expect(ticketFromReferences({}, ctx)).toBeNull();
  });

  test('when a References header is folded over lines, then every id in it is found', async () => {
    const message = await parse(raw(['From: a@b.example', 'Subject: x', `References: <a@x.example>`, `\t${root}`], 'x'));
    expect(messageIdsIn(header(message, 'references'))).toEqual(['<a@x.example>', root]);
  });
});

describe('ticketFromSubject', () => {
  test.each([
    ['[#123] Printer', 123],
    ['RE: [#123] Printer', 123],
    ['AW: AW: [#123] Drucker', 123],
    ['Fwd: RE: [EXTERNAL] [#123] Printer', 123],
    ['[EXTERNAL] RE: [# 123 ] Printer', 123],
    ['WG: [#123] Re: [#45] old subject', 123],
    ['Printer [#9]', 9],
  ])('when the subject is "%s", then the ticket is %i', (subject, ticket) => {
    expect(ticketFromSubject(subject)).toBe(ticket);
  });

  test.each(['Printer #123', '[123] Printer', '[#] Printer', '[#0] Printer', '', null])('when the subject is %j, then there is no ticket', (subject) => {
    expect(ticketFromSubject(subject)).toBeNull();
  });
});

describe('subject clean-up for new tickets', () => {
  test.each([
    ['RE: AW: Fwd: Printer broken', 'Printer broken'],
    ['[EXTERNAL] WG: Drucker kaputt', 'Drucker kaputt'],
    ['*EXTERNAL* Re[2]: VPN', 'VPN'],
    ['Re: [#123] Printer', 'Printer'],
    ['Regarding the printer', 'Regarding the printer'],
    ['Reset: password', 'Reset: password'],
  ])('when the subject is "%s", then the title is "%s"', (subject, title) => {
    expect(titleFromSubject(subject)).toBe(title);
  });

  test('when only markers are removed, then a [#123] tag stays', () => {
    expect(withoutSubjectPrefixes('RE: AW: [#123] Printer')).toBe('[#123] Printer');
  });
});
