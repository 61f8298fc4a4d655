// Who a request is (a Principal) and what each route needs (a Need), and the one function that
// decides: can(principal, need, repo). Roles per repo: viewer < developer (run, cancel, re-run)
// < maintainer (secrets, settings, approve protected environments) < admin. A token's scope
// caps its owner's roles: read → viewer, run → developer, admin → the owner's own.
import { ALL_REPOS, ROLES, type Role, type TokenScope, type User } from '../store/index.js';

export type PrincipalKind = 'anonymous' | 'admin-token' | 'agent' | 'user' | 'unknown-token';

export interface Principal {
  kind: PrincipalKind;
  /** The user, for kind `user`. */
  user: User | null;
  /** How the user came: a token of theirs or a dashboard session. */
  via: 'token' | 'session' | null;
  /** The user token used, if any. */
  token: { id: number; name: string; scope: TokenScope; repos: string[] | null } | null;
}

/**
 * What a route needs:
 * - `open`: anyone, even on a private server (health, login, the schema, signed webhooks);
 * - `read`: a viewer of the repo (anyone, when the server is not private);
 * - `run`, `maintain`: a developer, a maintainer of the repo;
 * - `admin`: a server admin (the admin token, or an admin user with a full-scope token or a session);
 * - `agent`: the agent token (or the admin token);
 * - `user`: a signed-in user, or a token of scope admin (their own profile and tokens), or a server admin;
 * - `job`: a job's transfer token, which the route itself checks (artifact and cache uploads).
 */
export type Need = 'open' | 'read' | 'run' | 'maintain' | 'admin' | 'agent' | 'user' | 'job';

const NEED_ROLE: Partial<Record<Need, Role>> = { read: 'viewer', run: 'developer', maintain: 'maintainer' };
const SCOPE_CAP: Record<TokenScope, Role> = { read: 'viewer', run: 'developer', admin: 'admin' };
const rank = (role: Role | null) => (role === null ? -1 : ROLES.indexOf(role));
const lower = (a: Role | null, b: Role | null) => (rank(a) <= rank(b) ? a : b);
const higher = (a: Role | null, b: Role | null) => (rank(a) >= rank(b) ? a : b);

export const ANONYMOUS: Principal = { kind: 'anonymous', user: null, via: null, token: null };

/** The role a principal holds on `repo` (null: on none of them in particular, as for GET /api/repos). */
export function roleOn(p: Principal, repo: string | null): Role | null {
  switch (p.kind) {
    case 'admin-token': return 'admin';
    case 'agent': return 'viewer';
    case 'anonymous': case 'unknown-token': return null;
    case 'user': {
      const user = p.user!;
      if (p.token?.repos && repo !== null && !p.token.repos.includes(repo)) return null;
      // Every user reads every repo: roles decide who may change what, not who may look.
      let role: Role | null = user.admin ? 'admin' : higher('viewer', higher(user.roles[ALL_REPOS] ?? null, repo === null ? null : user.roles[repo] ?? null));
      if (p.token) role = lower(role, SCOPE_CAP[p.token.scope]);
      return role;
    }
  }
}

/** A server admin: every repo, the server's own settings, users, the audit log. */
export function isServerAdmin(p: Principal): boolean {
  if (p.kind === 'admin-token') return true;
  if (p.kind !== 'user' || !p.user!.admin) return false;
  return p.token === null || (p.token.scope === 'admin' && p.token.repos === null);
}

/** Whether `p` may do what `need` says, on `repo` when the route has one. */
export function can(p: Principal, need: Need, repo: string | null, closed: boolean): boolean {
  if (need === 'open' || need === 'job') return true;
  if (p.kind === 'unknown-token') return false;
  switch (need) {
    case 'admin': return isServerAdmin(p);
    case 'agent': return p.kind === 'agent' || p.kind === 'admin-token';
    case 'user': return isServerAdmin(p) || (p.kind === 'user' && (p.via === 'session' || p.token?.scope === 'admin'));
    case 'read': if (!closed && p.kind === 'anonymous') return true;
  }
  const wanted = NEED_ROLE[need]!;
  return rank(roleOn(p, repo)) >= rank(wanted);
}

/** Who it was, in the audit log: a user's name (the kind says which token, or a session), or the token's kind. */
export function actorOf(p: Principal): { actor: string; kind: string } {
  switch (p.kind) {
    case 'admin-token': return { actor: 'admin token', kind: 'admin-token' };
    case 'agent': return { actor: 'agent token', kind: 'token' };
    case 'anonymous': return { actor: 'anonymous', kind: 'anonymous' };
    case 'unknown-token': return { actor: 'unknown token', kind: 'anonymous' };
    case 'user': return { actor: p.user!.name, kind: p.token ? `token ${p.token.name}` : 'session' };
  }
}

/** The name an approval or a trigger is recorded under. */
export function nameOf(p: Principal): string {
  return p.kind === 'user' ? p.user!.name : actorOf(p).actor;
}
