/**
 * Replies and machine mail as the clients and servers our users have write them (headers
 * and markup trimmed to what matters, text as the clients produce it), parsed by mailparser
 * the way the inbound worker will.
 */
import { simpleParser } from 'mailparser';
import { fromParsedMail, type InboundMessage } from '../../../../app/features/mail/inbound-message';

export function raw(headers: string[], body: string): string {
  return [...headers, '', body].join('\r\n');
}

export async function parse(message: string): Promise<InboundMessage> {
  return fromParsedMail(await simpleParser(message));
}

/** multipart/alternative with a text and an HTML part. */
export function alternative(headers: string[], text: string, html: string): string {
  const b = 'alt-boundary-1';
  return raw(
    [...headers, 'MIME-Version: 1.0', `Content-Type: multipart/alternative; boundary="${b}"`],
    [`--${b}`, 'Content-Type: text/plain; charset="utf-8"', 'Content-Transfer-Encoding: 8bit', '', text, `--${b}`, 'Content-Type: text/html; charset="utf-8"', 'Content-Transfer-Encoding: 8bit', '', html, `--${b}--`, ''].join('\r\n'),
  );
}

const replyHeaders = (from: string, subject: string) => [
  `From: ${from}`,
  'To: Deskside <helpdesk@corp.example>',
  `Subject: ${subject}`,
  'Date: Mon, 2 Nov 2026 11:00:00 +0100',
  'Message-ID: <reply-1@mail.example>',
];

/** A reply with one body part (text/plain unless said), lines joined with CRLF. */
function singlePart(from: string, subject: string, lines: string[], opts: { type?: string; encoding?: string } = {}): string {
  const headers = [...replyHeaders(from, subject), 'MIME-Version: 1.0', `Content-Type: ${opts.type ?? 'text/plain'}; charset="utf-8"`, `Content-Transfer-Encoding: ${opts.encoding ?? '8bit'}`];
  return raw(headers, lines.join('\r\n'));
}

export const OUTLOOK_DESKTOP_EN = alternative(
  replyHeaders('Bob Builder <bob@corp.example>', 'RE: [#123] Printer on 2nd floor'),
  [
    'Hi,',
    '',
    'The printer still shows error 0x3F after the restart.',
    '',
    'Kind regards,',
    'Bob',
    '',
    'From: Deskside <helpdesk@corp.example> ',
    'Sent: Monday, 2 November 2026 10:00',
    'To: Bob Builder <bob@corp.example>',
    'Subject: [#123] Printer on 2nd floor',
    '',
    'Alice replied to your ticket:',
    'Please restart the printer.',
  ].join('\r\n'),
  `<html xmlns:o="urn:schemas-microsoft-com:office:office"><head><meta name=Generator content="Microsoft Word 15 (filtered medium)"><style><!--
p.MsoNormal, li.MsoNormal, div.MsoNormal {margin:0cm;font-size:11.0pt;font-family:"Calibri",sans-serif;}
--></style><!--[if gte mso 9]><xml><o:shapedefaults v:ext="edit" spidmax="1026" /></xml><![endif]--></head>
<body lang=EN-GB link="#0563C1" vlink="#954F72" style='word-wrap:break-word'><div class=WordSection1>
<p class=MsoNormal>Hi,<o:p></o:p></p><p class=MsoNormal><o:p>&nbsp;</o:p></p>
<p class=MsoNormal>The printer still shows error 0x3F after the restart.<o:p></o:p></p><p class=MsoNormal><o:p>&nbsp;</o:p></p>
<p class=MsoNormal>Kind regards,<o:p></o:p></p><p class=MsoNormal>Bob<o:p></o:p></p><p class=MsoNormal><o:p>&nbsp;</o:p></p>
<div><div style='border:none;border-top:solid #E1E1E1 1.0pt;padding:3.0pt 0cm 0cm 0cm'><p class=MsoNormal><b><span lang=EN-US>From:</span></b><span lang=EN-US> Deskside &lt;helpdesk@corp.example&gt; <br><b>Sent:</b> Monday, 2 November 2026 10:00<br><b>To:</b> Bob Builder &lt;bob@corp.example&gt;<br><b>Subject:</b> [#123] Printer on 2nd floor<o:p></o:p></span></p></div></div>
<p class=MsoNormal><o:p>&nbsp;</o:p></p><p class=MsoNormal>Alice replied to your ticket:<o:p></o:p></p><p class=MsoNormal>Please restart the printer.<o:p></o:p></p></div></body></html>`,
);

