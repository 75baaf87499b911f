import { PROXY_DEMO_ENV, startApp, type RunningApp } from './support/app-process';
import { clickAndLoad, describeWithChromium, Harness, launchChromium, screenshots, visit, writeAuditLog } from './support/browser';

/**
 * The API's pages in a real Chromium against the built app: someone makes a token and
 * sees it once, an admin lists tokens and sets up a webhook, anyone reads /api; with
 * JavaScript on and off, checked by axe, screenshots at every width.
 */
const CAROL = 'DEMO\\carol'; // agent
const ERIN = 'DEMO\\erin'; // admin

describeWithChromium(
  'the API pages in Chromium',
  () => {
    let app: RunningApp | undefined;
    let h: Harness;

    beforeAll(async () => {
      app = await startApp({ ...PROXY_DEMO_ENV, DESKSIDE_ANONYMOUS: 'browse' });
      h = new Harness(await launchChromium(), app.url);
    }, 60_000);

    afterAll(async () => {
      await h?.close();
      await app?.stop();
      writeAuditLog('axe-api.json');
    });

    describe.each([
      ['on', true],
      ['off', false],
    ])('with JavaScript %s', (_label, js) => {
      const shoot = async (page: Parameters<typeof screenshots>[0], name: string) => {
        if (js) await screenshots(page, name);
      };

      test('when an agent makes a token, then it is shown once and listed afterwards without it', async () => {
        const page = await h.open(CAROL, js);
        await visit(page, '/me');
        await clickAndLoad(page, page.getByRole('link', { name: 'Your API tokens' }));
        await page.getByRole('heading', { name: 'Make a token' }).waitFor();
        await clickAndLoad(page, page.getByRole('button', { name: 'Make token' }));
        // Nothing filled in: the messages come back beside the fields and in the summary.
        await page.getByRole('heading', { name: 'There is a problem' }).waitFor();
        await h.audit(page, 'tokens (errors)');
        await page.getByLabel('Name').fill(`Queue report ${js ? 'scripted' : 'scriptless'}`);
        await page.getByLabel('Read only: see tickets').check();
        await page.getByLabel('As an agent: the whole queue').check();
        await page.getByLabel('Expires after').selectOption('30');
        await clickAndLoad(page, page.getByRole('button', { name: 'Make token' }));
        const token = await page.getByLabel('Token', { exact: true }).inputValue();
        expect(token).toMatch(/^dsk_[A-Za-z0-9_-]{43}$/);
        await h.audit(page, 'tokens (new token)');
        await shoot(page, 'api-token-made');
        await visit(page, '/me/tokens');
        expect(await page.content()).not.toContain(token);
        await page.getByRole('button', { name: /Revoke Queue report/ }).first().waitFor();
      }, 60_000);

      test('when an admin adds a webhook, then its secret is shown once and its page has the log and tools', async () => {
        const page = await h.open(ERIN, js);
        await visit(page, '/admin/webhooks');
        await page.getByLabel('Name').fill(`Service desk channel ${js ? 'scripted' : 'scriptless'}`);
        await page.getByLabel('Address').fill('https://hooks.invalid/deskside');
        await page.getByLabel('A Microsoft Teams channel card').check();
        await page.getByLabel('urgent').check();
        await page.getByLabel('Desktop support', { exact: true }).check();
        await clickAndLoad(page, page.getByRole('button', { name: 'Add webhook' }));
        expect(await page.getByLabel('Signing secret', { exact: true }).inputValue()).toMatch(/^whsec_/);
        await page.getByText('(urgent only)').first().waitFor();
        await page.getByText('(Desktop support team only)').first().waitFor();
        await h.audit(page, 'webhooks (added)');
        await shoot(page, 'api-webhooks');
        await clickAndLoad(page, page.getByRole('link', { name: 'Send it a test message' }));
        await page.getByRole('heading', { name: 'Deliveries' }).waitFor();
        await h.audit(page, 'webhook');
        await shoot(page, 'api-webhook');
        await visit(page, '/admin/tokens');
        await page.getByRole('heading', { name: 'API tokens' }).waitFor();
        await h.audit(page, 'admin tokens');
        await shoot(page, 'api-admin-tokens');
      }, 60_000);

      test('when anyone reads /api, then every operation, the webhook checks and the problems are there', async () => {
        const page = await h.open(undefined, js);
        await visit(page, '/api');
        await page.getByRole('heading', { name: 'The Deskside API' }).waitFor();
        for (const op of ['GET /tickets', 'PATCH /tickets/{id}', 'POST /tickets/{id}/comments', 'GET /people']) await page.getByRole('link', { name: op }).first().waitFor();
        await page.locator('#problem-precondition-failed').waitFor();
        await page.getByRole('heading', { name: 'Webhooks' }).waitFor();
        await h.audit(page, 'api docs');
        await shoot(page, 'api-docs');
      }, 60_000);
    });
  },
  { announceSkip: true },
);
