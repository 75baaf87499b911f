/**
 * Entries of DESKSIDE_AGENTS/ADMINS: separated by `;`, new lines or commas, but a DN's own
 * commas (`CN=Helpdesk Agents,OU=Groups,DC=corp,DC=example`) keep the DN whole. A DN ends
 * with its DC= parts, so `CN=…` or `OU=…` after a `DC=` starts the next entry.
 */
export function splitRoleEntries(value: string | undefined): string[] {
  if (!value) return [];
  const out: string[] = [];
  for (const chunk of value.split(/[;\n]/)) {
    const parts = chunk.split(/(?<!\\),/).map((s) => s.trim());
    let dn: string | null = null;
    const flush = () => {
      if (dn !== null) out.push(dn);
      dn = null;
    };
    for (const part of parts) {
      const rdn = /^([a-z]+)\s*=/i.exec(part)?.[1]?.toLowerCase();
      if (rdn && dn !== null && (rdn === 'dc' || !/(^|,)\s*dc=[^,]*$/i.test(dn))) {
        dn = `${dn},${part}`;
      } else if (rdn && ['cn', 'ou', 'dc', 'o'].includes(rdn)) {
        flush();
        dn = part;
      } else {
        flush();
        if (part) out.push(part);
      }
    }
    flush();
  }
  return out.filter((s) => s.length > 0);
}
