import type { IncomingMessage } from 'node:http';
import { isIP } from 'node:net';
import { parseLogin } from '../login';
import { normaliseAddress } from './proxy';
import { rawHeaderValues } from './raw-headers';
import type { IdentifyResult, IdentityProvider } from './types';

/**
 * The promoted server variables Deskside trusts: who the person is, and the address
 * their rate limits and log lines are kept under. Each must arrive exactly once (iisnode
 * appends its own after the client's headers). HTTPS is promoted too but decides only the
 * cookies' Secure flag, which a forged value could only turn against its sender.
 */
export const IISNODE_IDENTITY_HEADERS = [
  'x-iisnode-logon_user',
  'x-iisnode-auth_user',
  'x-iisnode-auth_type',
  'x-iisnode-remote_user',
  'x-iisnode-remote_addr',
] as const;

const AUTH_TYPE_RE = /^[A-Za-z][A-Za-z0-9-]{0,31}$/;

/**
 * Identity from IIS Windows authentication, as iisnode promotes it.
 *
 * iisnode copies the client's headers unchanged and then appends its own
 * `X-iisnode-<VAR>` headers, so a client can send a forged copy. A genuine request
 * therefore carries each header exactly once; two copies mean the client sent one and
 * is refused outright. Outside iisnode the headers can only be forged and are ignored.
 */
export function createIisnodeProvider(opts: { underIisnode: boolean }): IdentityProvider {
  return {
    name: 'iisnode',
    identify(req: IncomingMessage): IdentifyResult {
      if (!opts.underIisnode) return { kind: 'anonymous' };
      const seen = new Map<string, string>();
      for (const header of IISNODE_IDENTITY_HEADERS) {
        const values = rawHeaderValues(req, header);
        if (values.length > 1) return { kind: 'refused', reason: `${header} sent ${values.length} times` };
        if (values.length === 1) seen.set(header, values[0]);
      }
      const logonUser = seen.get('x-iisnode-logon_user') ?? '';
      const authUser = seen.get('x-iisnode-auth_user') ?? '';
      const authType = seen.get('x-iisnode-auth_type') ?? '';
      const remoteAddr = seen.get('x-iisnode-remote_addr');
      let address: string | undefined;
      if (remoteAddr !== undefined) {
        // IIS writes IPv6 link-local peers with their zone (fe80::1%12).
        if (!isIP(remoteAddr.split('%')[0])) return { kind: 'refused', reason: 'REMOTE_ADDR is not an IP address' };
        address = normaliseAddress(remoteAddr);
      }
      if (logonUser === '') {
        // IIS sends empty values for anonymous requests; anything else alongside is forged.
        if (authUser !== '') return { kind: 'refused', reason: 'AUTH_USER without LOGON_USER' };
        return { kind: 'anonymous', address };
      }
      const login = parseLogin(logonUser);
      if (!login) return { kind: 'refused', reason: 'LOGON_USER is not DOMAIN\\user or user@realm' };
      if (authUser !== '') {
        const other = parseLogin(authUser);
        if (!other || other.key !== login.key) return { kind: 'refused', reason: 'AUTH_USER and LOGON_USER disagree' };
      }
      if (authType !== '' && !AUTH_TYPE_RE.test(authType)) return { kind: 'refused', reason: 'AUTH_TYPE has an invalid shape' };
      return {
        kind: 'person',
        identity: {
          login: login.login,
          domain: login.domain,
          account: login.account,
          key: login.key,
          authType: describeAuthType(authType, req.headers.authorization),
          source: 'iisnode',
        },
        address,
      };
    },
    challenges: () => ['Negotiate', 'NTLM'],
    startupWarnings: () =>
      opts.underIisnode
        ? []
        : ['DESKSIDE_IDENTITY=iisnode but IISNODE_VERSION is not set: X-iisnode-* headers are ignored and everyone is anonymous'],
  };
}

/**
 * IIS reports `Negotiate` whether Kerberos or its NTLM fallback did the work. The
 * browser's Authorization header (which iisnode forwards on the request that carried
 * it) tells them apart: an NTLM message inside Negotiate starts with "NTLMSSP".
 */
export function describeAuthType(authType: string, authorization: string | undefined): string {
  if (!authType) return '';
  if (/^negotiate$/i.test(authType) && authorization) {
    const token = authorization.replace(/^Negotiate\s+/i, '');
    if (token.startsWith('TlRMTVNT')) return 'NTLM (via Negotiate)';
    if (token.startsWith('YI') || token.startsWith('oY')) return 'Kerberos (via Negotiate)';
  }
  if (/^kerberos$/i.test(authType)) return 'Kerberos';
  if (/^ntlm$/i.test(authType)) return 'NTLM';
  return authType;
}
