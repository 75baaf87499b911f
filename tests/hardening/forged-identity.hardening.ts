import { mkdtempSync, rmSync } from 'node:fs';
import { freePort } from '../support/http-client';
import os from 'node:os';
import path from 'node:path';
import { sign } from '../../app/signing';
import { deriveKeys } from '../../app/secret';
import { rawRequest, spawnServer, waitForListening, type RawResponse, type RunningServer } from '../support/server-process';
import { recordFigure } from './figures';

/**
 * Forged identities against the built app, as it runs in production: under iisnode (pipe),
 * with the iisnode identity but not under iisnode, and behind a trusted proxy. Every
 * variant tries to become CORP\erin (an admin) or to keep a session it should not have.
 */
const SECRET = 'hardening-secret-0123456789abcdefghijklmnopq';
const TARGET = 'corp\\erin';


type Where = { socketPath?: string; port?: number; localAddress?: string };
interface Variant {
  name: string;
  where: () => Where;
  headers: () => [string, string][];
  /** Is this response the forgery succeeding? */
  accepted: (res: RawResponse, me: { anonymous?: boolean; login?: string } | null) => boolean;
}

const becameTarget = (_res: RawResponse, me: { anonymous?: boolean; login?: string } | null) => !!me && me.anonymous === false && (me.login ?? '').toLowerCase() === TARGET;
const becameAnyone = (_res: RawResponse, me: { anonymous?: boolean } | null) => !!me && me.anonymous === false;

