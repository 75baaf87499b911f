import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { chromium, type Browser, type BrowserContext, type Locator, type Page, type Response } from 'playwright-core';
import type { AxeResults, Result } from 'axe-core';

/** Debian's Chromium binary; /usr/bin/chromium is a wrapper script that prints noise. */
export const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/lib/chromium/chromium';
export const SCREENSHOTS = path.resolve(__dirname, '..', 'screenshots');

export const chromiumAvailable = existsSync(CHROMIUM);
const inCi = /^(true|1)$/i.test(process.env.CI ?? '');

/**
 * `describe` when Chromium is here; otherwise CI fails (a required suite that cannot run
 * is a failure) and elsewhere the suite skips with one line saying how to enable it.
 */
export function describeWithChromium(name: string, body: () => void, opts: { announceSkip: boolean }): void {
  if (chromiumAvailable) return describe(name, body);
  if (inCi) {
    describe(name, () => {
      test('when CI=true, then Chromium must be installed for the browser suite', () => {
        throw new Error(`Chromium not found at ${CHROMIUM}; install it with: apt-get install -y chromium`);
      });
    });
    return;
  }
  if (opts.announceSkip) process.stderr.write(`browser suite skipped: no Chromium at ${CHROMIUM} (apt-get install -y chromium)\n`);
  describe.skip(name, body);
}

export async function launchChromium(): Promise<Browser> {
  // chromium.launch runs headless with a fresh temporary profile (user-data-dir) each time.
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}

/**
 * One browser against one running app: a context (cookie jar) per person, with the
 * trusted proxy's identity header or none for a guest, and JavaScript on or off.
 */
export class Harness {
  private auditor?: Promise<BrowserContext>;
  private readonly scriptOff = new WeakSet<BrowserContext>();
  readonly contexts: BrowserContext[] = [];

  constructor(
    readonly browser: Browser,
    readonly baseUrl: string,
  ) {}

  /** A new person with their own cookies; login is DOMAIN\\user, or undefined for a guest. */
  async open(login: string | undefined, js: boolean): Promise<Page> {
    const ctx = await this.browser.newContext({
      baseURL: this.baseUrl,
      javaScriptEnabled: js,
      viewport: { width: 1280, height: 800 },
      locale: 'en-GB',
      timezoneId: 'Europe/London',
      extraHTTPHeaders: login ? { 'X-Remote-User': login } : {},
    });
    ctx.setDefaultTimeout(15_000);
    if (!js) this.scriptOff.add(ctx);
    this.contexts.push(ctx);
    return ctx.newPage();
  }

  /**
   * Run axe-core on what the page shows now; fail on any "serious" or "critical"
   * violation. With JavaScript off the page itself cannot run axe (script execution is
   * disabled in that document: evaluate never gets a context and timers never fire), so
   * its exact HTML is served at the same URL to a script-enabled auditor page, with our
   * own scripts blocked: the audit sees the same document, stylesheet and viewport.
   */
  async audit(page: Page, name: string): Promise<void> {
    const url = page.url();
    const js = !this.scriptOff.has(page.context());
    let violations: Result[];
    if (js) {
      violations = await runAxe(page);
    } else {
      const html = await page.content();
      const ctx = await (this.auditor ??= this.browser.newContext({ javaScriptEnabled: true }));
      const copy = await ctx.newPage();
      try {
        await copy.setViewportSize(page.viewportSize() ?? { width: 1280, height: 800 });
        await copy.route('**/*', (route) => {
          const req = route.request();
          // The only navigation is to this copy (a URL's #fragment never reaches a route).
          if (req.isNavigationRequest()) return route.fulfill({ status: 200, contentType: 'text/html; charset=utf-8', body: html });
          if (req.resourceType() === 'script') return route.abort();
          return route.continue();
        });
        await copy.goto(url, { waitUntil: 'load' });
        const [seen, copied] = [await page.title(), await copy.title()];
        if (seen !== copied) throw new Error(`the auditor's copy of ${url} is "${copied}", not "${seen}"`);
        violations = await runAxe(copy);
      } finally {
        await copy.close();
      }
    }
    auditLog.push({
      name,
      url: url.replace(/^https?:\/\/[^/]+/, ''),
      js,
      violations: violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.map((n) => n.target.join(' ')) })),
    });
    const bad = violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
    if (bad.length) {
      const detail = bad
        .map((v) => `  ${v.impact} ${v.id}: ${v.help}\n${v.nodes.map((n) => `    at ${n.target.join(' ')}: ${(n.failureSummary ?? '').replace(/\n/g, ' ')}`).join('\n')}`)
        .join('\n');
      throw new Error(`axe-core found serious/critical problems on "${name}" (${url}, JavaScript ${js ? 'on' : 'off'}):\n${detail}`);
    }
  }

  async close(): Promise<void> {
    await this.browser.close();
  }
}

