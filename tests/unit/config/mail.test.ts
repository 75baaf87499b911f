import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { mailStartupWarnings } from '../../../app/config/mail';
import { parseConfig } from '../../../app/config/schema';
import { configProblems } from '../../support/config';

const BASE = { DESKSIDE_SMTP_URL: 'smtp://relay.corp.example', DESKSIDE_MAIL_FROM: 'IT Helpdesk <helpdesk@corp.example>', DESKSIDE_PUBLIC_URL: 'https://helpdesk.corp.example/' };

describe('mail settings', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'deskside-mailcfg-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  test('when DESKSIDE_SMTP_URL is not set, then mail is off', () => {
    expect(parseConfig({}).mail).toBeNull();
  });

  test('when only the SMTP relay, sender and site address are set, then notifications go out with STARTTLS on port 25 and the mailbox is not read', () => {
    expect(parseConfig(BASE).mail).toEqual({
      smtp: { host: 'relay.corp.example', port: 25, secure: false, requireTls: true, user: undefined, password: undefined },
      from: 'IT Helpdesk <helpdesk@corp.example>',
      fromAddress: 'helpdesk@corp.example',
      publicUrl: 'https://helpdesk.corp.example',
      caFile: undefined,
      imap: null,
      unknownSenders: 'create',
      acceptListMail: false,
      senderLimit: { maxMessages: 20, windowMinutes: 60 },
      retryMs: 48 * 3_600_000,
      maxMessageBytes: 40 * 1024 * 1024,
    });
  });

  test('when the URLs carry percent-encoded credentials, ports and a folder, then they are decoded and implicit TLS is told from STARTTLS', () => {
    const mail = parseConfig({
      ...BASE,
      DESKSIDE_SMTP_URL: 'smtps://svc-deskside%40corp.example:p%40ss%3Aword@smtp.office365.com',
      DESKSIDE_IMAP_URL: 'imap://helpdesk%40corp.example:S3cret%25@mail.corp.example:1143/Shared%20Folders%2FHelpdesk',
      DESKSIDE_MAIL_UNKNOWN_SENDERS: 'reject',
      DESKSIDE_IMAP_POLL_SECONDS: '15',
    }).mail!;
    expect(mail.smtp).toEqual({ host: 'smtp.office365.com', port: 465, secure: true, requireTls: false, user: 'svc-deskside@corp.example', password: 'p@ss:word' });
    expect(mail.imap).toEqual({ host: 'mail.corp.example', port: 1143, secure: false, user: 'helpdesk@corp.example', password: 'S3cret%', mailbox: 'Shared Folders/Helpdesk', pollSeconds: 15 });
    expect(mail.unknownSenders).toBe('reject');
    expect(parseConfig({ ...BASE, DESKSIDE_IMAP_URL: 'imaps://u:p@imap.corp.example' }).mail!.imap).toMatchObject({ port: 993, secure: true, mailbox: 'INBOX' });
  });

  test('when mail keys are set without DESKSIDE_SMTP_URL, then start-up names them', () => {
    expect(configProblems({ DESKSIDE_MAIL_FROM: 'x@y.z', DESKSIDE_IMAP_URL: 'imaps://u:p@h' })).toEqual([
      expect.stringMatching(/^DESKSIDE_MAIL_FROM, DESKSIDE_IMAP_URL are set but DESKSIDE_SMTP_URL is not; mail is off without it/),
    ]);
  });

  test('when the SMTP URL is set alone or wrong, then every problem is named and no URL (which may hold a password) is repeated', () => {
    const missing = configProblems({ DESKSIDE_SMTP_URL: 'smtp://relay' });
    expect(missing.join('\n')).toMatch(/DESKSIDE_MAIL_FROM is required with DESKSIDE_SMTP_URL/);
    expect(missing.join('\n')).toMatch(/DESKSIDE_PUBLIC_URL is required with DESKSIDE_SMTP_URL/);
    const wrong = configProblems({
      ...BASE,
      DESKSIDE_SMTP_URL: 'https://user:hunter2@relay',
      DESKSIDE_IMAP_URL: 'imaps://imap.corp.example/INBOX',
      DESKSIDE_MAIL_FROM: 'helpdesk, other@corp.example',
      DESKSIDE_PUBLIC_URL: 'ftp://helpdesk',
    });
    expect(wrong.join('\n')).toMatch(/DESKSIDE_SMTP_URL must start with smtp:\/\/ or smtps:\/\/, not https:\/\//);
    expect(wrong.join('\n')).toMatch(/DESKSIDE_IMAP_URL needs the mailbox's user name and password/);
    expect(wrong.join('\n')).toMatch(/DESKSIDE_MAIL_FROM=.* is not one e-mail address/);
    expect(wrong.join('\n')).toMatch(/DESKSIDE_PUBLIC_URL="ftp:\/\/helpdesk" must start with https:\/\/ or http:\/\//);
    expect(wrong.join('\n')).not.toContain('hunter2');
    expect(configProblems({ ...BASE, DESKSIDE_SMTP_URL: 'smtp://u:hunter2@relay/path?x=1' }).join('\n')).not.toContain('hunter2');
  });

  test('when STARTTLS is turned off with a password in the URL, then it is refused; without one it is a warning', () => {
    expect(configProblems({ ...BASE, DESKSIDE_SMTP_URL: 'smtp://u:p@relay', DESKSIDE_SMTP_STARTTLS: 'false' }).join()).toMatch(/DESKSIDE_SMTP_STARTTLS=false is refused with a password/);
    const mail = parseConfig({ ...BASE, DESKSIDE_SMTP_STARTTLS: 'false' }).mail!;
    expect(mail.smtp.requireTls).toBe(false);
    expect(mailStartupWarnings(mail).join()).toMatch(/in clear text/);
  });

  test('when the mailbox settings are set without DESKSIDE_IMAP_URL, then start-up says they need it', () => {
    expect(configProblems({ ...BASE, DESKSIDE_MAIL_UNKNOWN_SENDERS: 'reject' })).toEqual([expect.stringMatching(/DESKSIDE_MAIL_UNKNOWN_SENDERS is about reading the desk's mailbox, but DESKSIDE_IMAP_URL is not set/)]);
  });

  test('when a CA file is named, then it must hold a PEM certificate', () => {
    const good = path.join(dir, 'ca.pem');
    writeFileSync(good, '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n');
    const bad = path.join(dir, 'ca.txt');
    writeFileSync(bad, 'not a certificate');
    expect(parseConfig({ ...BASE, DESKSIDE_MAIL_CA_FILE: good }).mail!.caFile).toBe(good);
    expect(configProblems({ ...BASE, DESKSIDE_MAIL_CA_FILE: bad }).join()).toMatch(/holds no PEM certificate/);
    expect(configProblems({ ...BASE, DESKSIDE_MAIL_CA_FILE: path.join(dir, 'missing.pem') }).join()).toMatch(/cannot be read \(ENOENT\)/);
  });

  test('when the mailbox is not the sender address, then start-up warns that replies may not come back', () => {
    const mail = parseConfig({ ...BASE, DESKSIDE_IMAP_URL: 'imaps://servicedesk%40corp.example:p@imap.corp.example' }).mail!;
    expect(mailStartupWarnings(mail).join()).toMatch(/is not the mailbox DESKSIDE_IMAP_URL reads/);
  });
});