describe('forged identities', () => {
  let dir: string;
  let iis: RunningServer;
  let notIis: RunningServer;
  let proxy: RunningServer;
  let socketPath: string;
  let notIisPort: number;
  let proxyPort: number;
  let aliceCookie = '';
  let signedOutCookie = '';

  beforeAll(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'deskside-forge-'));
    socketPath = path.join(dir, 'iisnode.sock');
    notIisPort = await freePort();
    proxyPort = await freePort();
    const common = { NODE_ENV: 'production', DESKSIDE_SECRET: SECRET, DESKSIDE_ADMINS: 'CORP\\erin', DESKSIDE_LOG_LEVEL: 'warn' };
    iis = spawnServer({ ...common, IISNODE_VERSION: '0.2.26', PORT: socketPath });
    notIis = spawnServer({ ...common, DESKSIDE_IDENTITY: 'iisnode', PORT: String(notIisPort), DESKSIDE_HOST: '127.0.0.1' });
    proxy = spawnServer({ ...common, DESKSIDE_IDENTITY: 'proxy', DESKSIDE_TRUSTED_PROXIES: '127.0.0.1', PORT: String(proxyPort), DESKSIDE_HOST: '127.0.0.1' });
    await Promise.all([waitForListening(iis, { socketPath }), waitForListening(notIis, { port: notIisPort }), waitForListening(proxy, { port: proxyPort })]);
    // A genuine session for alice, and one that has been signed out.
    const signIn = async () => {
      const r = await rawRequest({ socketPath }, { path: '/me', headers: [['Host', 'h'], ['X-iisnode-LOGON_USER', 'CORP\\alice'], ['X-iisnode-AUTH_USER', 'CORP\\alice'], ['X-iisnode-AUTH_TYPE', 'Negotiate']] });
      return r.all('set-cookie').find((c) => c.startsWith('deskside_session='))!.split(';')[0];
    };
    aliceCookie = await signIn();
    signedOutCookie = await signIn();
    const page = await rawRequest({ socketPath }, { path: '/me', headers: [['Host', 'h'], ['Cookie', signedOutCookie], ['X-iisnode-LOGON_USER', ''], ['X-iisnode-AUTH_USER', ''], ['X-iisnode-AUTH_TYPE', '']] });
    const csrfCookie = page.all('set-cookie').find((c) => c.startsWith('deskside_csrf='))!.split(';')[0];
    const token = /name="_csrf" value="([^"]+)"/.exec(page.body)![1];
    const out = await rawRequest(
      { socketPath },
      { method: 'POST', path: '/sign-out', headers: [['Host', 'h'], ['Cookie', `${signedOutCookie}; ${csrfCookie}`], ['Content-Type', 'application/x-www-form-urlencoded'], ['X-iisnode-LOGON_USER', ''], ['X-iisnode-AUTH_USER', ''], ['X-iisnode-AUTH_TYPE', '']], body: `_csrf=${encodeURIComponent(token)}` },
    );
    expect(out.status).toBe(303);
  });

  afterAll(async () => {
    await Promise.all([iis?.stop(), notIis?.stop(), proxy?.stop()]);
    rmSync(dir, { recursive: true, force: true });
  });

  const anon: [string, string][] = [
    ['X-iisnode-LOGON_USER', ''],
    ['X-iisnode-AUTH_USER', ''],
    ['X-iisnode-AUTH_TYPE', ''],
  ];
  const iisWhere = () => ({ socketPath });
  const variants: Variant[] = [];

  // 1. A client-sent copy of each promoted variable, in three spellings, before or after iisnode's own.
  for (const v of ['LOGON_USER', 'AUTH_USER', 'AUTH_TYPE']) {
    for (const spell of [`X-iisnode-${v}`, `x-iisnode-${v.toLowerCase()}`, `X-IISNODE-${v}`]) {
      for (const order of ['before', 'after'] as const) {
        const forged: [string, string] = [spell, v === 'AUTH_TYPE' ? 'Negotiate' : 'CORP\\erin'];
        const genuine: [string, string][] = [
          ['X-iisnode-LOGON_USER', v === 'LOGON_USER' ? '' : 'CORP\\alice'],
          ['X-iisnode-AUTH_USER', v === 'AUTH_USER' ? '' : 'CORP\\alice'],
          ['X-iisnode-AUTH_TYPE', 'Negotiate'],
        ];
        variants.push({
          name: `duplicate ${spell} ${order} iisnode's`,
          where: iisWhere,
          headers: () => (order === 'before' ? [forged, ...genuine] : [...genuine, forged]),
          accepted: (res, me) => res.status !== 400 || becameTarget(res, me),
        });
      }
    }
  }
  // 2. Values of the wrong shape, as if IIS had passed them: refused, never an identity.
  const shapes: [string, string][] = [
    ['realm with dot-dot', 'erin@corp..example'],
    ['oversized', `CORP\\${'e'.repeat(5000)}`],
    ['dot-dot', '..'],
    ['dot-dot path', 'CORP\\..\\erin'],
    ['no domain', 'erin'],
    ['empty domain', '\\erin'],
    ['empty account', 'CORP\\'],
    ['two separators', 'CORP\\erin\\x'],
    ['forward slash', 'CORP/erin'],
    ['wildcard', 'CORP\\er*n'],
    ['both forms', 'CORP\\erin@corp.example'],
    ['quoted', '"CORP\\erin"'],
    ['tab inside', 'CORP\\er\tin'],
    ['filter metacharacters', 'CORP\\erin)(cn=*'],
    ['LDAP-escaped', 'CORP\\erin\\2a'],
  ];
  for (const [what, value] of shapes) {
    variants.push({
      name: `LOGON_USER ${what}`,
      where: iisWhere,
      headers: () => [['X-iisnode-LOGON_USER', value], ['X-iisnode-AUTH_USER', ''], ['X-iisnode-AUTH_TYPE', 'Negotiate']],
      accepted: (res, me) => res.status !== 400 || becameAnyone(res, me),
    });
  }
  // HTTP strips spaces around header values, so whitespace-only arrives empty: a guest.
  variants.push({
    name: 'LOGON_USER whitespace only',
    where: iisWhere,
    headers: () => [['X-iisnode-LOGON_USER', '   '], ['X-iisnode-AUTH_USER', '   '], ['X-iisnode-AUTH_TYPE', 'Negotiate']],
    accepted: becameAnyone,
  });
  // 3. AUTH_USER and LOGON_USER disagree.
  for (const [what, logon, auth] of [
    ['another user', 'CORP\\alice', 'CORP\\erin'],
    ['another domain', 'CORP\\erin', 'LAB\\erin'],
    ['AUTH_USER without LOGON_USER', '', 'CORP\\erin'],
  ] as const) {
    variants.push({
      name: `AUTH_USER vs LOGON_USER: ${what}`,
      where: iisWhere,
      headers: () => [['X-iisnode-LOGON_USER', logon], ['X-iisnode-AUTH_USER', auth], ['X-iisnode-AUTH_TYPE', 'Negotiate']],
      accepted: (res, me) => res.status !== 400 || becameAnyone(res, me),
    });
  }
  // 4. The iisnode headers when iisnode is not there: ignored entirely.
  for (const [what, headers] of [
    ['down-level', [['X-iisnode-LOGON_USER', 'CORP\\erin'], ['X-iisnode-AUTH_TYPE', 'Negotiate']]],
    ['UPN', [['X-iisnode-LOGON_USER', 'erin@corp.example']]],
    ['lower-case names', [['x-iisnode-logon_user', 'CORP\\erin'], ['x-iisnode-auth_user', 'CORP\\erin']]],
  ] as [string, [string, string][]][]) {
    variants.push({ name: `iisnode header, not under iisnode (${what})`, where: () => ({ port: notIisPort }), headers: () => headers, accepted: becameAnyone });
  }
  // 5. The proxy header from an untrusted address, and malformed from the trusted one.
  const untrusted = () => ({ port: proxyPort, localAddress: '127.0.0.7' });
  const trusted = () => ({ port: proxyPort, localAddress: '127.0.0.1' });
  for (const [what, where, headers] of [
    ['untrusted address', untrusted, [['X-Remote-User', 'CORP\\erin']]],
    ['untrusted, lower-case name', untrusted, [['x-remote-user', 'CORP\\erin']]],
    ['untrusted, spoofed X-Forwarded-For', untrusted, [['X-Forwarded-For', '127.0.0.1'], ['X-Remote-User', 'CORP\\erin']]],
    ['untrusted, twice', untrusted, [['X-Remote-User', 'CORP\\erin'], ['X-Remote-User', 'CORP\\erin']]],
    ['untrusted, iisnode header instead', untrusted, [['X-iisnode-LOGON_USER', 'CORP\\erin']]],
    ['trusted proxy, but twice', trusted, [['X-Remote-User', 'CORP\\alice'], ['X-Remote-User', 'CORP\\erin']]],
    ['trusted proxy, bad shape', trusted, [['X-Remote-User', 'erin']]],
    ['trusted proxy, comma-joined', trusted, [['X-Remote-User', 'CORP\\alice, CORP\\erin']]],
  ] as [string, () => Where, [string, string][]][]) {
    variants.push({
      name: `proxy header: ${what}`,
      where,
      headers: () => headers,
      accepted: (res, me) => (what.startsWith('trusted') ? res.status !== 400 || becameAnyone(res, me) : becameAnyone(res, me)),
    });
  }
  // 6. Session cookies: tampered, foreign, replayed after sign-out.
  const withCookie = (cookie: () => string) => () => [['Cookie', cookie()], ...anon] as [string, string][];
  const flip = (s: string, at: number) => s.slice(0, at) + (s[at] === 'A' ? 'B' : 'A') + s.slice(at + 1);
  for (const [what, cookie] of [
    ['token changed', () => { const [n, v] = aliceCookie.split('='); return `${n}=${flip(v, 3)}`; }],
    ['signature changed', () => { const [n, v] = aliceCookie.split('='); return `${n}=${flip(v, v.length - 2)}`; }],
    ['signature removed', () => aliceCookie.slice(0, aliceCookie.lastIndexOf('.'))],
    ['signed with another secret', () => { const token = aliceCookie.split('=')[1].split('.')[0]; return `deskside_session=${sign(deriveKeys('another-secret-0123456789abcdefghijklmnop').session, token)}`; }],
    ['a random token signed with the CSRF key', () => `deskside_session=${sign(deriveKeys(SECRET).csrf, 'A'.repeat(43))}`],
    ['replayed after sign-out', () => signedOutCookie],
    ['oversized', () => `deskside_session=${'A'.repeat(6000)}`],
  ] as [string, () => string][]) {
    variants.push({ name: `session cookie: ${what}`, where: iisWhere, headers: withCookie(cookie), accepted: becameAnyone });
  }

  test('when at least 50 forgeries are tried, then none is accepted', async () => {
    expect(variants.length).toBeGreaterThanOrEqual(50);
    const accepted: string[] = [];
    for (const v of variants) {
      const res = await rawRequest(v.where(), { path: '/me', headers: [['Host', 'helpdesk.corp.example'], ['Accept', 'application/json'], ...v.headers()] });
      let me: { anonymous?: boolean; login?: string } | null = null;
      try {
        me = res.status === 200 ? JSON.parse(res.body) : null;
      } catch {
        me = null;
      }
      if (res.status >= 500 || v.accepted(res, me)) accepted.push(`${v.name} -> ${res.status} ${res.body.slice(0, 120)}`);
    }
    recordFigure('forged identities tried', variants.length, '>= 50', variants.length >= 50);
    recordFigure('forged identities accepted', accepted.length, '0', accepted.length === 0);
    expect(accepted).toEqual([]);
    // The genuine session still works after all that.
    const me = await rawRequest({ socketPath }, { path: '/me', headers: [['Host', 'h'], ['Accept', 'application/json'], ['Cookie', aliceCookie], ...anon] });
    expect(JSON.parse(me.body)).toMatchObject({ anonymous: false, login: 'CORP\\alice' });
  });
});
