import { simpleParser } from 'mailparser';
import nodemailer from 'nodemailer';
import { AUTOMATIC_MAIL_HEADERS, notificationHeaders, notificationSubject } from '../../../../app/features/mail/outbound-headers';
import { detectAutomatic } from '../../../../app/features/mail/auto-reply';
import { fromParsedMail } from '../../../../app/features/mail/inbound-message';
import { parseOurMessageId, ticketFromReferences, ticketFromSubject, ticketRootMessageId, type ThreadingContext } from '../../../../app/features/mail/threading';

const ctx: ThreadingContext = { host: 'helpdesk.corp.example', key: 'a-test-key-derived-from-the-app-secret' };

describe('notificationSubject', () => {
  test('when the title is ordinary, then the subject is "[#123] Title"', () => {
    expect(notificationSubject(123, 'Printer on 2nd floor')).toBe('[#123] Printer on 2nd floor');
  });

  test('when the title has line breaks or is very long, then the subject is one line of at most 160 characters after the tag', () => {
    expect(notificationSubject(7, 'Two\r\nlines\tand  spaces')).toBe('[#7] Two lines and spaces');
    const s = notificationSubject(7, 'x'.repeat(500));
    expect(s.length).toBe('[#7] '.length + 160);
    expect(s.endsWith('…')).toBe(true);
  });

  test('when the title is empty, then the subject is the tag alone', () => {
    expect(notificationSubject(7, '  ')).toBe('[#7]');
  });
});

describe('notificationHeaders', () => {
  const base = { ticketId: 123, eventId: 456, recipient: 'bob@corp.example', title: 'Printer on 2nd floor' };

  test('when a notification is addressed, then it carries the loop-prevention headers, its own id and the ticket’s root as parent', () => {
    const h = notificationHeaders(base, ctx);
    const root = ticketRootMessageId(123, ctx);
    expect(h.headers).toEqual({ 'Auto-Submitted': 'auto-generated', 'X-Auto-Response-Suppress': 'All' });
    expect(h.subject).toBe('[#123] Printer on 2nd floor');
    expect(parseOurMessageId(h.messageId, ctx)).toEqual({ ticketId: 123, eventId: 456 });
    expect(h.inReplyTo).toBe(root);
    expect(h.references).toEqual([root]);
  });

  test('when it answers a person’s message, then that message is the parent and follows the root in References', () => {
    const h = notificationHeaders({ ...base, alsoReferences: ['<reply-1@mail.example>', 'not an id', '<reply-1@mail.example>'] }, ctx);
    expect(h.inReplyTo).toBe('<reply-1@mail.example>');
    expect(h.references).toEqual([ticketRootMessageId(123, ctx), '<reply-1@mail.example>']);
  });

  test('when the returned headers are handed to a mailer, then they cannot be changed through the shared constant', () => {
    notificationHeaders(base, ctx).headers['Auto-Submitted'] = 'no';
    expect(AUTOMATIC_MAIL_HEADERS['Auto-Submitted']).toBe('auto-generated');
  });

  test('when nodemailer builds the message and it comes back as a reply, then our own parsers find the ticket and call it automatic', async () => {
    const h = notificationHeaders(base, ctx);
    const info = await nodemailer.createTransport({ streamTransport: true, buffer: true }).sendMail({ from: 'helpdesk@corp.example', to: 'bob@corp.example', text: 'Alice replied.', ...h });
    const parsed = await simpleParser(info.message);
    expect(parsed.messageId).toBe(h.messageId);
    expect(parsed.subject).toBe(h.subject);
    expect(ticketFromSubject(parsed.subject)).toBe(123);
    expect(ticketFromReferences({ inReplyTo: parsed.inReplyTo, references: [parsed.references ?? []].flat().join(' ') }, ctx)).toBe(123);
    // Our notification looped back into the desk's mailbox is never a new ticket or comment.
    expect(detectAutomatic(fromParsedMail(parsed))).toEqual({ kind: 'auto-generated', reason: 'Auto-Submitted: auto-generated' });
  });
});
