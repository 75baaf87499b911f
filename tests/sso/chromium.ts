/**
 * Headless Chromium set up for Windows sign-in on Linux, as a domain desktop would be:
 * a persistent profile whose `Local State` already says the browser has seen Negotiate
 * (a fresh Linux profile ignores the scheme until then) and not to canonicalise host
 * names through DNS, the site on the auth allowlist, the site's name mapped to loopback,
 * and the person's Kerberos credential cache in the environment.
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium, type BrowserContext } from 'playwright-core';
import { isCI } from '../support/samba';

export const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/lib/chromium/chromium';

/** `describe` that needs Chromium: fails under CI=true when missing, else skips with one line. */
export function describeWithChromium(name: string, fn: () => void): void {
  if (existsSync(CHROMIUM)) return describe(name, fn);
  if (isCI) {
    describe(name, () => {
      test('when CI=true, then Chromium is installed', () => {
        throw new Error(`CI=true but there is no Chromium at ${CHROMIUM}; apt-get install -y chromium`);
      });
    });
    return;
  }
  process.stderr.write(`skipped the Kerberos browser suite: no Chromium at ${CHROMIUM} (apt-get install -y chromium)\n`);
  describe.skip(name, fn);
}

export interface KerberosBrowser {
  context: BrowserContext;
  /** Stop Chromium and delete its profile. */
  close(): Promise<void>;
}

export async function launchKerberosChromium(opts: { host: string; krb5Conf: string; ccache: string; netLog?: string }): Promise<KerberosBrowser> {
  const profile = mkdtempSync(path.join(os.tmpdir(), 'deskside-chromium-'));
  try {
    mkdirSync(profile, { recursive: true });
    writeFileSync(path.join(profile, 'Local State'), JSON.stringify({ net: { received_http_auth_negotiate_headers: true }, auth: { disable_negotiate_cname_lookup: true } }));
    const context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        `--auth-server-allowlist=${opts.host}`,
        `--host-resolver-rules=MAP ${opts.host} 127.0.0.1`,
        ...(opts.netLog ? [`--log-net-log=${opts.netLog}`] : []),
      ],
      env: { PATH: process.env.PATH ?? '', HOME: profile, KRB5_CONFIG: opts.krb5Conf, KRB5CCNAME: opts.ccache },
      timeout: 30_000,
    });
    return {
      context,
      async close() {
        await context.close().catch(() => undefined);
        rmSync(profile, { recursive: true, force: true });
      },
    };
  } catch (err) {
    rmSync(profile, { recursive: true, force: true });
    throw err;
  }
}
