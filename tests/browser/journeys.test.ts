import type { Page } from 'playwright-core';
import { PROXY_DEMO_ENV, startApp, type RunningApp } from './support/app-process';
import { clickAndLoad, describeWithChromium, Harness, launchChromium, screenshots, visit, writeAuditLog } from './support/browser';

/**
 * Every role's journey in a real Chromium against the built app in production mode,
 * signed in by the trusted-proxy header (loopback is the proxy), once with JavaScript on
 * and once with it off. The demo directory answers for DEMO\alice … DEMO\erin, so roles
 * come from (nested) groups as they would from Active Directory.
 */
const ALICE = 'DEMO\\alice'; // requester
const BOB = 'DEMO\\bob'; // another requester
const CAROL = 'DEMO\\carol'; // agent through Service Desk L1 → Helpdesk Agents
const DAN = 'DEMO\\dan'; // agent
const ERIN = 'DEMO\\erin'; // admin through IT Operations → Deskside Admins

describeWithChromium(
  'Deskside in Chromium, signed in through a trusted proxy',
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
      writeAuditLog('axe-proxy.json');
    });

    /** A requester raises a ticket through the form; returns its number. */
    async function raiseTicket(page: Page, t: { title: string; description: string; category?: string; priority?: string }): Promise<number> {
      await visit(page, '/tickets/new');
      await page.getByLabel('Summary').fill(t.title);
      await page.getByLabel('What is happening?').fill(t.description);
      await chooseCategory(page, '#category', t.category ?? 'Hardware');
      await page.getByLabel('How urgent is it?').selectOption(t.priority ?? 'normal');
      const res = await clickAndLoad(page, page.getByRole('button', { name: 'Raise ticket' }));
      const m = /\/tickets\/(\d+)$/.exec(res.url());
      if (!m) throw new Error(`raising "${t.title}" did not lead to the new ticket: ${res.status()} ${res.url()}`);
      return Number(m[1]);
    }

    async function chooseCategory(page: Page, select: string, name: string): Promise<void> {
      const value = await page.locator(`${select} option`, { hasText: name }).first().getAttribute('value');
      await page.locator(select).selectOption(value);
    }

    const texts = (page: Page, selector: string) => page.locator(selector).allInnerTexts();

    describe.each([
      ['on', true],
      ['off', false],
    ])('with JavaScript %s', (_label, js) => {
      const tag = js ? 'scripted' : 'scriptless';
      const shoot = async (page: Page, name: string) => {
        if (js) await screenshots(page, name);
      };

      test('when a guest browses, then they read the known issues and help, never a ticket, and "sign in" explains itself with a 401 page', async () => {
        const page = await h.open(undefined, js);
        await visit(page, '/');
        await page.getByRole('heading', { name: 'IT help, without the paperwork' }).waitFor();
        expect(await page.getByRole('button', { name: 'Sign out' }).count()).toBe(0);
        const nav = page.getByRole('navigation', { name: 'Main' });
        expect(await nav.getByRole('link', { name: 'New ticket' }).count()).toBe(0);
        expect(await nav.getByRole('link', { name: /Tickets|Queue/ }).count()).toBe(0);
        await page.getByRole('heading', { name: 'Known issues right now' }).waitFor();
        await h.audit(page, 'home (guest)');
        await shoot(page, 'home-guest');

        await clickAndLoad(page, page.locator('.known-issues-now h3 a').first());
        expect(page.url()).toMatch(/\/known-issues\/\d+$/);
        await page.getByRole('heading', { name: 'Updates' }).waitFor();
        expect(await page.locator('form textarea, form select, button[type="submit"]').count()).toBe(0);
        expect(await page.getByText('Agents only').count()).toBe(0);
        await h.audit(page, 'known issue (guest)');
        await shoot(page, 'known-issue-guest');

        await clickAndLoad(page, nav.getByRole('link', { name: 'Help' }));
        await page.getByRole('heading', { name: 'Signing in' }).waitFor();
        await h.audit(page, 'help (guest)');

        // A link to someone's ticket asks a guest to sign in, and shows nothing of it.
        const direct = await visit(page, '/tickets/1');
        expect(direct.status()).toBe(401);
        await page.getByRole('heading', { name: 'Sign in to Deskside' }).waitFor();
        expect(await page.locator('.timeline, .ticket-title').count()).toBe(0);

        await visit(page, '/');
        const challenge = await clickAndLoad(page, page.locator('.user-area').getByRole('link', { name: 'Sign in' }));
        expect(challenge.status()).toBe(401);
        expect(challenge.headers()['www-authenticate']).toBe('Negotiate');
        await page.getByRole('heading', { name: 'Sign in to Deskside' }).waitFor();
        await h.audit(page, 'sign-in help (401)');
        await shoot(page, 'sign-in-401');

        await clickAndLoad(page, page.locator('main').getByRole('link', { name: 'Continue as a guest' }));
        await page.getByRole('heading', { name: 'IT help, without the paperwork' }).waitFor();
        expect(await page.locator('.user-area').innerText()).toContain('Browsing as a guest');
      }, 90_000);

      test('when a requester raises, follows, answers and closes a ticket, then it is theirs alone', async () => {
        const bob = await h.open(BOB, js);
        const bobsTitle = `Bob's ${tag} VPN drops every ten minutes`;
        const bobsTicket = await raiseTicket(bob, { title: bobsTitle, description: 'Since Monday, at home and on a hotspot.' });

        const page = await h.open(ALICE, js);
        await visit(page, '/');
        await page.getByRole('heading', { name: 'Hello, Alice' }).waitFor();
        await h.audit(page, 'home (requester)');
        await shoot(page, 'home-requester');

        await clickAndLoad(page, page.locator('.page-head').getByRole('link', { name: 'New ticket' }));
        await page.getByLabel('What is happening?').fill('The second screen flickers whenever the dock wakes up.');
        const refused = await clickAndLoad(page, page.getByRole('button', { name: 'Raise ticket' }));
        expect(refused.status()).toBe(400);
        await page.getByRole('heading', { name: 'There is a problem' }).waitFor();
        expect(await page.locator('#error-summary a[href="#title"]').innerText()).toBe('Enter a short summary of the problem');
        expect(await page.locator('#title-error').innerText()).toContain('Enter a short summary of the problem');
        expect(await page.getByLabel('What is happening?').inputValue()).toBe('The second screen flickers whenever the dock wakes up.');
        if (js) expect(await page.evaluate('document.activeElement.id')).toBe('error-summary'); // enhance.js moves focus there
        await h.audit(page, 'new ticket with a field error');
        await shoot(page, 'new-ticket-error');

        const title = `Alice's ${tag} monitor flickers on the dock`;
        await page.getByLabel('Summary').fill(title);
        await chooseCategory(page, '#category', 'Hardware');
        await page.getByLabel('How urgent is it?').selectOption('high');
        const created = await clickAndLoad(page, page.getByRole('button', { name: 'Raise ticket' }));
        expect(created.url()).toMatch(/\/tickets\/\d+$/);
        const id = Number(/\/tickets\/(\d+)/.exec(created.url())![1]);
        await page.getByText('Your ticket has been raised').waitFor();
        expect(await page.locator('h1').innerText()).toContain(title);
        expect(await texts(page, '.ticket-summary .badge')).toEqual([expect.stringMatching(/new/i), expect.stringMatching(/high/i)]);
        await h.audit(page, 'ticket just raised (requester)');

        await clickAndLoad(page, page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'My tickets' }));
        const mine = await texts(page, '.ticket-rows a.title');
        expect(mine).toContain(title);
        expect(mine).not.toContain(bobsTitle);
        await h.audit(page, 'my tickets');

        await clickAndLoad(page, page.getByRole('link', { name: title }));
        await page.getByLabel('Message').fill('It also happens with the spare dock from the store room.');
        await clickAndLoad(page, page.getByRole('button', { name: 'Send' }));
        await page.getByText('Added to the conversation').waitFor();
        expect(await texts(page, '.timeline .comment-body')).toContain('It also happens with the spare dock from the store room.');
        expect(await page.getByLabel('Internal note — only agents will see it').count()).toBe(0);
        await h.audit(page, 'ticket after a reply (requester)');

        await clickAndLoad(page, page.getByRole('button', { name: 'Close ticket' }));
        await page.getByText('Changes saved').waitFor();
        expect(await texts(page, '.ticket-summary .badge')).toEqual([expect.stringMatching(/closed/i), expect.stringMatching(/high/i)]);
        await page.getByRole('button', { name: 'Reopen ticket' }).waitFor();
        expect(page.url()).toContain(`/tickets/${id}`);
        await h.audit(page, 'closed ticket (requester)');

        const forbidden = await visit(page, `/tickets/${bobsTicket}`);
        expect(forbidden.status()).toBe(403);
        await page.getByRole('heading', { name: 'You do not have access to this' }).waitFor();
        expect(await page.locator('main').innerText()).not.toContain(bobsTitle);
        await h.audit(page, 'someone else’s ticket (403)');
        await shoot(page, 'forbidden-403');
      }, 90_000);

      test('when an agent works the queue, then filters, assignment, status, priority and an internal note all hold, and the requester never sees the note', async () => {
        const word = js ? 'Quokka' : 'Wombat';
        const bob = await h.open(BOB, js);
        const title = `Docking station ignores the ${word} monitor`;
        const id = await raiseTicket(bob, { title, description: 'Only the left screen stays black.', category: 'Hardware' });

        const page = await h.open(DAN, js);
        await visit(page, '/');
        await page.getByRole('heading', { name: 'Good to see you, Dan' }).waitFor();
        await h.audit(page, 'home (agent)');
        await shoot(page, 'home-agent');

        await clickAndLoad(page, page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Queue' }));
        await page.getByRole('heading', { name: 'Ticket queue' }).waitFor();
        expect(await page.locator('.ticket-rows > li').count()).toBeGreaterThan(10);
        await h.audit(page, 'ticket queue');
        await shoot(page, 'ticket-list');

        await page.getByLabel('Search').fill(word);
        await page.locator('#f-status').selectOption('new');
        await page.locator('#f-priority').selectOption('normal');
        await clickAndLoad(page, page.getByRole('button', { name: 'Apply filters' }));
        const filtered = new URL(page.url()).searchParams;
        expect([filtered.get('q'), filtered.get('status'), filtered.get('priority')]).toEqual([word, 'new', 'normal']);
        expect(await texts(page, '.ticket-rows a.title')).toEqual([title]);
        await h.audit(page, 'filtered queue');

        await clickAndLoad(page, page.getByRole('link', { name: 'Unassigned' }));
        expect(new URL(page.url()).searchParams.get('assignee')).toBe('none');
        expect(await texts(page, '.ticket-rows a.title')).toEqual([title]);

        await clickAndLoad(page, page.getByRole('link', { name: title }));
        expect(await page.locator('.ticket-side').innerText()).toContain('bob@demo.example');
        await clickAndLoad(page, page.getByRole('button', { name: 'Assign to me' }));
        await page.getByText('Changes saved').waitFor();
        expect(await page.locator('.ticket-side dd').nth(1).innerText()).toBe('Dan Dubois');
        expect(await page.getByRole('button', { name: 'Assign to me' }).count()).toBe(0);
        await h.audit(page, 'ticket assigned to me (agent)');

        await page.getByLabel('Status').selectOption('pending');
        await page.locator('#priority').selectOption('urgent');
        await clickAndLoad(page, page.getByRole('button', { name: 'Save changes' }));
        await page.getByText('Changes saved').waitFor();
        expect(await texts(page, '.ticket-summary .badge')).toEqual([expect.stringMatching(/pending/i), expect.stringMatching(/urgent/i)]);
        const changes = (await texts(page, '.timeline .change')).join('\n');
        expect(changes).toMatch(/Dan Dubois\s+assigned it to Dan Dubois/);
        expect(changes).toMatch(/changed the status from\s+open\s+to\s+pending/i);
        expect(changes).toMatch(/changed the priority from\s+normal\s+to\s+urgent/i);

        const note = `Internal: firmware 2.1 on this ${word} dock is known bad; swap it.`;
        await page.getByLabel('Message').fill(note);
        await page.getByLabel('Internal note — only agents will see it').check();
        await clickAndLoad(page, page.getByRole('button', { name: 'Send' }));
        await page.getByText('Added to the conversation').waitFor();
        const reply = 'Thanks Bob, I am bringing you a replacement dock this afternoon.';
        await page.getByLabel('Message').fill(reply);
        await clickAndLoad(page, page.getByRole('button', { name: 'Send' }));
        await page.getByText('Added to the conversation').waitFor();
        expect(await texts(page, '.timeline .event-note .comment-body')).toEqual([note]);
        expect(await texts(page, '.timeline > li.event-comment .comment-body')).toContain(reply);
        await h.audit(page, 'ticket with an internal note (agent)');
        await shoot(page, 'ticket-page');

        await visit(bob, `/tickets/${id}`);
        const bobSees = await bob.locator('main').innerText();
        expect(bobSees).toContain(reply);
        expect(bobSees).not.toContain('firmware 2.1');
        expect(await bob.locator('.timeline .event-note').count()).toBe(0);
        expect(await bob.getByRole('heading', { name: 'Update ticket' }).count()).toBe(0);
        await h.audit(bob, 'ticket with a hidden note (requester)');

        const guest = await h.open(undefined, js);
        expect((await visit(guest, `/tickets/${id}`)).status()).toBe(401);
        const guestSees = await guest.locator('main').innerText();
        for (const secret of [title, reply, 'firmware 2.1', 'bob@demo.example']) expect(guestSees).not.toContain(secret);
      }, 90_000);

      test('when an agent publishes a known issue and links a ticket, then its requester reads the updates on their ticket and others join with one click', async () => {
        const word = js ? 'Kestrel' : 'Heron';
        const bob = await h.open(BOB, js);
        const bobsTicket = await raiseTicket(bob, { title: `Printing to ${word} fails from every laptop`, description: 'The job disappears from the queue.', category: 'Printing' });

        const dan = await h.open(DAN, js);
        await visit(dan, '/known-issues');
        await clickAndLoad(dan, dan.getByRole('link', { name: 'Publish a known issue' }));
        const kiTitle = `The ${word} print server is down`;
        await dan.getByLabel('Public title').fill(kiTitle);
        await dan.getByLabel('Summary').fill('Nothing prints on floors 2 and 3. Use the printers on floor 1 meanwhile.');
        await dan.locator('#category').selectOption({ label: 'Printing' });
        await clickAndLoad(dan, dan.getByRole('button', { name: 'Publish known issue' }));
        await dan.getByText('Published. Everyone who can browse Deskside sees it now.').waitFor();
        const kiUrl = new URL(dan.url()).pathname;
        await dan.getByLabel('Link a ticket').fill(String(bobsTicket));
        await clickAndLoad(dan, dan.getByRole('button', { name: 'Link ticket' }));
        await dan.getByText('Ticket linked.').waitFor();
        const update = `The ${word} server's disk is being replaced; printing is back by 15:00.`;
        await dan.getByLabel('Update', { exact: true }).fill(update);
        await clickAndLoad(dan, dan.getByRole('button', { name: 'Publish update' }));
        await dan.getByText('Update published, and added to every linked ticket.').waitFor();
        await h.audit(dan, 'known issue (agent)');
        await shoot(dan, 'known-issue-agent');

        await visit(bob, `/tickets/${bobsTicket}`);
        await bob.locator('.ki-notice').getByRole('link', { name: kiTitle }).waitFor();
        expect(await texts(bob, '.timeline .event-issue-update .comment-body')).toEqual([update]);
        await h.audit(bob, 'ticket with a known issue update (requester)');
        await shoot(bob, 'ticket-known-issue-update');

        const alice = await h.open(ALICE, js);
        await visit(alice, '/tickets/new');
        const card = alice.locator('.known-issue', { hasText: kiTitle });
        await card.waitFor();
        await h.audit(alice, 'new ticket with known issues');
        await shoot(alice, 'new-ticket-known-issues');
        await clickAndLoad(alice, card.getByRole('button', { name: 'This is my problem too' }));
        await alice.getByText('Your ticket has been raised and linked to the known issue').waitFor();
        expect(await alice.locator('h1').innerText()).toContain(`Affected by: ${kiTitle}`);
        const alicesTicket = new URL(alice.url()).pathname;

        // Resolving the known issue resolves both linked tickets.
        await visit(dan, kiUrl);
        await dan.locator('#status').selectOption('resolved');
        await dan.getByLabel('When resolving, also resolve the linked tickets that are still open').check();
        await clickAndLoad(dan, dan.getByRole('button', { name: 'Save changes' }));
        await dan.getByText('Changes saved').waitFor();
        await visit(alice, alicesTicket);
        expect(await texts(alice, '.ticket-summary .badge')).toEqual([expect.stringMatching(/resolved/i), expect.stringMatching(/normal/i)]);
        await visit(bob, `/tickets/${bobsTicket}`);
        expect((await texts(bob, '.ticket-summary .badge'))[0]).toMatch(/resolved/i);
      }, 90_000);

      test('when two agents change the same ticket, then the second gets the conflict page, and re-applying keeps both changes', async () => {
        const bob = await h.open(BOB, js);
        const title = `Outlook keeps asking for a password (${tag})`;
        const id = await raiseTicket(bob, { title, description: 'The prompt comes back every few minutes.', category: 'Email' });

        const dan = await h.open(DAN, js);
        const carol = await h.open(CAROL, js);
        await visit(dan, `/tickets/${id}`);
        await visit(carol, `/tickets/${id}`);

        await carol.locator('#priority').selectOption('high');
        await clickAndLoad(carol, carol.getByRole('button', { name: 'Save changes' }));
        await carol.getByText('Changes saved').waitFor();

        await dan.getByLabel('Status').selectOption('pending');
        const conflict = await clickAndLoad(dan, dan.getByRole('button', { name: 'Save changes' }));
        expect(conflict.status()).toBe(409);
        await dan.getByRole('heading', { name: 'Someone else changed this ticket first' }).waitFor();
        expect(await dan.locator('.timeline').innerText()).toMatch(/Carol Chen\s+changed the priority from\s+normal\s+to\s+high/i);
        expect(await texts(dan, '.diff-table tbody th')).toEqual(['Status']);
        await h.audit(dan, 'conflict (409)');
        await shoot(dan, 'conflict-409');

        await clickAndLoad(dan, dan.getByRole('button', { name: 'Apply my changes anyway' }));
        await dan.getByText('Changes saved').waitFor();
        expect(new URL(dan.url()).pathname).toBe(`/tickets/${id}`);
        expect(await texts(dan, '.ticket-summary .badge')).toEqual([expect.stringMatching(/pending/i), expect.stringMatching(/high/i)]);
        await h.audit(dan, 'ticket after re-applying (agent)');
      }, 90_000);

      test('when an administrator opens /me, then they see their groups, nested ones marked, and the setting behind each role', async () => {
        const page = await h.open(ERIN, js);
        await visit(page, '/me');
        await page.getByRole('heading', { name: 'Your account' }).waitFor();
        expect(await texts(page, 'table.data .role-badge')).toEqual(['Requester', 'Agent', 'Admin']);
        const roles = await page.locator('table.data tbody').innerText();
        expect(roles).toMatch(/DESKSIDE_ADMINS\s+lists\s+DEMO\\Deskside Admins, and you are a member of Deskside Admins/);
        const groups = await texts(page, '[aria-labelledby="groups-h"] li');
        expect(groups).toEqual(expect.arrayContaining(['DEMO\\IT Operations', 'DEMO\\Deskside Admins (through another group)', 'DEMO\\Helpdesk Agents (through another group)']));
        expect(await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Admin' }).count()).toBe(1);
        await h.audit(page, '/me (admin)');
        await shoot(page, 'me-admin');
      }, 60_000);
    });

    test('when a keyboard user tabs through the new-ticket form, then the skip link comes first and each focused control shows a clear focus ring', async () => {
      const page = await h.open(ALICE, true);
      await visit(page, '/tickets/new');
      const focused = async () =>
        page.evaluate<{ what: string; cls: string; outline: string; width: number; onScreen: boolean }>(`(() => {
          const el = document.activeElement, cs = getComputedStyle(el), box = el.getBoundingClientRect();
          return { what: el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') + ' "' + (el.textContent || '').trim().slice(0, 30) + '"',
                   cls: el.className, outline: cs.outlineStyle, width: parseFloat(cs.outlineWidth), onScreen: box.right > 0 && box.bottom > 0 && box.width > 0 };
        })()`);

      await page.keyboard.press('Tab');
      const first = await focused();
      expect(first.cls).toBe('skip-link');
      expect(first.onScreen).toBe(true);

      const unclear: string[] = [];
      for (let i = 0; i < 14; i++) {
        const f = await focused();
        if (f.outline === 'none' || f.width < 2 || !f.onScreen) unclear.push(`${f.what}: outline ${f.outline} ${f.width}px${f.onScreen ? '' : ', off screen'}`);
        await page.keyboard.press('Tab');
      }
      expect(unclear).toEqual([]);

      await page.getByLabel('Summary').focus();
      await screenshots(page, 'focus-new-ticket');
    });
  },
  { announceSkip: true },
);
