// Every route declares what it needs: `access.guard(need, repoOf)` is the first handler of
// each API route. It authenticates once per request (the Principal is kept on the context),
// answers 401 to no or an unknown token and 403 to a too-weak one, and marks the route so
// that a test can list every route with its need and find any that declares none.
import type { Context, Hono, MiddlewareHandler } from 'hono';
import { KilnError } from '../../shared/errors.js';
import type { Store, User } from '../store/index.js';
import type { Authenticate } from './authenticate.js';
import { actorOf, can, roleOn, type Need, type Principal } from './principal.js';

/** The repo a request is about (for its role check), or null when it has none or it does not exist. */
export type RepoOf = (c: Context) => string | null;

export interface Access {
  readonly private: boolean;
  readonly authenticate: Authenticate;
  /** Who made this request (authenticated once, then kept on the context). */
  principalOf(c: Context): Principal;
  /** After a login: the request is the user's from here on (the audit log names them). */
  signedIn(c: Context, user: User): void;
  guard(need: Need, repoOf?: RepoOf): MiddlewareHandler;
  /** Whether the request's principal may do `need` (on `repo`): for answers that differ by role. */
  may(c: Context, need: Need, repo?: string | null): boolean;
}

const NEED = Symbol('kiln.need');
const KEY = 'kiln.principal';

const WHAT: Record<Need, [string, string]> = {
  open: ['', ''], job: ['', ''],
  read: ['read', 'the viewer role'],
  run: ['run, cancel or re-run jobs', 'the developer role'],
  maintain: ['change settings or secrets', 'the maintainer role'],
  admin: ['do this', 'a server admin'],
  agent: ['connect as an agent', 'the agent token'],
  user: ['do this', 'a signed-in user, or a user token of scope admin'],
};

export function createAccess({ authenticate, private: closed }: { authenticate: Authenticate; private: boolean }): Access {
  const principalOf = (c: Context): Principal => {
    const get = c.get as (key: string) => unknown;
    const known = get(KEY) as Principal | undefined;
    if (known) return known;
    const principal = authenticate({
      authorization: c.req.header('authorization'), cookie: c.req.header('cookie'), method: c.req.method, path: c.req.path,
      csrf: c.req.header('x-kiln-csrf'),
    });
    (c.set as (key: string, value: unknown) => void)(KEY, principal);
    return principal;
  };
  const refuse = (p: Principal, need: Need, repo: string | null): never => {
    if (p.kind === 'unknown-token') throw new KilnError('unauthorized', 'unknown, expired or revoked token');
    if (p.kind === 'anonymous') {
      throw new KilnError('unauthorized', closed && need === 'read' ? 'this server is private: send a token' : 'this needs a token: Authorization: Bearer <token>, or a dashboard session');
    }
    const who = actorOf(p).actor;
    const role = roleOn(p, repo);
    const where = repo ? ` on ${repo}` : '';
    const [verb, needed] = WHAT[need];
    const has = p.kind === 'user' && role ? ` (role: ${role}${p.token ? `, token scope: ${p.token.scope}` : ''})` : '';
    throw new KilnError('forbidden', `${who} may not ${verb}${where}: that needs ${needed}${has}`);
  };
  const guard = (need: Need, repoOf?: RepoOf): MiddlewareHandler => {
    const handler: MiddlewareHandler = async (c, next) => {
      if (need !== 'open' && need !== 'job') {
        const p = principalOf(c);
        const repo = repoOf ? repoOf(c) : null;
        if (!can(p, need, repo, closed)) refuse(p, need, repo);
      }
      await next();
    };
    return Object.assign(handler, { [NEED]: need });
  };
  return {
    private: closed, authenticate, principalOf, guard,
    signedIn: (c, user) => (c.set as (key: string, value: unknown) => void)(KEY, { kind: 'user', user, via: 'session', token: null } satisfies Principal),
    may: (c, need, repo = null) => can(principalOf(c), need, repo, closed),
  };
}

export interface DeclaredRoute {
  method: string;
  path: string;
  need: Need | null;
}

/** Every route of `app` with the need its guard declares (null: none declared). */
export function listRoutes(app: Hono): DeclaredRoute[] {
  const out = new Map<string, DeclaredRoute>();
  for (const r of app.routes) {
    if (r.method === 'ALL') continue;
    const key = `${r.method} ${r.path}`;
    const need = (r.handler as { [NEED]?: Need })[NEED] ?? null;
    const seen = out.get(key);
    if (!seen) out.set(key, { method: r.method, path: r.path, need });
    else if (seen.need === null) seen.need = need;
  }
  return [...out.values()];
}

/** The repo named by the `:repo` path parameter. */
export const repoParam: RepoOf = (c) => c.req.param('repo') ?? null;

/** Finders for routes keyed by a run, job, artifact or cache id. */
export function repoFinders(store: Store): { run: RepoOf; job: RepoOf; artifact: RepoOf; cache: RepoOf } {
  const id = (c: Context) => {
    const n = Number(c.req.param('id'));
    return Number.isSafeInteger(n) && n > 0 ? n : null;
  };
  const runRepo = (runId: number | null | undefined) => (runId ? store.runs.getRunSummary(runId)?.repo ?? null : null);
  return {
    run: (c) => runRepo(id(c)),
    job: (c) => {
      const n = id(c);
      return n === null ? null : runRepo(store.jobs.getJob(n)?.runId);
    },
    artifact: (c) => {
      const n = id(c);
      return n === null ? null : runRepo(store.artifacts.getArtifact(n)?.runId);
    },
    cache: (c) => {
      const n = id(c);
      const repoId = n === null ? undefined : store.caches.getCache(n)?.repoId;
      return repoId === undefined ? null : store.repos.getRepo(repoId)?.name ?? null;
    },
  };
}
