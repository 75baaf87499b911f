/**
 * The LDAP directory against a real Samba AD domain controller on loopback: lookups,
 * nested groups to roles, StartTLS and LDAPS, failures that must be clear, escaping,
 * and the admin page through the real app.
 */
import { readFileSync } from 'node:fs';
import net from 'node:net';
import { resolveRoles } from '../../app/access/roles';
import { LdapDirectory, type LdapDirectoryOptions } from '../../app/directory/ldap';
import { DirectoryUnavailableError } from '../../app/directory/types';
import { parseLogin, type Login } from '../../app/login';
import { client, makeApp, type TestApp } from '../support/app';
import { describeWithSamba, startSambaDc, type SambaDc } from '../support/samba';
import { seedDirectory, SERVICE_PASSWORD } from './fixtures';

jest.setTimeout(60_000);

const login = (s: string): Login => {
  const l = parseLogin(s);
  if (!l) throw new Error(`bad test login ${s}`);
  return l;
};

describeWithSamba('Active Directory over LDAP (Samba DC)', () => {
  let dc: SambaDc;
  let f: Awaited<ReturnType<typeof seedDirectory>>;
  let ca: Buffer;
  const opened: LdapDirectory[] = [];

  const directory = (over: Partial<LdapDirectoryOptions> = {}) => {
    const d = new LdapDirectory({ urls: [dc.url], bindDn: f.svc, bindPassword: SERVICE_PASSWORD, startTls: true, ca, connectTimeoutMs: 2000, timeoutMs: 3000, ...over });
    opened.push(d);
    return d;
  };

  beforeAll(async () => {
    dc = await startSambaDc();
    try {
      f = await seedDirectory(dc);
    } catch (err) {
      await dc.destroy();
      throw err;
    }
    ca = readFileSync(dc.caFile);
  }, 120_000);

  afterAll(async () => {
    await Promise.all(opened.map((d) => d.close()));
    await dc?.destroy();
  });

  describe('finding people', () => {
    test('when a person is looked up as DOMAIN\\user, then their DN and profile come from the directory', async () => {
      const p = await directory().lookup(login('TEST\\carol'));
      expect(p).toMatchObject({
        dn: f.carol,
        displayName: 'Carol Chen',
        email: 'carol@deskside.test',
        department: 'IT',
        title: 'Service Desk Analyst',
        phone: '+44 20 7946 0201',
        account: 'carol',
        upn: 'carol@deskside.test',
      });
    });

    test('when a person is looked up by UPN, or by the implicit UPN of an account without one, then the same account is found', async () => {
      const d = directory();
      expect((await d.lookup(login('erin@deskside.test')))?.dn).toBe(f.erin);
      expect((await d.lookup(login('ERIN@DESKSIDE.TEST')))?.dn).toBe(f.erin);
      const gina = await d.lookup(login('gina@deskside.test'));
      expect(gina).toMatchObject({ dn: f.gina, displayName: 'Gina Gray' });
      expect(gina?.upn).toBeUndefined();
    });

    test('when the login is not in the directory, or names another domain, then the answer is null, not an error', async () => {
      const d = directory();
      expect(await d.lookup(login('TEST\\nobody'))).toBeNull();
      expect(await d.lookup(login('nobody@deskside.test'))).toBeNull();
      expect(await d.lookup(login('LAB\\carol'))).toBeNull();
      expect(d.explain(login('LAB\\carol'))?.note).toMatch(/LAB is not this directory's domain \(TEST\)/);
      // A computer account is not a person, even with a matching name.
      expect(await d.lookup(login('TEST\\dc1$'))).toBeNull();
    });

    test('when names hold non-ASCII letters, then lookup, profile and group names survive intact', async () => {
      const p = await directory().lookup(login('TEST\\jmüller'));
      expect(p).toMatchObject({ dn: f.jose, displayName: 'José Müller', department: 'Forschung & Entwicklung' });
      expect(p!.groups.map((g) => g.name)).toContain('Équipe Support');
    });

    test('when filter metacharacters reach the directory, then they match literally and never as wildcards', async () => {
      const d = directory();
      const raw = (account: string): Login => ({ login: `TEST\\${account}`, domain: 'TEST', account, form: 'downlevel', key: `test\\${account}`.toLowerCase() });
      // Unescaped, each of these would match carol or every user.
      for (const hostile of ['*', 'car*', 'carol)(sAMAccountName=*', '*)(|(objectClass=*', 'carol\\2a', 'c\\61rol']) {
        expect({ hostile, found: await d.lookup(raw(hostile)) }).toEqual({ hostile, found: null });
      }
      // A real account name with parentheses is found by exactly its name.
      expect((await d.lookup(raw('o(brien)')))?.displayName).toBe("Liam O'Brien");
      expect(d.explain(raw('o(brien)'))?.filter).toBe('(&(sAMAccountType=805306368)(sAMAccountName=o\\28brien\\29))');
    });

    test('when an account is disabled, then it is found but brings no groups', async () => {
      const p = await directory().lookup(login('TEST\\frank'));
      expect(p).toMatchObject({ dn: f.frank, disabled: true, groups: [] });
    });
  });

  describe('searching people', () => {
    const logins = async (q: string, limit = 10) => (await directory().search(q, limit)).map((p) => p.login);

    test('when an agent searches by part of a name, an account, a UPN or an e-mail address, then the matching enabled people come back by name', async () => {
      expect(await logins('chen')).toEqual(['TEST\\carol']);
      expect(await logins('car')).toEqual(['TEST\\carol']);
      expect(await logins('erin@deskside')).toEqual(['TEST\\erin']);
      expect(await logins('jose.mueller@')).toEqual(['TEST\\jmüller']);
      expect(await logins('müller')).toEqual(['TEST\\jmüller']);
      expect(await logins('TEST\\gina')).toEqual(['TEST\\gina']);
      // Every word must match; the disabled account is never offered.
      expect(await logins('a n')).toEqual(expect.arrayContaining(['TEST\\alice', 'TEST\\dan']));
      expect(await logins('alice anders')).toEqual(['TEST\\alice']);
      expect(await logins('frank')).toEqual([]);
      const [carol] = await directory().search('carol', 5);
      expect(carol).toMatchObject({ dn: f.carol, displayName: 'Carol Chen', email: 'carol@deskside.test', department: 'IT', title: 'Service Desk Analyst', phone: '+44 20 7946 0201', groups: [] });
    });

    test('when a search would match more people than asked for, then the directory returns only that many', async () => {
      const all = await directory().search('e', 50);
      expect(all.length).toBeGreaterThan(3);
      expect(await directory().search('e', 2)).toHaveLength(2);
    });

    test('when the search holds filter metacharacters, then they match literally and never as wildcards or filter syntax', async () => {
      // Unescaped, "*" would match everyone and "*)(" would end the filter early.
      expect(await logins('*)(')).toEqual(['TEST\\zed']);
      expect(await logins('*')).toEqual(['TEST\\zed']);
      expect(await logins('o(brien')).toEqual(['TEST\\o(brien)']);
      for (const hostile of [')(sAMAccountName=*', '*)(|(objectClass=*', '\\2a', '(objectClass=*)', 'car*']) {
        expect({ hostile, found: await logins(hostile) }).toEqual({ hostile, found: [] });
      }
    });

    test('when the search is found through the app, then /people lists directory people an agent can raise a ticket for', async () => {
      const t = await makeApp({ env: { DESKSIDE_AGENTS: 'Helpdesk Agents' }, directory: directory() });
      try {
        const carol = client(t.app, 'TEST\\carol');
        const res = await carol.get('/people?q=' + encodeURIComponent('*)(')).set('Accept', 'application/json');
        expect(res.body).toMatchObject({ directory: 'ok', people: [{ login: 'TEST\\zed', name: 'Zed *)( Star', source: 'directory' }] });
        // Typed as a UPN, kept as DOMAIN\\account: the login IIS will give Zed when he signs in.
        const raised = await carol.post('/tickets', { title: 'Called in', description: 'By phone.', category: '1', priority: 'normal', requester: 'zed@deskside.test', channel: 'phone' });
        expect(raised.status).toBe(303);
        const ticket = await t.database.db.selectFrom('tickets').innerJoin('people', 'people.id', 'tickets.requester_id').select(['people.login', 'people.display_name']).executeTakeFirstOrThrow();
        expect(ticket).toEqual({ login: 'TEST\\zed', display_name: 'Zed *)( Star' });
        const page = await carol.get(raised.headers.location);
        expect(page.text).toContain('About Zed *)( Star');
      } finally {
        await t.close();
      }
    });
  });

  describe('groups and roles', () => {
    const roles = { agents: ['Helpdesk Agents'], admins: ['TEST\\Deskside Admins'] };

    test('when someone is in a group inside the agents group, then tokenGroups gives the nested group and the agent role', async () => {
      const p = await directory().lookup(login('TEST\\carol'));
      const byName = Object.fromEntries(p!.groups.map((g) => [g.name, g]));
      expect(byName['Service Desk L1']).toMatchObject({ nested: false, domain: 'TEST', dn: f.serviceDeskL1 });
      expect(byName['Helpdesk Agents']).toMatchObject({ nested: true, dn: f.helpdesk });
      expect(byName['IT Staff']).toMatchObject({ nested: true });
      // Only tokenGroups carries the primary group; memberOf never lists it.
      expect(byName['Domain Users']).toMatchObject({ primary: true, nested: false });
      expect(byName['Deskside Admins']).toBeUndefined();
      expect(resolveRoles({ key: 'test\\carol', groups: p!.groups }, roles)).toMatchObject({
        roles: ['requester', 'agent'],
        grants: [{ role: 'requester' }, { role: 'agent', setting: 'DESKSIDE_AGENTS', entry: 'Helpdesk Agents', via: 'group', group: 'Helpdesk Agents' }],
      });
    });

    test('when someone is in a group nested in the admins group, then DOMAIN\\Group matches and they are admin and agent', async () => {
      const p = await directory().lookup(login('erin@deskside.test'));
      const r = resolveRoles({ key: 'erin@deskside.test', groups: p!.groups }, roles);
      expect(r.roles).toEqual(['requester', 'agent', 'admin']);
      expect(r.grants).toContainEqual({ role: 'admin', setting: 'DESKSIDE_ADMINS', entry: 'TEST\\Deskside Admins', via: 'group', group: 'Deskside Admins' });
      expect(resolveRoles({ key: 'x', groups: p!.groups }, { agents: [], admins: ['OTHER\\Deskside Admins'] }).roles).toEqual(['requester']);
    });

    test('when the agents setting names a group by a DN full of metacharacters, then its member is an agent', async () => {
      const p = await directory().lookup(login('TEST\\dan'));
      const odd = p!.groups.find((g) => g.name === 'Ops EMEA Team');
      expect(odd?.dn).toBeDefined();
      const r = resolveRoles({ key: 'test\\dan', groups: p!.groups }, { agents: [f.odd], admins: [] });
      expect(r.roles).toEqual(['requester', 'agent']);
    });

    test('when a disabled account is in the agents group, then it gets no role from it', async () => {
      const p = await directory().lookup(login('TEST\\frank'));
      expect(resolveRoles({ key: 'test\\frank', groups: p!.groups }, roles).roles).toEqual(['requester']);
    });
  });

  describe('members of a group, for teams', () => {
    const logins = (g: { members: { login?: string }[] } | null) => (g ? g.members.map((m) => m.login).sort() : null);

    test('when a group is asked for by name, then its enabled members through any depth of nesting come back, with their logins', async () => {
      const d = directory();
      const helpdesk = await d.groupMembers('Helpdesk Agents', 100);
      // carol via Service Desk L1, José via Équipe Support, erin via IT Operations; frank is disabled.
      expect(logins(helpdesk)).toEqual(['TEST\\carol', 'TEST\\erin', 'TEST\\jmüller']);
      expect(helpdesk).toMatchObject({ name: 'Helpdesk Agents', dn: f.helpdesk, truncated: false });
      expect(helpdesk!.members.find((m) => m.login === 'TEST\\carol')).toMatchObject({ displayName: 'Carol Chen', upn: 'carol@deskside.test', groups: [] });
      // Two levels up, and by DOMAIN\Name.
      expect(logins(await d.groupMembers('TEST\\IT Staff', 100))).toEqual(['TEST\\carol', 'TEST\\erin', 'TEST\\jmüller']);
      expect(logins(await d.groupMembers('Service Desk L1', 100))).toEqual(['TEST\\carol']);
    });

    test('when a group is named by a DN full of metacharacters, then its members come back; when there is no such group, the answer is null', async () => {
      const d = directory();
      expect(logins(await d.groupMembers(f.odd, 100))).toEqual(['TEST\\dan']);
      expect(await d.groupMembers('No Such Group', 100)).toBeNull();
      expect(await d.groupMembers('LAB\\Helpdesk Agents', 100)).toBeNull();
      expect(await d.groupMembers(`CN=Nobody,${f.groups}`, 100)).toBeNull();
      // Filter syntax typed as a name is only a name: it matches no group, rather than every entry.
      expect(await d.groupMembers('*)(objectClass=*', 100)).toBeNull();
      expect(await d.groupMembers('*', 100)).toBeNull();
    });

    test('when a group has more members than asked for, then the list stops there and says so', async () => {
      const g = await directory().groupMembers('Helpdesk Agents', 2);
      expect(g!.members).toHaveLength(2);
      expect(g!.truncated).toBe(true);
    });
  });

  describe('TLS, binds and failures', () => {
    test('when StartTLS or LDAPS is used with the DC\'s CA file, then the lookup succeeds over TLS', async () => {
      expect((await directory({ urls: [dc.url], startTls: true }).lookup(login('TEST\\alice')))?.dn).toBe(f.alice);
      expect((await directory({ urls: [dc.ldapsUrl], startTls: false }).lookup(login('TEST\\alice')))?.dn).toBe(f.alice);
    });

    test('when plain LDAP is used without StartTLS, then the DC refuses the bind and the error says to turn TLS on', async () => {
      const d = directory({ startTls: false });
      await expect(d.lookup(login('TEST\\alice'))).rejects.toThrow(/refuses binds without TLS: set DESKSIDE_LDAP_STARTTLS=true or use an ldaps:\/\/ URL/);
    });

    test('when the CA file is not the one that signed the DC\'s certificate, then TLS fails with a message naming the CA setting', async () => {
      const other = readFileSync('/etc/ssl/certs/ca-certificates.crt');
      for (const d of [directory({ ca: other }), directory({ urls: [dc.ldapsUrl], ca: other })]) {
        const err = await d.lookup(login('TEST\\alice')).catch((e: unknown) => e);
        expect(err).toBeInstanceOf(DirectoryUnavailableError);
        expect((err as Error).message).toMatch(/TLS failed: .*check DESKSIDE_LDAP_CA_FILE/);
      }
    });

    test('when the bind password is wrong, then lookups fail fast with a clear error and the service account is never locked out', async () => {
      await dc.modify(dc.baseDn, [{ operation: 'replace', type: 'lockoutThreshold', values: ['3'] }]);
      try {
        const d = directory({ bindPassword: 'not-the-password', credentialRetryAfterMs: 60_000 });
        const errors: string[] = [];
        for (let i = 0; i < 6; i++) errors.push(await d.lookup(login('TEST\\alice')).then(() => 'found', (e: Error) => e.message));
        expect(errors[0]).toMatch(/refused the service account's credentials .*check DESKSIDE_LDAP_BIND_DN and DESKSIDE_LDAP_BIND_PASSWORD/);
        expect(errors[0]).not.toContain('not-the-password');
        for (const e of errors.slice(1)) expect(e).toMatch(/next attempt in \d+ s/);
        // One wrong bind reached the DC, so the threshold of 3 was never met.
        const admin = await dc.admin();
        const { searchEntries } = await admin.search(f.svc, { scope: 'base', attributes: ['badPwdCount', 'lockoutTime'] });
        await admin.unbind();
        expect(Number(searchEntries[0].badPwdCount)).toBe(1);
        expect(Number(searchEntries[0].lockoutTime ?? 0)).toBe(0);
        expect((await directory().lookup(login('TEST\\alice')))?.dn).toBe(f.alice);
      } finally {
        await dc.modify(dc.baseDn, [{ operation: 'replace', type: 'lockoutThreshold', values: ['0'] }]);
      }
    });

    test('when the first URL refuses connections and the second hangs, then the lookup fails over to the DC that answers', async () => {
      const closedPort = await new Promise<number>((resolve) => {
        const s = net.createServer().listen(0, '127.0.0.1', () => {
          const port = (s.address() as net.AddressInfo).port;
          s.close(() => resolve(port));
        });
      });
      const sockets: net.Socket[] = [];
      const silent = net.createServer((sock) => void sockets.push(sock));
      await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
      const silentPort = (silent.address() as net.AddressInfo).port;
      try {
        const d = directory({ urls: [`ldap://127.0.0.1:${closedPort}`, `ldap://127.0.0.1:${silentPort}`, dc.url], connectTimeoutMs: 300, timeoutMs: 400 });
        expect((await d.lookup(login('TEST\\carol')))?.dn).toBe(f.carol);
        expect(d.explain(login('TEST\\carol'))?.server).toBe(dc.url);
        const servers = d.status().servers;
        expect(servers[0]).toMatchObject({ lastError: expect.stringMatching(/cannot connect: .*ECONNREFUSED/) });
        expect(servers[1]).toMatchObject({ lastError: expect.stringMatching(/no (connection|answer) within/) });
        expect(servers[2]).toMatchObject({ lastOkAt: expect.any(Number) });
      } finally {
        for (const s of sockets) s.destroy();
        silent.close();
      }
    });

    test('when the kept connection was dropped by the DC, then the next lookup reconnects by itself', async () => {
      const d = directory();
      expect((await d.lookup(login('TEST\\alice')))?.dn).toBe(f.alice);
      const first = d.explain(login('TEST\\alice'))!.steps[0].step;
      expect((await d.lookup(login('TEST\\alice')))?.dn).toBe(f.alice);
      expect(d.explain(login('TEST\\alice'))!.steps[0].step).toBe('reuse connection');
      expect(first).toBe('connect and bind');
      await dc.stop();
      await dc.start();
      expect((await d.lookup(login('TEST\\alice')))?.dn).toBe(f.alice);
    });
  });

  describe('through the app', () => {
    let t: TestApp;
    beforeAll(async () => {
      t = await makeApp({
        env: { DESKSIDE_AGENTS: 'Helpdesk Agents', DESKSIDE_ADMINS: 'TEST\\Deskside Admins' },
        directory: directory(),
      });
    });
    afterAll(() => t.close());

    test('when a nested agent signs in, then /me shows the role, the setting and the group, and their row gets the directory profile', async () => {
      const carol = client(t.app, 'TEST\\carol');
      const me = await carol.get('/me').set('Accept', 'application/json');
      expect(me.body).toMatchObject({ login: 'TEST\\carol', displayName: 'Carol Chen', roles: ['requester', 'agent'] });
      expect(me.body.groups).toEqual(expect.arrayContaining(['TEST\\Service Desk L1', 'TEST\\Helpdesk Agents', 'TEST\\Domain Users']));
      const page = await carol.get('/me');
      expect(page.text).toMatch(/<code>DESKSIDE_AGENTS<\/code> lists <code>Helpdesk Agents<\/code>, and you are a member of <strong>Helpdesk Agents<\/strong>/);
      const row = await t.database.db.selectFrom('people').selectAll().where('login_key', '=', 'test\\carol').executeTakeFirstOrThrow();
      expect(row).toMatchObject({ display_name: 'Carol Chen', email: 'carol@deskside.test' });
    });

    test('when an admin looks up a login on /admin/directory, then the page shows the DN, direct and nested groups, roles and timings', async () => {
      const erin = client(t.app, 'TEST\\erin');
      const res = await erin.get('/admin/directory?login=' + encodeURIComponent('TEST\\carol'));
      expect(res.status).toBe(200);
      expect(res.text).toContain('Found <strong>Carol Chen</strong>');
      expect(res.text).toContain(`<code>${f.carol}</code>`);
      expect(res.text).toMatch(/<td>TEST\\Service Desk L1<\/td>\s*<td>Direct<\/td>/);
      expect(res.text).toMatch(/<td>TEST\\Helpdesk Agents<\/td>\s*<td>Through another group<\/td>/);
      expect(res.text).toMatch(/<td>TEST\\Domain Users<\/td>\s*<td>Direct \(primary group\)<\/td>/);
      expect(res.text).toMatch(/<code>DESKSIDE_AGENTS<\/code> lists <code>Helpdesk Agents<\/code>, which matches the group <strong>Helpdesk Agents<\/strong>/);
      expect(res.text).toMatch(/find person: [\d.]+ ms/);
      expect(res.text).toContain('(&amp;(sAMAccountType=805306368)(sAMAccountName=carol))');
      expect(res.text).not.toContain(SERVICE_PASSWORD);
    });

    test('when an admin looks up someone who does not exist or types garbage, then the page says so and escapes the input', async () => {
      const erin = client(t.app, 'TEST\\erin');
      const missing = await erin.get('/admin/directory?login=' + encodeURIComponent('TEST\\ghost'));
      expect(missing.status).toBe(200);
      expect(missing.text).toMatch(/there is no user account for this login \(no user account matches under DC=deskside,DC=test\)/);
      const bad = await erin.get('/admin/directory?login=' + encodeURIComponent('<script>alert(1)</script>'));
      expect(bad.status).toBe(400);
      expect(bad.text).toContain('value="&lt;script&gt;alert(1)&lt;/script&gt;"');
      expect(bad.text).not.toContain('<script>alert(1)');
      expect(bad.text).toMatch(/That is not a Windows login/);
    });

    test('when a non-admin or a guest asks for /admin/directory, then it is 403 or the sign-in dance', async () => {
      expect((await client(t.app, 'TEST\\carol').get('/admin/directory')).status).toBe(403);
      const guest = await client(t.app).get('/admin/directory');
      expect(guest.status).toBe(401);
      expect(guest.headers['www-authenticate']).toBeDefined();
    });
  });
});
