import type { IncomingMessage } from 'node:http';
import type { IdentityKind } from '../config/schema';

/** How a person was recognised on this request or when their session began. */
export type IdentitySource = IdentityKind | 'negotiate' | 'password';

export interface Identity {
  login: string;
  domain: string;
  account: string;
  /** Lower-cased login: the comparison and storage key. */
  key: string;
  /** As reported by the authenticator, e.g. `Negotiate`, `NTLM`; `` when not known. */
  authType: string;
  source: IdentitySource;
}

export type IdentifyResult =
  | { kind: 'anonymous' }
  | { kind: 'person'; identity: Identity }
  /** The request carries identity data that cannot be genuine: answer 400, never guess. */
  | { kind: 'refused'; reason: string };

export interface IdentityProvider {
  readonly name: IdentityKind;
  /** Who does the transport say this is? Pure: reads the request, no I/O. */
  identify(req: IncomingMessage): IdentifyResult;
  /** `WWW-Authenticate` values for the sign-in 401; empty when no browser can answer. */
  challenges(): string[];
  /** Lines for the startup log that an administrator should see. */
  startupWarnings(): string[];
}
