import { readFileSync } from 'node:fs';
import path from 'node:path';
import { KEY_DOCS, parseConfig, withConfigTable } from '../../../app/config/schema';
import { configProblems } from '../../support/config';


describe('parseConfig', () => {
  test('when nothing is set outside production, then the demo identity and browse mode apply', () => {
    const c = parseConfig({});
    expect(c).toMatchObject({ identity: 'dev', anonymous: 'browse', port: 3000, database: 'sqlite:App_Data/deskside.db', demoData: true });
    expect(c.agents).toEqual(['DEMO\\Helpdesk Agents']);
  });

  test('when iisnode starts the app, then the identity defaults to iisnode', () => {
    expect(parseConfig({ IISNODE_VERSION: '0.2.26', NODE_ENV: 'production' }).identity).toBe('iisnode');
  });

  test('when production has no identity, then startup fails naming the key and the accepted values', () => {
    expect(configProblems({ NODE_ENV: 'production' })).toEqual([expect.stringMatching(/^DESKSIDE_IDENTITY is required .* accepted values: iisnode, proxy/)]);
  });

  test('when dev is chosen in production or under iisnode, then it is refused', () => {
    expect(configProblems({ NODE_ENV: 'production', DESKSIDE_IDENTITY: 'dev' }).join()).toMatch(/DESKSIDE_IDENTITY=dev is refused when NODE_ENV=production/);
    expect(configProblems({ IISNODE_VERSION: '1', DESKSIDE_IDENTITY: 'dev' }).join()).toMatch(/refused under iisnode/);
  });

  test('when PORT is a pipe name, then it is kept as a string and never parsed as a number', () => {
    expect(parseConfig({ PORT: '\\\\.\\pipe\\8ac8a5a4-6c1b-4e6c-9b36-6e3c7d2d2bfa' }).port).toBe('\\\\.\\pipe\\8ac8a5a4-6c1b-4e6c-9b36-6e3c7d2d2bfa');
    expect(parseConfig({ PORT: '8080' }).port).toBe(8080);
  });

  test('when several keys are wrong, then every problem is reported at once', () => {
    const problems = configProblems({ DESKSIDE_IDENTITY: 'kerberos', DESKSIDE_ANONYMOUS: 'maybe', DESKSIDE_SECRET: 'short', DESKSIDE_LOG_LEVEL: 'loud' });
    expect(problems).toHaveLength(4);
    expect(problems[0]).toMatch(/DESKSIDE_IDENTITY="kerberos" is not valid; accepted values: iisnode, proxy, negotiate, dev/);
    expect(problems.join('\n')).toMatch(/DESKSIDE_ANONYMOUS="maybe" is not valid; accepted values: browse, none/);
    expect(problems.join('\n')).toMatch(/DESKSIDE_SECRET is too short/);
  });

  test('when the proxy identity has no trusted proxies or a bad CIDR, then startup fails', () => {
    expect(configProblems({ DESKSIDE_IDENTITY: 'proxy' }).join()).toMatch(/DESKSIDE_TRUSTED_PROXIES is required/);
    expect(configProblems({ DESKSIDE_IDENTITY: 'proxy', DESKSIDE_TRUSTED_PROXIES: '10.0.0.0/33' }).join()).toMatch(/"10.0.0.0\/33" is not an IP address or CIDR/);
    expect(parseConfig({ DESKSIDE_IDENTITY: 'proxy', DESKSIDE_TRUSTED_PROXIES: '10.0.0.0/24, ::1' }).trustedProxies).toEqual(['10.0.0.0/24', '::1']);
  });

  test('when the proxy header names an iisnode or reserved header, then it is refused', () => {
    expect(configProblems({ DESKSIDE_IDENTITY: 'proxy', DESKSIDE_TRUSTED_PROXIES: '127.0.0.1', DESKSIDE_PROXY_HEADER: 'X-iisnode-LOGON_USER' }).join()).toMatch(/reserved/);
  });

  test('when the secret is printed in an error, then its value never appears', () => {
    const problems = configProblems({ DESKSIDE_SECRET: 'hunter2-secret' });
    expect(problems.join()).not.toContain('hunter2');
  });

  test('when the README is read, then its configuration table lists every key', () => {
    const readme = readFileSync(path.resolve(__dirname, '../../../README.md'), 'utf8');
    for (const { key } of KEY_DOCS) expect({ key, listed: readme.includes(`| \`${key}\` |`) }).toEqual({ key, listed: true });
    // The whole table is what the key table writes: `npm run docs:config` refreshes it.
    expect(readme).toBe(withConfigTable(readme));
  });
});
