import type { Page } from 'playwright-core';
import { PROXY_DEMO_ENV, startApp, type RunningApp } from './support/app-process';
import { clickAndLoad, describeWithChromium, Harness, launchChromium, screenshots, visit, writeAuditLog } from './support/browser';

/**
 * Teams, service levels and the dashboard in a real Chromium against the built app, on
 * the demo data (three teams, the sample service levels, 60 tickets over 30 days), with
 * JavaScript on and off. Screenshots go to tests/browser/screenshots/.
 */
const ALICE = 'DEMO\\alice';
const CAROL = 'DEMO\\carol'; // agent, in Service Desk L1 (the "Service desk" team's group)
const ERIN = 'DEMO\\erin'; // admin

describeWithChromium(
  'teams, service levels and the dashboard in Chromium',
  () => {
    let app: RunningApp | undefined;
    let h: Harness;

    beforeAll(async () => {
      app = await startApp(PROXY_DEMO_ENV);
      h = new Harness(await launchChromium(), app.url);
    }, 60_000);

    afterAll(async () => {
      await h?.close();
      await app?.stop();
      writeAuditLog('axe-teams-dashboard.json');
    });

    /** The first open ticket whose service-level card says `badge` (Missed, Overdue …), looked up without rendering. */
    async function ticketShowing(page: Page, badge: string): Promise<number> {
      for (let id = 1; id <= 80; id++) {
        const r = await page.request.get(`/tickets/${id}`);
        const html = r.ok() ? await r.text() : '';
        if (html.includes('class="sla-clock ') && html.includes(`>${badge}</span>`) && /<span class="badge status-(new|open|pending)"><span class="visually-hidden">Status: /.test(html)) return id;
      }
      throw new Error(`no open demo ticket shows “${badge}”`);
    }

    describe.each([
      ['on', true],
      ['off', false],
    ])('with JavaScript %s', (_label, js) => {
      const tag = js ? 'scripted' : 'scriptless';
      const shoot = async (page: Page, name: string) => {
        if (js) await screenshots(page, name);
      };

      test('when an admin adds a team, then a bad form points at each field, and the team page lists who is in it through the group', async () => {
        const page = await h.open(ERIN, js);
        await visit(page, '/admin/teams');
        await page.getByRole('heading', { name: 'Teams', level: 1 }).waitFor();
        // The demo's teams are there already.
        for (const name of ['Desktop support', 'Infrastructure', 'Service desk']) await page.getByRole('link', { name }).first().waitFor();
        await h.audit(page, `teams (${tag})`);
        await shoot(page, 'admin-teams');

        await page.getByLabel('Name', { exact: true }).fill('Service desk');
        await page.getByLabel('Active Directory group (optional)').fill('DEMO\\No Such Group');
        await page.getByLabel('Members by login (optional)').fill('not a login');
        const bad = await clickAndLoad(page, page.getByRole('button', { name: 'Add team' }));
        expect(bad.status()).toBe(400);
        const summary = page.getByRole('alert');
        await summary.getByRole('link', { name: /already a team called “Service desk”/ }).waitFor();
        await summary.getByRole('link', { name: /no group “DEMO\\No Such Group”/ }).waitFor();
        await summary.getByRole('link', { name: /“not a login” is not a login/ }).waitFor();
        expect(await page.getByLabel('Members by login (optional)').inputValue()).toBe('not a login');
        await h.audit(page, `teams with errors (${tag})`);
        await shoot(page, 'admin-teams-errors');

        await page.getByLabel('Name', { exact: true }).fill(`Escalations ${tag}`);
        await page.getByLabel('Active Directory group (optional)').fill('DEMO\\Helpdesk Agents');
        await page.getByLabel('Members by login (optional)').fill('DEMO\\alice');
        const ok = await clickAndLoad(page, page.getByRole('button', { name: 'Add team' }));
        expect(ok.status()).toBe(200);
        await page.getByText('Team saved.').waitFor();
        const members = page.getByRole('table', { name: `Members of Escalations ${tag}` });
        // carol is in Service Desk L1, which is in Helpdesk Agents; erin through IT Operations; alice (listed) by her name.
        for (const name of ['Carol Chen', 'Dan Dubois', 'Erin Ellis', 'Alice Anders']) await members.getByRole('rowheader', { name: new RegExp(`^${name}`) }).waitFor();
        await h.audit(page, `a team (${tag})`);
        await shoot(page, 'admin-team');
      });

      test('when an admin opens the service levels, then the calendar and targets are one form whose mistakes are named beside each input', async () => {
        const page = await h.open(ERIN, js);
        await visit(page, '/admin/service-levels');
        expect(await page.getByLabel('Time zone').inputValue()).toBe('Europe/London');
        expect(await page.getByLabel('Urgent: first response within').inputValue()).toBe('1h');
        await h.audit(page, `service levels (${tag})`);
        await shoot(page, 'admin-service-levels');
        await page.getByLabel('Monday closes', { exact: true }).fill('07:00');
        await page.getByLabel('High: resolved within').fill('soon');
        const bad = await clickAndLoad(page, page.getByRole('button', { name: 'Save service levels' }));
        expect(bad.status()).toBe(400);
        await page.getByRole('alert').getByRole('link', { name: /Monday’s end time must be after its start time/ }).waitFor();
        await page.getByRole('alert').getByRole('link', { name: /Enter the time in hours and minutes/ }).waitFor();
        expect(await page.getByLabel('High: resolved within').inputValue()).toBe('soon');
        await h.audit(page, `service levels with errors (${tag})`);
        await shoot(page, 'admin-service-levels-errors');
      });

      test('when an agent opens a ticket that missed its target, then the card says so in words and the arithmetic opens on request', async () => {
        const page = await h.open(CAROL, js);
        await visit(page, '/');
        const id = await ticketShowing(page, 'Missed');
        await visit(page, `/tickets/${id}`);
        const card = page.getByRole('region', { name: 'Service level' });
        await card.getByText('Missed', { exact: true }).first().waitFor();
        const how = card.getByText('How this was worked out').first();
        await how.click();
        await card.getByText(/^Raised \w{3} \d+ \w{3} \d\d:\d\d; /).first().waitFor();
        await page.getByText(/recorded that the (first-response|resolution) target was/).first().waitFor();
        await h.audit(page, `a ticket that missed its target (${tag})`);
        await shoot(page, 'ticket-overdue');
        // The requester sees none of it.
        const requester = await h.open(ALICE, js);
        const mine = await ticketShowing(requester, 'Missed').catch(() => null);
        expect(mine).toBeNull();
      });

      test('when an agent opens the dashboard, then each chart has a title, a sentence and its numbers, and a number leads to those tickets', async () => {
        const page = await h.open(CAROL, js);
        await visit(page, '/dashboard');
        await page.getByRole('heading', { name: 'Dashboard', level: 1 }).waitFor();
        for (const title of ['Tickets raised and resolved, last 30 days', 'Tickets raised and resolved, last 90 days', 'Open tickets by team and priority', 'Age of open tickets', 'Open tickets per agent']) {
          const fig = page.getByRole('figure', { name: title });
          await fig.waitFor();
          expect(await fig.locator('svg.chart').count()).toBe(1);
          expect((await fig.locator('.figure-summary').innerText()).length).toBeGreaterThan(20);
        }
        await page.getByRole('figure', { name: /Service-level targets met/ }).waitFor();
        await h.audit(page, `dashboard (${tag})`);
        await shoot(page, 'dashboard');
        const backlog = page.getByRole('table', { name: 'Open tickets by team and priority' });
        const res = await clickAndLoad(page, backlog.getByRole('link', { name: 'Service desk' }));
        expect(res.status()).toBe(200);
        expect(page.url()).toMatch(/\/tickets\?team=\d+$/);
      });
    });
  },
  { announceSkip: true },
);
