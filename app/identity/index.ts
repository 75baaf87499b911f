import type { Config } from '../config/schema';
import type { DirectoryCache } from '../directory/cache';
import { createDevProvider } from './dev';
import { createIisnodeProvider } from './iisnode';
import { createNegotiateProvider } from './negotiate';
import { createProxyProvider } from './proxy';
import type { IdentityProvider } from './types';

export function createIdentityProvider(config: Config, onUntrustedProxy?: (address: string) => void, directory?: DirectoryCache): IdentityProvider {
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
    case 'negotiate':
      if (!config.kerberos || !directory) throw new Error('the negotiate identity needs the Kerberos settings and the directory');
      return createNegotiateProvider({ keytab: config.kerberos.keytab, service: config.kerberos.service, directory });
    case 'dev':
      return createDevProvider();
  }
}
