import type { IdentifyResult, IdentityProvider } from './types';

/**
 * The demo identity: the transport never names anyone; people are chosen with the
 * "act as" control, which starts an ordinary Deskside session. Config refuses it in
 * production and under iisnode.
 */
export function createDevProvider(): IdentityProvider {
  return {
    name: 'dev',
    identify: (): IdentifyResult => ({ kind: 'anonymous' }),
    challenges: () => [],
    startupWarnings: () => ['DESKSIDE_IDENTITY=dev: anyone can act as anyone. For demos and development only'],
  };
}
