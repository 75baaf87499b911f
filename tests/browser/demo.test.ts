import type { Page } from 'playwright-core';
import { startApp, type RunningApp } from './support/app-process';
import { clickAndLoad, describeWithChromium, Harness, launchChromium, screenshots, visit, writeAuditLog } from './support/browser';

/**
 * The app as `npm start` runs it (development mode, no identity configured, so the dev
 * identity and demo data), tried by a newcomer who switches person with "act as".
 */
describeWithChromium(
  'the npm start demo in Chromium',
  () => {
    let app: RunningApp | undefined;
    let h: Harness;

    beforeAll(async () => {
      // Empty means unset to the app, and keeps a developer's own .env out of the test.
      app = await startApp({ DESKSIDE_IDENTITY: '' });
      h = new Harness(await launchChromium(), app.url);
    }, 60_000);

    afterAll(async () => {
      await h?.close();
      await app?.stop();
      writeAuditLog('axe-demo.json');
    });

    async function actAs(page: Page, option: string): Promise<void> {
      await page.getByLabel('Act as').selectOption(option);
      await clickAndLoad(page, page.getByRole('button', { name: 'Switch person' }));
    }

    const mainNav = (page: Page) => page.getByRole('navigation', { name: 'Main' });

    test.each([
      ['on', true],
      ['off', false],
    ])('when a newcomer switches person with "act as" (JavaScript %s), then each person sees their own Deskside', async (_label, js) => {
      const page = await h.open(undefined, js);
      await visit(page, '/');
      await page.getByRole('heading', { name: 'IT help, without the paperwork' }).waitFor();
      await page.getByText('Demo mode').waitFor();
      await h.audit(page, 'home (demo guest)');
      if (js) await screenshots(page, 'demo-home');

      await actAs(page, 'DEMO\\alice');
      await page.getByRole('heading', { name: 'Hello, Alice' }).waitFor();
      expect(await page.locator('.user-area').innerText()).toContain('Signed in as Alice Anders');
      expect(await mainNav(page).getByRole('link', { name: 'My tickets' }).count()).toBe(1);
      expect(await page.locator('.ticket-rows > li').count()).toBeGreaterThan(0);
      await h.audit(page, 'home (demo requester)');

      await actAs(page, 'DEMO\\erin');
      await page.getByRole('heading', { name: 'Good to see you, Erin' }).waitFor();
      expect(await mainNav(page).getByRole('link', { name: 'Queue' }).count()).toBe(1);
      expect(await mainNav(page).getByRole('link', { name: 'Admin' }).count()).toBe(1);
      await h.audit(page, 'home (demo admin)');

      await clickAndLoad(page, page.getByRole('link', { name: 'Erin Ellis' }));
      expect(new URL(page.url()).pathname).toBe('/me');
      expect(await page.locator('main').innerText()).toContain('the demo “act as” control');
      expect(await page.locator('table.data tbody').innerText()).toMatch(/DESKSIDE_ADMINS\s+lists\s+DEMO\\Deskside Admins, and you are a member of Deskside Admins/);
      await h.audit(page, '/me (demo admin)');

      await actAs(page, '');
      expect(new URL(page.url()).pathname).toBe('/me');
      await page.getByRole('heading', { name: 'You are browsing as a guest' }).waitFor();

      await visit(page, '/tickets');
      const challenge = await clickAndLoad(page, page.locator('.user-area').getByRole('link', { name: 'Sign in' }));
      expect(challenge.status()).toBe(401);
      await page.getByRole('heading', { name: 'Sign in to Deskside' }).waitFor();
      await h.audit(page, 'sign-in (demo)');
      await page.getByLabel('Continue as').selectOption('DEMO\\bob');
      await clickAndLoad(page, page.getByRole('button', { name: 'Continue' }));
      expect(new URL(page.url()).pathname).toBe('/tickets');
      await page.getByRole('heading', { name: 'My tickets' }).waitFor();
      expect(await page.locator('.user-area').innerText()).toContain('Signed in as Bob Brennan');

      await clickAndLoad(page, page.getByRole('button', { name: 'Sign out' }));
      expect(await page.locator('.user-area').innerText()).toContain('Browsing as a guest');
    }, 60_000);

    test.each([
      ['on', true],
      ['off', false],
    ])('when a page has an unlabelled field (JavaScript %s), then the accessibility audit fails', async (_label, js) => {
      // Proves the audit used by every journey can fail, in both of its ways of running.
      const page = await h.open(undefined, js);
      await page.route('**/broken', (route) =>
        route.fulfill({ contentType: 'text/html', body: '<!DOCTYPE html><html lang="en"><head><title>Broken</title></head><body><main><h1>Broken</h1><input type="text"></main></body></html>' }),
      );
      await visit(page, '/broken');
      await expect(h.audit(page, 'deliberately broken page')).rejects.toThrow(/critical label: Form elements must have labels/);
    });
  },
  { announceSkip: false },
);