/** Outlook desktop in German, text only (as with "plain text" as the compose format). */
export const OUTLOOK_DESKTOP_DE_TEXT = singlePart('Bernd Bauer <bernd@corp.example>', 'AW: [#123] Drucker im 2. Stock', [
  'Hallo,',
  '',
  'der Drucker zeigt nach dem Neustart immer noch Fehler 0x3F.',
  '',
  'Viele Grüße',
  'Bernd',
  '',
  '-----Ursprüngliche Nachricht-----',
  'Von: Deskside <helpdesk@corp.example> ',
  'Gesendet: Montag, 2. November 2026 10:00',
  'An: Bernd Bauer <bernd@corp.example>',
  'Betreff: [#123] Drucker im 2. Stock',
  '',
  'Alice hat auf Ihr Ticket geantwortet:',
  'Bitte starten Sie den Drucker neu.',
]);

export const OUTLOOK_WEB_EN = alternative(
  replyHeaders('Bob Builder <bob@corp.example>', 'RE: [#123] Printer on 2nd floor'),
  [
    'Thanks, that fixed it. You can close the ticket.',
    '',
    'Bob Builder',
    'Facilities',
    '________________________________',
    'From: Deskside <helpdesk@corp.example>',
    'Sent: Monday, November 2, 2026 10:00 AM',
    'To: Bob Builder <bob@corp.example>',
    'Subject: [#123] Printer on 2nd floor',
    '',
    'Alice replied to your ticket:',
    'Please restart the printer.',
  ].join('\r\n'),
  `<html><head><meta http-equiv="Content-Type" content="text/html; charset=utf-8"><style type="text/css" style="display:none;"> P {margin-top:0;margin-bottom:0;} </style></head><body dir="ltr">
<div class="elementToProof" style="font-family: Aptos, Calibri, Helvetica, sans-serif; font-size: 12pt; color: rgb(0, 0, 0);">Thanks, that fixed it. You can close the ticket.</div>
<div class="elementToProof" style="font-family: Aptos, Calibri, Helvetica, sans-serif; font-size: 12pt;"><br></div>
<div id="Signature"><p>Bob Builder<br>Facilities</p></div>
<div id="appendonsend"></div><hr style="display:inline-block;width:98%" tabindex="-1">
<div id="divRplyFwdMsg" dir="ltr"><font face="Calibri, sans-serif" style="font-size:11pt" color="#000000"><b>From:</b> Deskside &lt;helpdesk@corp.example&gt;<br><b>Sent:</b> Monday, November 2, 2026 10:00 AM<br><b>To:</b> Bob Builder &lt;bob@corp.example&gt;<br><b>Subject:</b> [#123] Printer on 2nd floor</font><div>&nbsp;</div></div>
<div><p>Alice replied to your ticket:</p><p>Please restart the printer.</p></div></body></html>`,
);

/** Outlook on the web in German, HTML only. */
export const OUTLOOK_WEB_DE_HTML = singlePart(
  'Bernd Bauer <bernd@corp.example>',
  'AW: [#123] Drucker im 2. Stock',
  [
    `<html><body dir="ltr"><div class="elementToProof">Danke, funktioniert wieder.</div><div class="elementToProof">Siehe <a href="https://wiki.corp.example/drucker">Wiki-Seite</a>.</div>
<div id="appendonsend"></div><hr style="display:inline-block;width:98%" tabindex="-1">
<div id="divRplyFwdMsg" dir="ltr"><font face="Calibri, sans-serif" style="font-size:11pt"><b>Von:</b> Deskside &lt;helpdesk@corp.example&gt;<br><b>Gesendet:</b> Montag, 2. November 2026 10:00<br><b>An:</b> Bernd Bauer &lt;bernd@corp.example&gt;<br><b>Betreff:</b> [#123] Drucker im 2. Stock</font></div>
<div><p>Alice hat auf Ihr Ticket geantwortet.</p></div></body></html>`,
  ],
  { type: 'text/html' },
);

