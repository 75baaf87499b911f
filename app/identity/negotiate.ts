import type { IncomingMessage } from 'node:http';
import type { DirectoryCache } from '../directory/cache';
import { canonicalLogin, principalToLogin } from './canonical';
import { rawHeaderValues } from './raw-headers';
import type { IdentifyResult, IdentityProvider } from './types';

/** The parts of the `kerberos` package this provider uses. */
export interface KerberosModule {
  initializeServer(service: string): Promise<{ step(token: string): Promise<string>; username: string; contextComplete: boolean }>;
}

export interface NegotiateOptions {
  keytab: string;
  /** `HTTP@helpdesk.corp.example` */
  service: string;
  directory: DirectoryCache;
  /** How to load the optional `kerberos` package (tests inject a failing loader). */
  loadKerberos?: () => KerberosModule;
}

export class NegotiateStartError extends Error {}

/** Kerberos tickets arrive as SPNEGO or raw Kerberos tokens; far below this bound. */
const MAX_TOKEN_LENGTH = 64 * 1024;
const BASE64_RE = /^[A-Za-z0-9+/]+={0,2}$/;

export const KERBEROS_MISSING_MESSAGE =
  'DESKSIDE_IDENTITY=negotiate needs the optional "kerberos" package, which is not installed or did not build here. ' +
  'Install the Kerberos development files and build it: apt-get install libkrb5-dev (Debian/Ubuntu) or dnf install krb5-devel (RHEL), ' +
  'plus python3, make and g++, then run npm install (or npm rebuild kerberos) in the app folder.';

/**
 * Windows sign-in without IIS: the browser answers the sign-in 401 with
 * `Authorization: Negotiate <token>`; the ticket inside is checked against the service's
 * keytab (MIT Kerberos through the `kerberos` package). One round trip: Kerberos inside
 * SPNEGO completes at once; NTLM (which would need a second leg and a domain controller
 * conversation) is not accepted. The replay cache of the Kerberos library refuses a
 * token seen before, across processes on this server.
 */
export function createNegotiateProvider(opts: NegotiateOptions): IdentityProvider {
  let kerberos: KerberosModule | null = null;
  const load = (): KerberosModule => {
    if (kerberos) return kerberos;
    try {
      // eslint-disable-next-line @typescript-eslint/no-require-imports -- an optional native package, loaded only when the negotiate identity starts
      kerberos = (opts.loadKerberos ?? (() => require('kerberos') as KerberosModule))();
    } catch (err) {
      throw new NegotiateStartError(`${KERBEROS_MISSING_MESSAGE} (${(err as Error).message.split('\n')[0]})`);
    }
    return kerberos;
  };
  // MIT Kerberos finds the acceptor's keys through KRB5_KTNAME; set before any GSS call.
  process.env.KRB5_KTNAME = `FILE:${opts.keytab}`;

  return {
    name: 'negotiate',
    async identify(req: IncomingMessage): Promise<IdentifyResult> {
      const values = rawHeaderValues(req, 'authorization');
      if (values.length === 0) return { kind: 'anonymous' };
      if (values.length > 1) return { kind: 'refused', reason: 'Authorization sent more than once' };
      const m = /^Negotiate(?:\s+(.*))?$/i.exec(values[0]);
      // Other schemes (Basic, Bearer) are not ours to judge: the person is simply a guest.
      if (!m) return { kind: 'anonymous' };
      const token = (m[1] ?? '').trim();
      if (!token || token.length > MAX_TOKEN_LENGTH || !BASE64_RE.test(token)) return { kind: 'rejected', reason: 'the Negotiate token is empty, too long or not base64' };
      if (token.startsWith('TlRMTVNT')) return { kind: 'rejected', reason: 'the browser offered NTLM; only Kerberos is accepted without IIS' };
      let principal: string;
      let response: string;
      try {
        const server = await load().initializeServer(opts.service);
        response = await server.step(token);
        if (!server.contextComplete) return { kind: 'rejected', reason: 'the Negotiate exchange needs another round trip (NTLM?), which is not supported' };
        principal = server.username;
      } catch (err) {
        if (err instanceof NegotiateStartError) throw err;
        return { kind: 'rejected', reason: `the Kerberos ticket did not verify: ${(err as Error).message}` };
      }
      const given = principalToLogin(principal);
      if (!given) return { kind: 'rejected', reason: `the principal ${JSON.stringify(principal)} is not a person` };
      const { login } = await canonicalLogin(opts.directory, given);
      return {
        kind: 'person',
        identity: { login: login.login, domain: login.domain, account: login.account, key: login.key, authType: 'Kerberos (Negotiate)', source: 'negotiate' },
        ...(response ? { responseHeaders: { 'WWW-Authenticate': `Negotiate ${response}` } } : {}),
      };
    },
    challenges: () => ['Negotiate'],
    startupWarnings: () => (opts.directory.enabled ? [] : ['DESKSIDE_IDENTITY=negotiate without DESKSIDE_LDAP_URL: people are known by their Kerberos principal (alice@corp.example), have no groups, and only logins in DESKSIDE_AGENTS/ADMINS give roles']),
    async start() {
      const k = load();
      try {
        // Acquiring the acceptor credential reads the keytab: a wrong service name or an
        // unreadable keytab shows now, not at the first person's sign-in.
        await k.initializeServer(opts.service);
      } catch (err) {
        throw new NegotiateStartError(
          `DESKSIDE_KERBEROS_SERVICE=${opts.service} cannot be used with DESKSIDE_KERBEROS_KEYTAB=${opts.keytab}: ${(err as Error).message}. ` +
            `The keytab must hold keys for ${opts.service.replace('@', '/')} (check with: klist -k -e ${opts.keytab})`,
        );
      }
    },
  };
}
