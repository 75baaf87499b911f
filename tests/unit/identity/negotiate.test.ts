import type { IncomingMessage } from 'node:http';
import { DirectoryCache } from '../../../app/directory/cache';
import { createNegotiateProvider, KERBEROS_MISSING_MESSAGE, type KerberosModule } from '../../../app/identity/negotiate';

function req(...authorization: string[]): IncomingMessage {
  const rawHeaders = authorization.flatMap((v) => ['Authorization', v]);
  return { rawHeaders, headers: authorization.length ? { authorization: authorization.join(', ') } : {} } as unknown as IncomingMessage;
}

const noDirectory = new DirectoryCache(null, { ttlMs: 1000, maxStaleMs: 1000 });

/** A stand-in for the kerberos package that records what reached it. */
function fakeKerberos(principal: string | Error) {
  const seen: string[] = [];
  const mod: KerberosModule = {
    async initializeServer() {
      const ctx = {
        username: '',
        contextComplete: false,
        async step(token: string): Promise<string> {
          seen.push(token);
          if (principal instanceof Error) throw principal;
          ctx.username = principal;
          ctx.contextComplete = true;
          return 'oYG3MIG0';
        },
      };
      return ctx;
    },
  };
  return { mod, seen };
}

describe('the negotiate identity provider', () => {
  test('when the kerberos package is missing, then start refuses with the fix named', async () => {
    const p = createNegotiateProvider({ keytab: '/etc/deskside.keytab', service: 'HTTP@helpdesk.corp.example', directory: noDirectory, loadKerberos: () => {
      throw Object.assign(new Error("Cannot find module 'kerberos'"), { code: 'MODULE_NOT_FOUND' });
    } });
    await expect(p.start!()).rejects.toThrow(KERBEROS_MISSING_MESSAGE);
    expect(KERBEROS_MISSING_MESSAGE).toMatch(/libkrb5-dev.*npm install/);
  });

  test('when the request carries no Negotiate token, then the caller is a guest and Kerberos is not asked', async () => {
    const k = fakeKerberos('alice@CORP.EXAMPLE');
    const p = createNegotiateProvider({ keytab: '/k', service: 'HTTP@h.example', directory: noDirectory, loadKerberos: () => k.mod });
    expect(await p.identify(req())).toEqual({ kind: 'anonymous' });
    expect(await p.identify(req('Basic YWxpY2U6cHc='))).toEqual({ kind: 'anonymous' });
    expect(k.seen).toEqual([]);
  });

  test('when the token is empty, not base64, huge, NTLM or sent twice, then it is rejected or refused before Kerberos sees it', async () => {
    const k = fakeKerberos('alice@CORP.EXAMPLE');
    const p = createNegotiateProvider({ keytab: '/k', service: 'HTTP@h.example', directory: noDirectory, loadKerberos: () => k.mod });
    for (const bad of ['Negotiate', 'Negotiate <script>', `Negotiate ${'A'.repeat(70_000)}`, 'Negotiate TlRMTVNTUAABAAAAB4IIogAAAAAAAAAAAAAAAAAAAAAKAGFKAAAADw==']) {
      expect(await p.identify(req(bad))).toMatchObject({ kind: 'rejected' });
    }
    expect(await p.identify(req('Negotiate YIIB', 'Negotiate YIIC'))).toMatchObject({ kind: 'refused' });
    expect(k.seen).toEqual([]);
  });

  test('when Kerberos accepts a ticket, then the principal becomes the person and the mutual-auth token goes back', async () => {
    const k = fakeKerberos('alice@CORP.EXAMPLE');
    const p = createNegotiateProvider({ keytab: '/k', service: 'HTTP@h.example', directory: noDirectory, loadKerberos: () => k.mod });
    expect(await p.identify(req('Negotiate YIIFxAYGKw=='))).toEqual({
      kind: 'person',
      identity: { login: 'alice@corp.example', domain: 'corp.example', account: 'alice', key: 'alice@corp.example', authType: 'Kerberos (Negotiate)', source: 'negotiate' },
      responseHeaders: { 'WWW-Authenticate': 'Negotiate oYG3MIG0' },
    });
  });

  test('when Kerberos refuses the ticket or names a service principal, then the request is rejected, not an error', async () => {
    const replay = fakeKerberos(new Error('Unspecified GSS failure.  Minor code may provide more information: Request is a replay'));
    const p = createNegotiateProvider({ keytab: '/k', service: 'HTTP@h.example', directory: noDirectory, loadKerberos: () => replay.mod });
    expect(await p.identify(req('Negotiate YIIFxAYGKw=='))).toEqual({ kind: 'rejected', reason: expect.stringMatching(/did not verify: .*Request is a replay/) });
    const host = fakeKerberos('HTTP/web01.corp.example@CORP.EXAMPLE');
    const q = createNegotiateProvider({ keytab: '/k', service: 'HTTP@h.example', directory: noDirectory, loadKerberos: () => host.mod });
    expect(await q.identify(req('Negotiate YIIFxAYGKw=='))).toMatchObject({ kind: 'rejected' });
  });
});