export const GMAIL_EN = alternative(
  replyHeaders('Carol <carol.example@gmail.com>', 'Re: [#123] Printer on 2nd floor'),
  [
    'Yes, it works now. Thanks!',
    '',
    'On Mon, Nov 2, 2026 at 10:00 AM Deskside <helpdesk@corp.example>',
    'wrote:',
    '',
    '> Alice replied to your ticket:',
    '> Please restart the printer.',
    '>',
  ].join('\r\n'),
  `<div dir="ltr">Yes, it works now. Thanks!</div><br><div class="gmail_quote gmail_quote_container"><div dir="ltr" class="gmail_attr">On Mon, Nov 2, 2026 at 10:00 AM Deskside &lt;<a href="mailto:helpdesk@corp.example">helpdesk@corp.example</a>&gt; wrote:<br></div><blockquote class="gmail_quote" style="margin:0px 0px 0px 0.8ex;border-left:1px solid rgb(204,204,204);padding-left:1ex">Alice replied to your ticket:<br>Please restart the printer.</blockquote></div>`,
);

/** Gmail in German, text only, the attribution wrapped over two lines. */
export const GMAIL_DE_TEXT = singlePart('Dora <dora.example@gmail.com>', 'Re: [#123] Drucker im 2. Stock', [
  'Geht wieder, danke!',
  '',
  'Am Mo., 2. Nov. 2026 um 10:00 Uhr schrieb Deskside <',
  'helpdesk@corp.example>:',
  '',
  '> Alice hat auf Ihr Ticket geantwortet:',
  '> Bitte starten Sie den Drucker neu.',
]);

export const APPLE_MAIL_DE = alternative(
  replyHeaders('Erik <erik@corp.example>', 'Re: [#123] Drucker im 2. Stock'),
  ['Immer noch kaputt.', '', 'Gruß', 'Erik', '', '> Am 02.11.2026 um 10:00 schrieb Deskside <helpdesk@corp.example>:', '> ', '> Alice hat auf Ihr Ticket geantwortet:', '> Bitte starten Sie den Drucker neu.', ''].join('\r\n'),
  `<html><head><meta http-equiv="content-type" content="text/html; charset=utf-8"></head><body style="overflow-wrap: break-word; -webkit-nbsp-mode: space; line-break: after-white-space;">Immer noch kaputt.<div><br></div><div>Gruß</div><div>Erik</div><div><br><blockquote type="cite"><div>Am 02.11.2026 um 10:00 schrieb Deskside &lt;helpdesk@corp.example&gt;:</div><br class="Apple-interchange-newline"><div><div>Alice hat auf Ihr Ticket geantwortet:</div><div>Bitte starten Sie den Drucker neu.</div></div></blockquote></div><br></body></html>`,
);

export const IPHONE_EN_TEXT = singlePart(
  'Frank <frank@corp.example>',
  'Re: [#123] Printer on 2nd floor',
  ['Works now, thanks.', '', 'Sent from my iPhone', '', '> On 2 Nov 2026, at 10:00, Deskside <helpdesk@corp.example> wrote:', '>=20', '> =EF=BB=BFAlice replied to your ticket:', '> Please restart the printer.', ''],
  { encoding: 'quoted-printable' },
);

export const OUTLOOK_IOS_TEXT = singlePart('Gina <gina@corp.example>', 'RE: [EXTERNAL] [#123] Printer on 2nd floor', [
  'On my way to the printer now.',
  '',
  'Get Outlook for iOS<https://aka.ms/o0ukef>',
  '________________________________',
  'From: Deskside <helpdesk@corp.example>',
  'Sent: Monday, November 2, 2026 10:00:00 AM',
  'To: Gina <gina@corp.example>',
  'Subject: [#123] Printer on 2nd floor',
  '',
  'Alice replied to your ticket.',
]);

// ---------------------------------------------------------------------------------------
// Machine mail

