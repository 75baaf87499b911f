import { extractReply, htmlToText, stripQuotedText } from '../../../../app/features/mail/reply-text';
import {
  APPLE_MAIL_DE,
  GMAIL_DE_TEXT,
  GMAIL_EN,
  IPHONE_EN_TEXT,
  OUTLOOK_DESKTOP_DE_TEXT,
  OUTLOOK_DESKTOP_EN,
  OUTLOOK_IOS_TEXT,
  OUTLOOK_WEB_DE_HTML,
  OUTLOOK_WEB_EN,
  parse,
} from './samples';

async function replyOf(message: string) {
  const msg = await parse(message);
  return extractReply({ text: msg.text, html: msg.html });
}

describe('extractReply on real clients’ replies', () => {
  test.each([
    ['Outlook desktop, English, text and HTML', OUTLOOK_DESKTOP_EN, 'Hi,\n\nThe printer still shows error 0x3F after the restart.\n\nKind regards,\nBob', 'Please restart the printer.'],
    ['Outlook desktop, German, text only', OUTLOOK_DESKTOP_DE_TEXT, 'Hallo,\n\nder Drucker zeigt nach dem Neustart immer noch Fehler 0x3F.\n\nViele Grüße\nBernd', 'Bitte starten Sie den Drucker neu.'],
    ['Outlook on the web, English (signature div removed too)', OUTLOOK_WEB_EN, 'Thanks, that fixed it. You can close the ticket.', 'Please restart the printer.'],
    ['Outlook on the web, German, HTML only', OUTLOOK_WEB_DE_HTML, 'Danke, funktioniert wieder.\nSiehe Wiki-Seite [https://wiki.corp.example/drucker].', 'Alice hat auf Ihr Ticket geantwortet.'],
    ['Gmail, English', GMAIL_EN, 'Yes, it works now. Thanks!', 'Please restart the printer.'],
    ['Gmail, German, attribution wrapped over two lines', GMAIL_DE_TEXT, 'Geht wieder, danke!', 'Bitte starten Sie den Drucker neu.'],
    ['Apple Mail, German', APPLE_MAIL_DE, 'Immer noch kaputt.\n\nGruß\nErik', 'Bitte starten Sie den Drucker neu.'],
    ['iPhone Mail, English', IPHONE_EN_TEXT, 'Works now, thanks.', 'Please restart the printer.'],
    ['Outlook for iOS', OUTLOOK_IOS_TEXT, 'On my way to the printer now.', 'Alice replied to your ticket.'],
  ])('when the reply comes from %s, then only what the person wrote is kept and the original stays whole', async (_client, message, expected, quoted) => {
    const r = await replyOf(message);
    expect(r.reply).toBe(expected);
    expect(r.trimmed).toBe(true);
    expect(r.full).toContain(quoted);
    expect(r.reply).not.toContain(quoted);
  });
});

describe('stripQuotedText', () => {
  test('when there is nothing quoted, then the text comes back as it was (line ends and trailing spaces tidied)', () => {
    expect(stripQuotedText('Line one  \r\nLine two\r\n\r\n\r\n\r\nLast')).toBe('Line one\nLine two\n\nLast');
  });

  test('when the person answers between quoted lines, then the inline answers and their context are kept', () => {
    const text = ['> Is the printer on?', 'Yes.', '', '> Which floor?', 'The second.', '', 'Thanks'].join('\n');
    expect(stripQuotedText(text)).toBe(text);
  });

  test('when a line says "… wrote:" but the person’s own lines follow, then nothing is cut there', () => {
    const text = ['On the server, at 10:00 the log wrote:', 'ERROR 0x3F paper jam', 'ERROR 0x40 tray open'].join('\n');
    expect(stripQuotedText(text)).toBe(text);
  });

  test('when a "-- " signature closes the reply, then it goes, and a long block after "--" is kept', () => {
    expect(stripQuotedText('It works.\n\n-- \nIvan Ivanov\nIT, Room 12\n+49 30 1234')).toBe('It works.');
    const long = ['Steps I tried:', '--', ...Array.from({ length: 13 }, (_, i) => `step ${i + 1}`)].join('\n');
    expect(stripQuotedText(long)).toBe(long);
  });

  test.each(['Sent from my iPhone', 'Von meinem iPhone gesendet', 'Gesendet von meinem Samsung Galaxy Smartphone.', 'Sent from Outlook for Android', 'Holen Sie sich Outlook für iOS<https://aka.ms/o0ukef>'])(
    'when the reply ends with the phone signature "%s", then it goes',
    (signature) => {
      expect(stripQuotedText(`Done, thanks.\n\n${signature}\n`)).toBe('Done, thanks.');
    },
  );

  test('when the header block has no "Sent:" near its "From:", then it is not taken for one', () => {
    const text = 'From: the logs I can see the job.\nIt never reaches the printer.';
    expect(stripQuotedText(text)).toBe(text);
  });
});

describe('extractReply edge cases', () => {
  test('when the whole body is quoted, then the reply is the whole body rather than nothing', () => {
    const r = extractReply({ text: '> only a quote\n> and more' });
    expect(r.reply).toBe('> only a quote\n> and more');
    expect(r.trimmed).toBe(false);
  });

  test('when the HTML part starts with the quote marker, then the text rules decide instead of returning nothing', () => {
    const r = extractReply({ html: '<blockquote type="cite">old</blockquote>', text: 'New words\n\n> old' });
    expect(r.reply).toBe('New words');
  });

  test('when there is neither text nor HTML, then everything is empty', () => {
    expect(extractReply({ text: null, html: null })).toEqual({ reply: '', full: '', trimmed: false });
  });

  test('when the HTML has no quote marker, then the text part is read with the text rules', () => {
    const r = extractReply({ html: '<p>New words</p><p>&gt; old</p>', text: 'New words\n\n> old' });
    expect(r).toEqual({ reply: 'New words', full: 'New words\n\n> old', trimmed: true });
  });
});

describe('htmlToText', () => {
  test('when Outlook writes each line as a MsoNormal paragraph, then they come out as lines, not paragraphs, and styles and images vanish', () => {
    const html =
      '<head><style>p.MsoNormal{margin:0}</style></head><body><p class=MsoNormal>One<o:p></o:p></p><p class=MsoNormal>Two<o:p></o:p></p><img src="cid:logo" alt="Logo"><p>Para <a href="https://x.example/a">link</a> and <a href="https://y.example">https://y.example</a></p></body>';
    expect(htmlToText(html)).toBe('One\nTwo\n\nPara link [https://x.example/a] and https://y.example');
  });

  test('when a heading is converted, then its case is kept', () => {
    expect(htmlToText('<h1>Error report</h1><p>x</p>')).toBe('Error report\n\nx');
  });
});
