/**
 * The whole "401 dance" in a real browser against a real domain: headless Chromium with
 * a Kerberos ticket from a Samba KDC, visiting the built server (production, negotiate
 * identity, AD over StartTLS) under a host name mapped to 127.0.0.1; and a browser with
 * no ticket using the password form.
 */
import type { Page } from 'playwright-core';
import { describeWithSamba } from '../support/samba';
import { spawnServer, waitForListening, waitForOutput, type RunningServer } from '../support/server-process';
import { describeWithChromium, launchKerberosChromium, type KerberosBrowser } from './chromium';
import { desksideEnv, freePort, startRealm, USER_PASSWORD, type Realm } from './realm';

jest.setTimeout(60_000);

describeWithChromium('single sign-on in Chromium', () => {
  describeWithSamba('against a Samba domain', () => {
    let realm: Realm;
    let server: RunningServer;
    let origin: string;
    const browsers: KerberosBrowser[] = [];

    beforeAll(async () => {
      realm = await startRealm();
      try {
        const port = await freePort();
        server = spawnServer(desksideEnv(realm, port));
        await waitForListening(server, { port });
        origin = `http://${realm.host}:${port}`;
      } catch (err) {
        await server?.stop();
        await realm.destroy();
        throw err;
      }
    }, 120_000);

    afterAll(async () => {
      for (const b of browsers) await b.close();
      await server?.stop();
      await realm?.destroy();
    });

    async function browserFor(ccache: string): Promise<Page> {
      const b = await launchKerberosChromium({ host: realm.host, krb5Conf: realm.krb5Conf, ccache });
      browsers.push(b);
      return b.context.pages()[0] ?? (await b.context.newPage());
    }
    const header = (page: Page) => page.locator('.user-area').innerText();

    test('when a domain user clicks "Sign in", then Chromium answers Negotiate by itself and the session outlives the page', async () => {
      const page = await browserFor(realm.kinit('carol'));
      const first = await page.goto(`${origin}/`);
      expect(first!.status()).toBe(200);
      expect(await header(page)).toContain('Browsing as a guest');

      // Chromium's network stack answers the 401 itself: the page only sees the final 303.
      const seen: number[] = [];
      page.on('response', (r) => {
        if (new URL(r.url()).pathname === '/sign-in') seen.push(r.status());
      });
      await page.locator('.user-area').getByRole('link', { name: 'Sign in' }).click();
      await page.waitForURL(`${origin}/`);
      expect(seen).toEqual([303]);
      // The server saw the dance: a 401 challenge, then a ticket for carol on the same URL.
      await waitForOutput(server, /"event":"sign-in","login":"TEST\\\\carol"/);
      const log = server.output();
      const challenged = log.search(/"url":"\/sign-in\?returnTo=%2F","status":401/);
      const signedIn = log.search(/"event":"sign-in","login":"TEST\\\\carol","source":"negotiate","authType":"Kerberos \(Negotiate\)"/);
      expect(challenged).toBeGreaterThan(-1);
      expect(signedIn).toBeGreaterThan(challenged);
      expect(await header(page)).toContain('Signed in as Carol Chen');

      await page.goto(`${origin}/me`);
      const roles = await page.locator('#roles-h + .table-wrap').innerText();
      expect(roles).toContain('DESKSIDE_AGENTS lists Helpdesk Agents, and you are a member of Helpdesk Agents');
      expect(await page.locator('body').innerText()).toContain('TEST\\Helpdesk Agents (through another group)');
      expect(await page.locator('body').innerText()).toContain('Kerberos (Negotiate)');

      // A later page load, with no further challenge: still signed in by Deskside's cookie.
      const later = await page.goto(`${origin}/`);
      expect((await later!.request().allHeaders()).authorization).toBeUndefined();
      expect(await header(page)).toContain('Signed in as Carol Chen');

      await page.getByRole('button', { name: 'Sign out' }).click();
      await page.waitForURL(`${origin}/`);
      expect(await header(page)).toContain('Browsing as a guest');
      await page.reload();
      expect(await header(page)).toContain('Browsing as a guest');
    });

    test('when a domain user follows a link to the ticket list without being signed in, then the browser signs in by itself and lands on it', async () => {
      const page = await browserFor(realm.kinit('carol'));
      const res = await page.goto(`${origin}/tickets`);
      expect(res!.status()).toBe(200);
      expect(new URL(page.url()).pathname).toBe('/tickets');
      expect(await header(page)).toContain('Signed in as Carol Chen');
      await page.getByRole('heading', { name: 'Ticket queue' }).waitFor();
    });

    test('when a person has no Kerberos ticket, then the 401 help page offers the password form and it signs them in', async () => {
      const page = await browserFor('FILE:/nonexistent/deskside-no-ticket');
      const r = await page.goto(`${origin}/sign-in?returnTo=%2Fme`);
      expect(r!.status()).toBe(401);
      expect(await page.locator('h1').innerText()).toBe('Sign in to Deskside');
      await page.getByRole('link', { name: 'sign in with your password' }).click();
      await page.getByLabel('Windows user name').fill('erin');
      await page.getByLabel('Password', { exact: true }).fill(USER_PASSWORD);
      await page.getByRole('button', { name: 'Sign in' }).click();
      await page.waitForURL(`${origin}/me`);
      expect(await header(page)).toContain('Signed in as Erin Ellis');
      const body = await page.locator('body').innerText();
      expect(body).toContain('your directory password');
      expect(body).toContain('DESKSIDE_ADMINS lists TEST\\Deskside Admins, and you are a member of Deskside Admins');
      expect(body).toContain('TEST\\Deskside Admins (through another group)');
    });

    test('when the password is wrong, the account unknown, or the account over its limit, then each gets its own page', async () => {
      const page = await browserFor('FILE:/nonexistent/deskside-no-ticket');
      const attempt = async (username: string, password: string) => {
        await page.goto(`${origin}/sign-in?returnTo=%2F`);
        await page.getByLabel('Windows user name').fill(username);
        await page.getByLabel('Password', { exact: true }).fill(password);
        const [res] = await Promise.all([page.waitForResponse((r) => r.url().endsWith('/sign-in/password')), page.getByRole('button', { name: 'Sign in' }).click()]);
        await page.waitForLoadState();
        return { status: res.status(), text: await page.locator('main, body').first().innerText() };
      };
      const generic = 'That user name and password did not match. Check them and try again.';

      const unknown = await attempt('TEST\\nobody', 'Any-Passw0rd!');
      expect(unknown.status).toBe(401);
      expect(unknown.text).toContain(generic);
      expect(await page.getByLabel('Windows user name').inputValue()).toBe('TEST\\nobody');
      expect(await page.getByLabel('Password', { exact: true }).inputValue()).toBe('');

      // dan: three wrong passwords (DESKSIDE_PASSWORD_ACCOUNT_ATTEMPTS=3), then even the right one waits.
      for (let i = 0; i < 3; i++) {
        const wrong = await attempt('dan', `Wrong-${i}-Passw0rd!`);
        expect(wrong.status).toBe(401);
        expect(wrong.text).toContain(generic);
      }
      // One check per submit: the answer carries no Negotiate challenge that would make
      // Chromium re-send the form (and count the password twice against the account).
      await waitForOutput(server, /("event":"password-signin-failed","login":"TEST\\\\dan"[\s\S]*){3}/);
      expect(server.output().match(/"event":"password-signin-failed","login":"TEST\\\\dan"/g)).toHaveLength(3);
      const limited = await attempt('dan@deskside.test', USER_PASSWORD);
      expect(limited.status).toBe(429);
      expect(limited.text).toContain('Too many sign-in attempts');
      expect(limited.text).toMatch(/password sign-in is paused for this account: try again in 1[45] minutes/);
      expect(await header(page)).toContain('Browsing as a guest');
    });
  });
});
