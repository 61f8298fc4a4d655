// Who an OpenID Connect sign-in says the person is: the configuration's shape, and the pure
// mapping from an ID token's (and userinfo's) claims to an identity with kiln's roles.

export type RepoRole = 'viewer' | 'developer' | 'maintainer' | 'admin';
export const REPO_ROLES: readonly RepoRole[] = ['viewer', 'developer', 'maintainer', 'admin'];

/** `server.oidc` once read and checked (server/config.ts). */
export interface OidcConfig {
  /** The issuer identifier: https, or http on a loopback host only. */
  issuer: string;
  clientId: string;
  clientSecret: string;
  /** Where the provider sends the browser back: `<server.url>/auth/oidc/callback`. */
  callbackUrl: string;
  /** Members of this group are server admins; null: nobody is made admin by a group. */
  adminGroup: string | null;
  /** The claim that lists the groups (default "groups"); a dotted path such as realm_access.roles reaches into an object. */
  groupsClaim: string;
  /** group → (repo name or "*") → role. */
  roles: Record<string, Record<string, RepoRole>>;
  /** What the authorization request asks for (default openid, email, profile, groups). */
  scopes: string[];
}

/**
 * What a completed sign-in hands to `signIn`: who (issuer and subject are the stable key; email
 * and name are for display), the groups the provider listed, and what they grant here.
 */
export interface OidcIdentity {
  issuer: string;
  subject: string;
  email: string | null;
  name: string | null;
  groups: string[];
  /** True when `adminGroup` is among the groups. */
  admin: boolean;
  /** Repo name (or "*": every repo) → the highest role any of the groups grants there. */
  repoRoles: Record<string, RepoRole>;
}

export type Claims = Record<string, unknown>;

/** The identity the claims describe under `config`; throws when iss or sub is missing. */
export function identityFromClaims(claims: Claims, config: Pick<OidcConfig, 'adminGroup' | 'groupsClaim' | 'roles'>): OidcIdentity {
  const issuer = claims.iss;
  const subject = claims.sub;
  if (typeof issuer !== 'string' || !issuer || typeof subject !== 'string' || !subject) {
    throw new Error('the claims carry no issuer (iss) or subject (sub)');
  }
  const groups = groupsOf(claimAt(claims, config.groupsClaim));
  const repoRoles: Record<string, RepoRole> = {};
  for (const [group, grants] of Object.entries(config.roles)) {
    if (!memberOf(groups, group)) continue;
    for (const [repo, role] of Object.entries(grants)) {
      const had = repoRoles[repo];
      if (had === undefined || rank(role) > rank(had)) repoRoles[repo] = role;
    }
  }
  return {
    issuer,
    subject,
    email: text(claims.email),
    name: text(claims.name) ?? text(claims.preferred_username),
    groups,
    admin: config.adminGroup !== null && memberOf(groups, config.adminGroup),
    repoRoles,
  };
}

/** The claim named `name`, else the value at its dotted path (Keycloak's realm_access.roles). */
function claimAt(claims: Claims, name: string): unknown {
  if (name in claims) return claims[name];
  let at: unknown = claims;
  for (const part of name.split('.')) {
    if (typeof at !== 'object' || at === null || Array.isArray(at)) return undefined;
    at = (at as Record<string, unknown>)[part];
  }
  return at;
}

/** A list of strings, a single string, or nothing: the groups, without blanks or duplicates. */
function groupsOf(value: unknown): string[] {
  const list = typeof value === 'string' ? [value] : Array.isArray(value) ? value : [];
  return [...new Set(list.filter((g): g is string => typeof g === 'string' && g.trim() !== ''))];
}

/** Keycloak sends full group paths ("/kiln-admins"): a configured "kiln-admins" matches it too. */
const memberOf = (groups: readonly string[], group: string): boolean =>
  groups.some((g) => g === group || (g.startsWith('/') && g.slice(1) === group));

const rank = (role: RepoRole): number => REPO_ROLES.indexOf(role);

const text = (value: unknown): string | null => (typeof value === 'string' && value.trim() !== '' ? value : null);
