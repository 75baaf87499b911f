import type { SambaDc } from '../support/samba';

export const SERVICE_PASSWORD = 'Svc-Passw0rd-Deskside';

/**
 * People and groups as a small company's AD has them, created in one batch of LDAP adds
 * (samba-tool would cost half a second per object):
 *
 *   Service Desk L1 ─┐
 *   Équipe Support ──┼─▶ Helpdesk Agents ─▶ IT Staff
 *   IT Operations ───┴─▶ Deskside Admins
 *   Ops (EMEA) * \ Team     (a group whose name needs escaping, matched by DN)
 *
 * carol → Service Desk L1 (agent, nested); erin → IT Operations (admin, nested);
 * dan → Ops (EMEA) * \ Team; jmüller → Équipe Support; alice → Finance only;
 * frank → Helpdesk Agents but disabled; o(brien) has parentheses in his account name;
 * gina has no userPrincipalName; zed's display name holds filter metacharacters (`*)(`);
 * svc-deskside is the plain user Deskside binds as.
 */
export async function seedDirectory(dc: SambaDc) {
  const base = dc.baseDn;
  const people = `OU=Deskside People,${base}`;
  const groups = `OU=Deskside Groups,${base}`;
  const users = `CN=Users,${base}`;
  const realm = dc.realm.toLowerCase();
  await dc.add([
    { dn: people, attributes: { objectClass: 'organizationalUnit' } },
    { dn: groups, attributes: { objectClass: 'organizationalUnit' } },
  ]);
  const svc = await dc.addUser({ cn: 'Deskside Service', sam: 'svc-deskside', password: SERVICE_PASSWORD, upn: `svc-deskside@${realm}` });
  const alice = await dc.addUser({ cn: 'Alice Anders', sam: 'alice', upn: `alice@${realm}`, ou: people, attributes: { displayName: 'Alice Anders', mail: 'alice@deskside.test', department: 'Finance', title: 'Accountant' } });
  const carol = await dc.addUser({ cn: 'Carol Chen', sam: 'carol', upn: `carol@${realm}`, ou: people, attributes: { displayName: 'Carol Chen', mail: 'carol@deskside.test', department: 'IT', title: 'Service Desk Analyst', telephoneNumber: '+44 20 7946 0201' } });
  const dan = await dc.addUser({ cn: 'Dan Dubois', sam: 'dan', upn: `dan@${realm}`, ou: people, attributes: { displayName: 'Dan Dubois' } });
  const erin = await dc.addUser({ cn: 'Erin Ellis', sam: 'erin', upn: `erin@${realm}`, ou: people, attributes: { displayName: 'Erin Ellis', title: 'IT Manager' } });
  const jose = await dc.addUser({ cn: 'José Müller', sam: 'jmüller', upn: `jmüller@${realm}`, ou: people, attributes: { displayName: 'José Müller', department: 'Forschung & Entwicklung', mail: 'jose.mueller@deskside.test' } });
  const frank = await dc.addUser({ cn: 'Frank Fischer', sam: 'frank', upn: `frank@${realm}`, ou: people, attributes: { displayName: 'Frank Fischer' } });
  const obrien = await dc.addUser({ cn: "Liam O'Brien", sam: 'o(brien)', ou: people, attributes: { displayName: "Liam O'Brien" } });
  const gina = await dc.addUser({ cn: 'Gina Gray', sam: 'gina', ou: users, attributes: { displayName: 'Gina Gray' } });
  const zed = await dc.addUser({ cn: 'Zed Star', sam: 'zed', upn: `zed@${realm}`, ou: people, attributes: { displayName: 'Zed *)( Star', mail: 'zed@deskside.test' } });
  // Disable frank after creation (ACCOUNTDISABLE | NORMAL_ACCOUNT | DONT_EXPIRE_PASSWORD).
  await dc.modify(frank, [{ operation: 'replace', type: 'userAccountControl', values: [String(0x2 | 0x200 | 0x10000)] }]);

  const g = (cn: string, sam: string, members: string[]) => ({
    dn: `CN=${cn},${groups}`,
    attributes: { objectClass: 'group', sAMAccountName: sam, ...(members.length ? { member: members } : {}) },
  });
  const serviceDeskL1 = `CN=Service Desk L1,${groups}`;
  const equipe = `CN=Équipe Support,${groups}`;
  const itOps = `CN=IT Operations,${groups}`;
  const helpdesk = `CN=Helpdesk Agents,${groups}`;
  const admins = `CN=Deskside Admins,${groups}`;
  const oddCn = 'Ops (EMEA) * \\5C Team';
  const odd = `CN=${oddCn},${groups}`;
  await dc.add([
    g('Finance', 'Finance', [alice]),
    g('Service Desk L1', 'Service Desk L1', [carol]),
    g('Équipe Support', 'Équipe Support', [jose]),
    g('IT Operations', 'IT Operations', [erin]),
    g('Helpdesk Agents', 'Helpdesk Agents', [serviceDeskL1, equipe, itOps, frank]),
    g('Deskside Admins', 'Deskside Admins', [itOps]),
    g('IT Staff', 'IT Staff', [helpdesk]),
    g(oddCn, 'Ops EMEA Team', [dan]),
  ]);
  return { svc, alice, carol, dan, erin, jose, frank, obrien, gina, zed, people, groups, serviceDeskL1, helpdesk, admins, itOps, odd };
}
