import type { Config } from '../config/schema';
import { createDevProvider } from './dev';
import { createIisnodeProvider } from './iisnode';
import { createProxyProvider } from './proxy';
import type { IdentityProvider } from './types';

export function createIdentityProvider(config: Config, onUntrustedProxy?: (address: string) => void): IdentityProvider {
  switch (config.identity) {
    case 'iisnode':
      return createIisnodeProvider({ underIisnode: config.underIisnode });
    case 'proxy':
      return createProxyProvider({
        header: config.proxyHeader,
        trustedProxies: config.trustedProxies,
        challenge: config.signinChallenge,
        onUntrusted: onUntrustedProxy,
      });
    case 'dev':
      return createDevProvider();
  }
}