export const EXCHANGE_OOF = raw(
  [
    'Return-Path: <alice@corp.example>',
    'From: Alice Example <alice@corp.example>',
    'To: Deskside <helpdesk@corp.example>',
    'Subject: Automatic reply: [#123] Printer on 2nd floor',
    'Thread-Topic: [#123] Printer on 2nd floor',
    'Date: Mon, 2 Nov 2026 10:00:05 +0000',
    'Message-ID: <0a1b2c@EXCH01.corp.example>',
    'Auto-Submitted: auto-replied',
    'X-Auto-Response-Suppress: All',
    'X-MS-Exchange-Inbox-Rules-Loop: alice@corp.example',
    'Content-Type: text/plain; charset="us-ascii"',
    'MIME-Version: 1.0',
  ],
  'I am out of the office until Monday, 9 November.',
);

/** A German out-of-office from an older server that sets no loop headers at all. */
export const OOF_DE_SUBJECT_ONLY = raw(
  ['From: Bernd Bauer <bernd@corp.example>', 'To: helpdesk@corp.example', 'Subject: Abwesenheitsnotiz: [#123] Drucker im 2. Stock', 'Date: Mon, 2 Nov 2026 10:00:05 +0100', 'Content-Type: text/plain; charset=utf-8'],
  'Ich bin bis zum 9. November nicht im Büro.',
);

export const POSTFIX_BOUNCE = raw(
  [
    'Return-Path: <>',
    'Date: Mon,  2 Nov 2026 10:00:07 +0000 (UTC)',
    'From: MAILER-DAEMON@mail.corp.example (Mail Delivery System)',
    'Subject: Undelivered Mail Returned to Sender',
    'To: helpdesk@corp.example',
    'MIME-Version: 1.0',
    'Content-Type: multipart/report; report-type=delivery-status;',
    '\tboundary="4F0B21A0.1604311207/mail.corp.example"',
    'Message-Id: <20261102100007.4F0B21A0@mail.corp.example>',
  ],
  [
    'This is a MIME-encapsulated message.',
    '',
    '--4F0B21A0.1604311207/mail.corp.example',
    'Content-Description: Notification',
    'Content-Type: text/plain; charset=us-ascii',
    '',
    'This is the mail system at host mail.corp.example.',
    "I'm sorry to have to inform you that your message could not be delivered.",
    '',
    '--4F0B21A0.1604311207/mail.corp.example',
    'Content-Description: Delivery report',
    'Content-Type: message/delivery-status',
    '',
    'Reporting-MTA: dns; mail.corp.example',
    '',
    'Final-Recipient: rfc822; nobody@corp.example',
    'Action: failed',
    'Status: 5.1.1',
    '',
    '--4F0B21A0.1604311207/mail.corp.example--',
    '',
  ].join('\r\n'),
);

export const READ_RECEIPT = raw(
  [
    'From: Alice Example <alice@corp.example>',
    'To: helpdesk@corp.example',
    'Subject: Read: [#123] Printer on 2nd floor',
    'MIME-Version: 1.0',
    'Content-Type: multipart/report; report-type="disposition-notification"; boundary="rr"',
  ],
  ['--rr', 'Content-Type: text/plain', '', 'Your message was read.', '--rr', 'Content-Type: message/disposition-notification', '', 'Final-Recipient: rfc822;alice@corp.example', 'Disposition: manual-action/MDN-sent-manually; displayed', '--rr--', ''].join('\r\n'),
);

export const NEWSLETTER = raw(
  [
    'From: Vendor News <news@vendor.example>',
    'To: helpdesk@corp.example',
    'Subject: Your November update',
    'List-Unsubscribe: <https://vendor.example/unsub?u=1>, <mailto:unsub@vendor.example>',
    'List-Unsubscribe-Post: List-Unsubscribe=One-Click',
    'Content-Type: text/plain',
  ],
  'News!',
);

export const PERSON = raw(
  [
    'From: Hanna Person <hanna@corp.example>',
    'To: helpdesk@corp.example',
    'Subject: Out of office setup does not work',
    'Date: Mon, 2 Nov 2026 10:00:00 +0100',
    'Message-ID: <human-1@corp.example>',
    'Auto-Submitted: no',
    'Content-Type: text/plain; charset=utf-8',
  ],
  'My automatic replies are not sent. Can you help?',
);
