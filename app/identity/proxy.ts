import type { IncomingMessage } from 'node:http';
import { BlockList, isIP } from 'node:net';
import { parseLogin } from '../login';
import { rawHeaderValues } from './raw-headers';
import type { IdentifyResult, IdentityProvider } from './types';

export interface ProxyOptions {
  header: string;
  trustedProxies: string[];
  challenge: string;
  /** Called when the header arrives from an address that may not send it. */
  onUntrusted?: (remoteAddress: string) => void;
}

export function buildAddressList(entries: string[]): BlockList {
  const list = new BlockList();
  for (const entry of entries) {
    const [addr, bits] = entry.split('/');
    const family = isIP(addr) === 6 ? 'ipv6' : 'ipv4';
    if (bits === undefined) list.addAddress(addr, family);
    else list.addSubnet(addr, Number(bits), family);
  }
  return list;
}

export function normaliseAddress(address: string | undefined): string {
  if (!address) return '';
  // Dual-stack sockets report IPv4 peers as ::ffff:a.b.c.d.
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  return mapped ? mapped[1] : address;
}

export function isTrusted(list: BlockList, address: string | undefined): boolean {
  const addr = normaliseAddress(address);
  const family = isIP(addr);
  if (!family) return false;
  return list.check(addr, family === 6 ? 'ipv6' : 'ipv4');
}

/**
 * Identity from a reverse proxy (Apache mod_auth_gssapi, nginx, ARR) that has already
 * authenticated the browser and passes the login in a header. Only the configured
 * proxy addresses may set it; from anyone else it is a forgery and ignored.
 */
export function createProxyProvider(opts: ProxyOptions): IdentityProvider {
  const trusted = buildAddressList(opts.trustedProxies);
  return {
    name: 'proxy',
    identify(req: IncomingMessage): IdentifyResult {
      const values = rawHeaderValues(req, opts.header);
      if (values.length === 0) return { kind: 'anonymous' };
      if (!isTrusted(trusted, req.socket.remoteAddress)) {
        opts.onUntrusted?.(normaliseAddress(req.socket.remoteAddress));
        return { kind: 'anonymous' };
      }
      if (values.length > 1) return { kind: 'refused', reason: `${opts.header} sent ${values.length} times` };
      if (values[0] === '') return { kind: 'anonymous' };
      const login = parseLogin(values[0]);
      if (!login) return { kind: 'refused', reason: `${opts.header} is not DOMAIN\\user or user@realm` };
      return {
        kind: 'person',
        identity: { login: login.login, domain: login.domain, account: login.account, key: login.key, authType: '', source: 'proxy' },
      };
    },
    challenges: () => opts.challenge.split(',').map((s) => s.trim()).filter(Boolean),
    startupWarnings: () => [],
  };
}
