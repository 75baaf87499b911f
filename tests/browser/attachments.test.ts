import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { Page } from 'playwright-core';
import { png } from '../support/images';
import { PROXY_DEMO_ENV, startApp, type RunningApp } from './support/app-process';
import { clickAndLoad, describeWithChromium, Harness, launchChromium, screenshots, until, visit, writeAuditLog } from './support/browser';

/**
 * Files on tickets in a real Chromium against the built app in production mode: choosing
 * files in a plain form with JavaScript off, pasting a screenshot and dropping a file with
 * it on, downloading (checked byte for byte), and an agent removing a file.
 */
const ALICE = 'DEMO\\alice'; // requester
const CAROL = 'DEMO\\carol'; // agent

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const SCREENSHOT = png(480, 270);
const LOG = Buffer.from(Array.from({ length: 400 }, (_, i) => `2026-11-29 09:${String(i % 60).padStart(2, '0')} vpn: tunnel dropped, retrying (${i})\n`).join(''));

describeWithChromium(
  'files on tickets in Chromium',
  () => {
    let app: RunningApp | undefined;
    let h: Harness;

    beforeAll(async () => {
      // Limits small enough that a too-large file is quick to make.
      app = await startApp({ ...PROXY_DEMO_ENV, DESKSIDE_ATTACHMENT_MAX_MB: '1', DESKSIDE_ATTACHMENT_POST_MAX_MB: '2' });
      h = new Harness(await launchChromium(), app.url);
    }, 60_000);

    afterAll(async () => {
      await h?.close();
      await app?.stop();
      writeAuditLog('axe-attachments.json');
    });

    async function fillNewTicket(page: Page, title: string): Promise<void> {
      await visit(page, '/tickets/new');
      await page.getByLabel('Summary').fill(title);
      await page.getByLabel('What is happening?').fill('The VPN drops every ten minutes; the log and a screenshot are attached.');
      const value = await page.locator('#category option', { hasText: 'Network & VPN' }).first().getAttribute('value');
      await page.locator('#category').selectOption(value);
    }

    /** The bytes a click on a download link saves, as the browser saved them. */
    async function download(page: Page, link: ReturnType<Page['locator']>): Promise<{ name: string; bytes: Buffer }> {
      const [d] = await Promise.all([page.waitForEvent('download'), link.click()]);
      return { name: d.suggestedFilename(), bytes: readFileSync(await d.path()) };
    }

    test('when a requester with JavaScript off attaches a screenshot and a log to a new ticket, then both are on it and download byte for byte', async () => {
      const page = await h.open(ALICE, false);
      await fillNewTicket(page, 'VPN drops (files chosen without script)');
      expect(await page.locator('.paste-hint').count()).toBe(0);
      await page.getByLabel('Attach files').setInputFiles([
        { name: 'vpn-error.png', mimeType: 'image/png', buffer: SCREENSHOT },
        { name: 'vpn.log', mimeType: 'text/plain', buffer: LOG },
      ]);
      const created = await clickAndLoad(page, page.getByRole('button', { name: 'Raise ticket' }));
      expect(created.status()).toBe(200);
      await page.getByText('Your ticket has been raised').waitFor();
      const events = await page.locator('.timeline .event-file').allInnerTexts();
      expect(events).toEqual([expect.stringMatching(/attached vpn-error\.png \(\d+ KB\)/), expect.stringMatching(/attached vpn\.log \(\d+ KB\)/)]);
      expect(await page.locator('#files-h').innerText()).toBe('Files (2)');
      await h.audit(page, 'ticket with files (JavaScript off)');

      const log = await download(page, page.locator('.files-card a.file-name', { hasText: 'vpn.log' }));
      expect(log.name).toBe('vpn.log');
      expect(sha(log.bytes)).toBe(sha(LOG));
      const shot = await download(page, page.locator('.timeline a.file-name', { hasText: 'vpn-error.png' }));
      expect(shot.name).toBe('vpn-error.png');
      expect(sha(shot.bytes)).toBe(sha(SCREENSHOT));
    }, 90_000);

    test('when a file is too large, then with JavaScript off the form comes back with the words kept and says which file', async () => {
      const page = await h.open(ALICE, false);
      await fillNewTicket(page, 'VPN drops (a file too large)');
      await page.getByLabel('Attach files').setInputFiles([{ name: 'full-dump.bin', mimeType: 'application/octet-stream', buffer: Buffer.alloc(1.5 * 1024 * 1024, 7) }]);
      const refused = await clickAndLoad(page, page.getByRole('button', { name: 'Raise ticket' }));
      expect(refused.status()).toBe(400);
      expect(await page.locator('#error-summary a[href="#files"]').innerText()).toContain('“full-dump.bin” is larger than 1 MB');
      expect(await page.getByLabel('Summary').inputValue()).toBe('VPN drops (a file too large)');
      await page.getByText('The files you chose were not saved. Choose them again.').waitFor();
      await h.audit(page, 'new ticket with a file too large');
    }, 60_000);

    test('when a requester with JavaScript on pastes a screenshot into a reply and drops a log on it, then both are posted with the reply and the thumbnail shows', async () => {
      const page = await h.open(ALICE, true);
      await page.context().grantPermissions(['clipboard-read', 'clipboard-write']);
      await fillNewTicket(page, 'VPN drops (pasted screenshot)');
      await page.getByText('You can also paste a screenshot into the box above, or drop files on it.').waitFor();
      await screenshots(page, 'new-ticket-files');
      await clickAndLoad(page, page.getByRole('button', { name: 'Raise ticket' }));

      const reply = page.getByLabel('Your reply');
      await reply.fill('Here is what the VPN client shows.');
      // A real paste: the image goes on the system clipboard, then Ctrl+V in the reply box.
      await page.evaluate(`(async () => {
        const bytes = Uint8Array.from(atob(${JSON.stringify(SCREENSHOT.toString('base64'))}), (c) => c.charCodeAt(0));
        await navigator.clipboard.write([new ClipboardItem({ 'image/png': new Blob([bytes], { type: 'image/png' }) })]);
      })()`);
      await reply.focus();
      await page.keyboard.press('Control+V');
      await page.locator('.file-picks li', { hasText: /^Attached: screenshot-\d{4}-\d\d-\d\d-\d{6}\.png \(\d+ KB\)$/ }).waitFor();
      // The pasted image adds no text to the reply.
      expect(await reply.inputValue()).toBe('Here is what the VPN client shows.');
      // Dropping a file on the reply box: the browser's own drop event, with the file in its DataTransfer.
      await page.evaluate(`(() => {
        const box = document.getElementById('body');
        const dt = new DataTransfer();
        dt.items.add(new File([${JSON.stringify(LOG.toString())}], 'vpn-client.log', { type: 'text/plain' }));
        box.dispatchEvent(new DragEvent('dragover', { dataTransfer: dt, bubbles: true, cancelable: true }));
        box.dispatchEvent(new DragEvent('drop', { dataTransfer: dt, bubbles: true, cancelable: true }));
      })()`);
      await page.locator('.file-picks li', { hasText: 'vpn-client.log' }).waitFor();
      expect(await page.evaluate<number>("document.getElementById('files').files.length")).toBe(2);
      // The clipboard hands over its own encoding of the image: what the browser is about to send is the reference.
      const sent = Buffer.from(
        await page.evaluate<string>(`(async () => {
          const bytes = new Uint8Array(await document.getElementById('files').files[0].arrayBuffer());
          let text = '';
          for (const b of bytes) text += String.fromCharCode(b);
          return btoa(text);
        })()`),
        'base64',
      );
      expect(sent.subarray(0, 8)).toEqual(SCREENSHOT.subarray(0, 8));

      await clickAndLoad(page, page.getByRole('button', { name: 'Send reply' }));
      await page.getByText('Added to the conversation').waitFor();
      const files = page.locator('.timeline .event-file');
      expect(await files.allInnerTexts()).toEqual([expect.stringMatching(/attached screenshot-[\d-]+\.png/), expect.stringMatching(/attached vpn-client\.log/)]);
      const thumb = page.locator('.timeline .event-file img');
      await thumb.waitFor();
      // Decoded by the browser from what the server sent inline.
      await until('the thumbnail decoded', () => thumb.evaluate((img: { complete: boolean; naturalWidth: number }) => img.complete && img.naturalWidth > 0), (decoded) => decoded);
      expect(await page.evaluate<number[]>("(() => { const img = document.querySelector('.timeline .event-file img'); return [img.naturalWidth, img.naturalHeight]; })()")).toEqual([480, 270]);
      await h.audit(page, 'ticket with a pasted screenshot (JavaScript on)');
      expect(await page.evaluate<number>("document.querySelectorAll('[id]').length - new Set([...document.querySelectorAll('[id]')].map((e) => e.id)).size")).toBe(0);
      await screenshots(page, 'ticket-files-requester');

      const pasted = await download(page, page.locator('.files-card a.file-name').first());
      expect(sha(pasted.bytes)).toBe(sha(sent));
    }, 90_000);

    test('when an agent removes a file, then the requester sees it removed, the timeline keeps both events, and it is no longer served', async () => {
      const alice = await h.open(ALICE, true);
      await fillNewTicket(alice, 'VPN drops (a file to remove)');
      await alice.getByLabel('Attach files').setInputFiles([{ name: 'password-in-here.txt', mimeType: 'text/plain', buffer: Buffer.from('hunter2') }]);
      const created = await clickAndLoad(alice, alice.getByRole('button', { name: 'Raise ticket' }));
      const url = new URL(created.url()).pathname;

      const carol = await h.open(CAROL, true);
      await visit(carol, url);
      await clickAndLoad(carol, carol.locator('.files-card').getByRole('link', { name: 'Remove password-in-here.txt' }));
      await carol.getByRole('heading', { name: 'Remove this file' }).waitFor();
      await h.audit(carol, 'about a file (agent)');
      await screenshots(carol, 'file-remove');
      await clickAndLoad(carol, carol.getByRole('button', { name: 'Remove file' }));
      await carol.getByText('The file has been removed.').waitFor();
      expect(await carol.locator('.timeline .event-file').allInnerTexts()).toEqual([
        expect.stringMatching(/attached password-in-here\.txt \(since removed\)/),
        expect.stringMatching(/removed password-in-here\.txt/),
      ]);
      await screenshots(carol, 'ticket-files-agent');

      await visit(alice, url);
      expect(await alice.locator('.files-card del').innerText()).toBe('password-in-here.txt');
      expect(await alice.locator('a', { hasText: 'password-in-here.txt' }).count()).toBe(0);
    }, 90_000);
  },
  { announceSkip: true },
);
