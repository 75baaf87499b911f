import { simpleParser, type ParsedMail } from 'mailparser';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { bothCas, dovecotUnavailableReason, startDovecot, startSmtpPeer, type Dovecot, type SmtpPeer } from '../support/mail-servers';
import { isCI } from '../support/real-components';
import { PROXY_DEMO_ENV, startApp, type RunningApp } from './support/app-process';
import { clickAndLoad, describeWithChromium, Harness, launchChromium, screenshots, visit, writeAuditLog } from './support/browser';

/**
 * The mail pages in Chromium against the built app with mail on: a real SMTP server takes
 * what it sends and a real Dovecot holds the desk's mailbox. Each page is audited with axe
 * and photographed at every size; so is the notification itself, as a mail client shows it.
 */
const ALICE = 'DEMO\\alice'; // requester, alice@demo.example in the demo directory
const CAROL = 'DEMO\\carol'; // agent
const ERIN = 'DEMO\\erin'; // admin

const dovecotReason = dovecotUnavailableReason();

describeWithChromium(
  'the mail pages in Chromium',
  () => {
    let app: RunningApp | undefined;
    let h: Harness;
    let smtp: SmtpPeer;
    let dovecot: Dovecot;
    let dir: string;

    beforeAll(async () => {
      if (dovecotReason) {
        if (isCI) throw new Error(`CI=true but ${dovecotReason}`);
        return;
      }
      [smtp, dovecot] = await Promise.all([startSmtpPeer({ tls: 'starttls', auth: false }), startDovecot()]);
      dir = mkdtempSync(path.join(os.tmpdir(), 'deskside-browser-mail-'));
      app = await startApp({
        ...PROXY_DEMO_ENV,
        DESKSIDE_SMTP_URL: smtp.url,
        DESKSIDE_MAIL_FROM: 'IT Helpdesk <helpdesk@demo.example>',
        DESKSIDE_PUBLIC_URL: 'https://helpdesk.demo.example',
        DESKSIDE_MAIL_CA_FILE: bothCas(dir, smtp, dovecot),
        DESKSIDE_IMAP_URL: dovecot.url('implicit'),
      });
      h = new Harness(await launchChromium(), app.url);
    }, 60_000);

    afterAll(async () => {
      await h?.close();
      await app?.stop();
      await Promise.all([smtp?.stop(), dovecot?.stop()]);
      if (dir) rmSync(dir, { recursive: true, force: true });
      writeAuditLog('axe-mail.json');
    });

    async function arrivals(count: number): Promise<ParsedMail[]> {
      return Promise.all((await smtp.waitFor(count, 20_000)).map((m) => simpleParser(m.raw)));
    }

    async function reloadUntil(page: Page, url: string, text: string): Promise<void> {
      for (let i = 0; i < 100; i++) {
        await visit(page, url);
        if ((await page.content()).includes(text)) return;
        await page.waitForTimeout(200);
      }
      throw new Error(`${url} never showed "${text}"`);
    }

    test('when a requester raises a ticket and answers its notification by e-mail, then the mail reads well and the reply, the whole e-mail and the mail pages pass axe at every size', async () => {
      if (dovecotReason) return;
      const alice = await h.open(ALICE, true);
      await visit(alice, '/tickets/new');
      await alice.getByLabel('Summary').fill('Laptop fan is very loud');
      await alice.getByLabel('What is happening?').fill('Since the last update the fan runs at full speed <all the time>, even when idle.');
      const category = await alice.locator('#category option', { hasText: 'Hardware' }).first().getAttribute('value');
      await alice.locator('#category').selectOption(category);
      const created = await clickAndLoad(alice, alice.getByRole('button', { name: 'Raise ticket' }));
      const id = Number(/\/tickets\/(\d+)$/.exec(created.url())![1]);

      // The acknowledgement, as a mail client would show it.
      const [ack] = await arrivals(1);
      expect(ack.subject).toBe(`[#${id}] Laptop fan is very loud`);
      const letter = await h.open(undefined, false);
      await letter.setContent(String(ack.html));
      expect(await letter.locator('h1').innerText()).toBe(`We have your request: its number is #${id}`);
      expect(await letter.getByText('<all the time>').count()).toBe(1);
      await screenshots(letter, 'mail-acknowledgement');

      // Alice answers from her mail client, quoting the notification.
      await dovecot.deliver(
        [
          'From: Alice Anders <alice@demo.example>',
          'To: IT Helpdesk <helpdesk@demo.example>',
          `Subject: RE: [#${id}] Laptop fan is very loud`,
          `In-Reply-To: ${ack.messageId!}`,
          `References: ${ack.messageId!}`,
          'Message-ID: <alice-reply@demo.example>',
          'Content-Type: text/plain; charset=utf-8',
          '',
          'It is the Teams client: quitting it makes the fan quiet.',
          '',
          'Alice',
          '',
          '-----Original Message-----',
          'From: IT Helpdesk <helpdesk@demo.example>',
          `Subject: [#${id}] Laptop fan is very loud`,
          '',
          `We have your request: its number is #${id}`,
          '',
        ].join('\r\n'),
      );
      await reloadUntil(alice, `/tickets/${id}`, 'quitting it makes the fan quiet');
      expect(await alice.content()).not.toContain('-----Original Message-----');
      await h.audit(alice, 'ticket with a reply by e-mail');
      await screenshots(alice, 'mail-ticket-reply');
      await clickAndLoad(alice, alice.getByRole('link', { name: 'the whole e-mail' }));
      await alice.getByRole('heading', { name: 'The whole e-mail' }).waitFor();
      expect(await alice.locator('.mail-original').innerText()).toContain('-----Original Message-----');
      await h.audit(alice, 'the whole e-mail');
      await screenshots(alice, 'mail-original');

      // Her choices.
      await visit(alice, '/me');
      await clickAndLoad(alice, alice.getByRole('link', { name: 'Choose which e-mails you get' }));
      await alice.getByRole('heading', { name: 'E-mail notifications' }).waitFor();
      expect(await alice.getByLabel('About every new ticket').count()).toBe(0);
      await h.audit(alice, 'notifications (requester)');
      await screenshots(alice, 'mail-notifications-requester');
      await alice.getByLabel('About tickets I raised').uncheck();
      await clickAndLoad(alice, alice.getByRole('button', { name: 'Save my choices' }));
      await alice.getByText('Your choices are saved.').waitFor();
      expect(await alice.getByLabel('About tickets I raised').isChecked()).toBe(false);

      const carol = await h.open(CAROL, false);
      await visit(carol, '/me/notifications');
      await carol.getByLabel('About every new ticket').check();
      await h.audit(carol, 'notifications (agent, no script)');
      await screenshots(carol, 'mail-notifications-agent');
    }, 120_000);

    test('when an administrator sends a test message, then it arrives and the outbox and the mailbox’s mail show on /admin/mail', async () => {
      if (dovecotReason) return;
      const erin = await h.open(ERIN, true);
      await visit(erin, '/admin/mail');
      expect(await erin.getByLabel('Send it to').inputValue()).toBe('erin@demo.example');
      await erin.getByLabel('Send it to').fill('not an address');
      const refused = await clickAndLoad(erin, erin.getByRole('button', { name: 'Send test message' }));
      expect(refused.status()).toBe(400);
      await erin.getByRole('heading', { name: 'There is a problem' }).waitFor();
      await h.audit(erin, 'admin mail (error)');
      await erin.getByLabel('Send it to').fill('erin@demo.example');
      const before = smtp.received.length;
      await clickAndLoad(erin, erin.getByRole('button', { name: 'Send test message' }));
      await erin.getByText('The test message is queued.').waitFor();
      const got = await arrivals(before + 1);
      expect(got.at(-1)!.subject).toBe('Deskside test message');
      await reloadUntil(erin, '/admin/mail?status=all', '250');
      await h.audit(erin, 'admin mail');
      await screenshots(erin, 'mail-admin');
    }, 60_000);
  },
  { announceSkip: true },
);
