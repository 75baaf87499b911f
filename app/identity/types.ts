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

/**
 * `address`: the client's address when the transport reports it (under iisnode, IIS's
 * REMOTE_ADDR: the socket is a pipe and has none); otherwise the socket's is used.
 */
export type IdentifyResult =
  | { kind: 'anonymous'; address?: string }
  /** `responseHeaders`: for the response, e.g. Kerberos' mutual-authentication token. */
  | { kind: 'person'; identity: Identity; responseHeaders?: Record<string, string>; address?: string }
  /** The request carries identity data that cannot be genuine: answer 400, never guess. */
  | { kind: 'refused'; reason: string }
  /** The browser offered credentials that did not verify (bad, replayed, expired ticket): 401 and the help page. */
  | { kind: 'rejected'; reason: string };

export interface IdentityProvider {
  readonly name: IdentityKind;
  /**
   * Who does the transport say this is? The header providers only read the request;
   * `negotiate` verifies a Kerberos ticket and asks the directory, so it may be async.
   */
  identify(req: IncomingMessage): IdentifyResult | Promise<IdentifyResult>;
  /** `WWW-Authenticate` values for the sign-in 401; empty when no browser can answer. */
  challenges(): string[];
  /** Lines for the startup log that an administrator should see. */
  startupWarnings(): string[];
  /** Checks that need I/O before the server listens (negotiate: the keytab); throws to refuse to start. */
  start?(): Promise<void>;
}
