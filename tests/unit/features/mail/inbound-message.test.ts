import { fromParsedMail, header, headersFromLines, headerValues } from '../../../../app/features/mail/inbound-message';
import { GMAIL_EN, parse, raw } from './samples';

describe('fromParsedMail', () => {
  test('when a multipart reply is parsed, then sender, subject and both bodies are taken', async () => {
    const m = await parse(GMAIL_EN);
    expect(m.from).toBe('carol.example@gmail.com');
    expect(m.subject).toBe('Re: [#123] Printer on 2nd floor');
    expect(m.text).toContain('Yes, it works now.');
    expect(m.html).toContain('gmail_quote');
  });

  test('when a text-only message has an encoded subject, an upper-case sender and repeated headers, then each is read as written', async () => {
    const m = await parse(raw(['From: "Müller, Jörg" <Joerg.Mueller@Corp.Example>', 'Subject: =?utf-8?q?Drucker_im_2=2E_Stock?=', 'Received: from a', 'Received: from b', 'Content-Type: text/plain'], 'x'));
    expect(m.from).toBe('joerg.mueller@corp.example');
    expect(m.subject).toBe('Drucker im 2. Stock');
    expect(m.html).toBeNull();
    expect(headerValues(m, 'Received')).toEqual(['from a', 'from b']);
    expect(header(m, 'RECEIVED')).toBe('from a');
  });

  test('when there is no From or it is not an address, then from is null', () => {
    expect(fromParsedMail({ headerLines: [], subject: undefined, from: undefined, text: undefined, html: false })).toEqual({ headers: [], subject: '', from: null, text: null, html: null });
    expect(fromParsedMail({ headerLines: [], from: { value: [{ name: 'undisclosed-recipients', group: [] }], text: '', html: '' }, html: false }).from).toBeNull();
  });
});

describe('headersFromLines', () => {
  test('when a header is folded and its name is mixed case, then the value is one line and the name lower-case', () => {
    expect(headersFromLines([{ key: 'content-type', line: 'Content-Type: multipart/report;\r\n\treport-type=delivery-status;\r\n boundary="x"' }])).toEqual([
      ['content-type', 'multipart/report; report-type=delivery-status; boundary="x"'],
    ]);
  });
});
