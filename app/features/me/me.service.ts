import type { RequestViewer } from '../../web/viewer';

/** Who the viewer is, as `/me` and `GET /api/v1/me` tell it in JSON. */
export interface MeJson {
  anonymous: boolean;
  login: string | null;
  displayName: string | null;
  roles: string[];
  groups: string[];
  authType: string | null;
  source: string | null;
}

export function describeViewer(v: RequestViewer): MeJson {
  return {
    anonymous: v.anonymous,
    login: v.login ?? null,
    displayName: v.displayName ?? null,
    roles: v.anonymous ? [] : [...v.roles],
    groups: v.groups.map((g) => (g.domain ? `${g.domain}\\${g.name}` : g.name)),
    authType: v.authType || null,
    source: v.source ?? null,
  };
}