/**
 * Click something that submits a form or follows a link, and wait until the page it
 * leads to has loaded. Returns that page's response (for its status and headers).
 */
export async function clickAndLoad(page: Page, target: Locator): Promise<Response> {
  const [response] = await Promise.all([
    page.waitForResponse((r) => r.request().isNavigationRequest() && r.request().frame() === page.mainFrame() && (r.status() < 300 || r.status() >= 400)),
    target.click(),
  ]);
  await page.waitForLoadState('load');
  return response;
}

export async function visit(page: Page, url: string): Promise<Response> {
  const response = await page.goto(url, { waitUntil: 'load' });
  if (!response) throw new Error(`no response for ${url}`);
  return response;
}

/**
 * Wait until what `read` returns from the page satisfies `ok`, polling from the test
 * rather than inside the page: the app's Content-Security-Policy forbids eval, which
 * page.waitForFunction() needs for every poll after its first (so it only passed when
 * the first look already succeeded). Fails with the last value seen.
 */
export async function until<T>(what: string, read: () => Promise<T>, ok: (value: T) => boolean, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (ok(value)) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}; last seen: ${JSON.stringify(value)}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

// ---- axe-core ---------------------------------------------------------------------

const AXE_SOURCE = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');

export interface AuditRecord {
  name: string;
  url: string;
  js: boolean;
  violations: { id: string; impact: string | null | undefined; help: string; nodes: string[] }[];
}

/** Every audit of this test file, written next to the screenshots at the end. */
export const auditLog: AuditRecord[] = [];

async function runAxe(page: Page): Promise<Result[]> {
  // evaluate goes through the DevTools protocol, which our CSP does not restrict.
  await page.evaluate(AXE_SOURCE);
  const results = await page.evaluate<AxeResults>("axe.run(document, { resultTypes: ['violations'] })");
  return results.violations;
}

export function writeAuditLog(file: string): void {
  mkdirSync(SCREENSHOTS, { recursive: true });
  writeFileSync(path.join(SCREENSHOTS, file), `${JSON.stringify(auditLog, null, 2)}\n`);
}

// ---- screenshots ------------------------------------------------------------------

export const SIZES = [
  { width: 1280, height: 800 },
  { width: 375, height: 667 },
] as const;

/**
 * What a person sees at desktop and phone sizes (the viewport), plus the whole page at
 * phone width, where forms and timelines run far below the fold. Fails when the page is
 * wider than the screen at phone widths (down to 320 px). Needs JavaScript on.
 */
export async function screenshots(page: Page, name: string): Promise<void> {
  mkdirSync(SCREENSHOTS, { recursive: true });
  const before = page.viewportSize() ?? SIZES[0];
  // From the top, as the page first appears (after a reply the page scrolls to it).
  await page.evaluate('window.scrollTo(0, 0)');
  const tooWide: string[] = [];
  for (const size of [...SIZES, { width: 320, height: 568 }]) {
    await page.setViewportSize(size);
    const width = await page.evaluate<number>('document.documentElement.scrollWidth');
    if (width > size.width) tooWide.push(`${width}px wide on a ${size.width}px screen`);
    if (size.width === 320) continue;
    await page.screenshot({ path: path.join(SCREENSHOTS, `${name}-${size.width}.png`) });
    if (size.width === 375) await page.screenshot({ path: path.join(SCREENSHOTS, `${name}-375-full.png`), fullPage: true });
  }
  await page.setViewportSize(before);
  if (tooWide.length) throw new Error(`"${name}" scrolls sideways: ${tooWide.join('; ')}`);
}
