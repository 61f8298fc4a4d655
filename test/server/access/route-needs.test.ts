// Every API route declares who may call it, and each refuses a missing token, a wrong one and
// a too-weak one: checked route by route on a private server, with real users and tokens.
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { createApi } from '../../../server/api/app.js';
import { newUserToken } from '../../../server/access/user-tokens.js';
import { listRoutes, type Need } from '../../../server/access/index.js';
import { createEventBus } from '../../../server/events.js';
import type { KilnService } from '../../../server/service.js';
import type { Role, TokenScope } from '../../../server/store/index.js';
import { testAccess } from '../../helpers/access.js';
import { newRun, seeded } from '../store/fixtures.js';

const ADMIN = 'admin-secret-0123456789';
const AGENT = 'agent-secret-0123456789';

function setup() {
  const ctx = seeded();
  ctx.store.repos.addRepo({ name: 'other', path: '/srv/git/other' });
  const run = ctx.store.runs.createRun(newRun(ctx.repo.id));
  const job = run.jobs[0]!;
  // (A token id no one has: a strong enough caller of DELETE /api/tokens/:id must not revoke the test's own tokens.)
  // A service that answers nothing: any call past the guard is a 500, never a 401/403.
  const service = new Proxy({}, { get: () => () => { throw new TypeError('past the guard'); } }) as KilnService;
  const files = { artifacts: {} as never, caches: {} as never, transfer: { jobOf: () => null, issue: () => '' } as never } as never;
  const api = createApi({
    store: ctx.store, bus: createEventBus(), service, logger: pino({ level: 'silent' }), files,
    access: testAccess(ctx.store, { private: true, admin: ADMIN, agent: AGENT }),
    retention: { sweep: async () => ({}) } as never, usage: () => ({}) as never,
    audit: { store: ctx.store.audit, actorOf: () => ({ actor: 'x', kind: 'x' }), addressOf: () => '127.0.0.1' },
  });
  const token = (name: string, role: Role | 'server-admin', scope: TokenScope, repos: string[] | null = null) => {
    const user = ctx.store.users.getUserByName(name) ?? ctx.store.users.addUser({ name, admin: role === 'server-admin' });
    if (role !== 'server-admin') ctx.store.users.setRole(user.id, 'web', role);
    const secret = newUserToken();
    ctx.store.users.addToken({ userId: user.id, name: `${scope}-${repos?.join('+') ?? 'all'}`, secret, scope, repos, expiresAtMs: null });
    return secret;
  };
  const tokens = {
    viewer: token('vera', 'viewer', 'admin'),
    developerRead: token('dave', 'developer', 'read'),
    developer: token('dave', 'developer', 'run'),
    maintainerRun: token('mia', 'maintainer', 'run'),
    maintainer: token('mia', 'maintainer', 'admin'),
    otherRepo: token('mia', 'maintainer', 'admin', ['other']),
    adminRun: token('ada', 'server-admin', 'run'),
    admin: token('ada', 'server-admin', 'admin'),
  };
  const path = (pattern: string) => pattern
    .replace(':repo', 'web').replace(':name', 'KEY').replace(':id', String(pattern.startsWith('/api/runs') ? run.id : pattern.startsWith('/api/tokens') ? 999_999 : job.id));
  const call = async (method: string, pattern: string, token: string | null) => {
    const response = await api.request(path(pattern), { method, headers: token ? { authorization: `Bearer ${token}` } : {}, ...(method === 'GET' ? {} : { body: '{}' }) });
    return response.status;
  };
  return { api, tokens, call };
}

/** For each need: a token just too weak for it, and one just strong enough. */
const EDGES = (t: ReturnType<typeof setup>['tokens']): Record<Exclude<Need, 'open' | 'job'>, { weak: string[]; enough: string }> => ({
  read: { weak: [AGENT.replace('agent', 'wrong'), t.otherRepo], enough: t.viewer },
  run: { weak: [t.viewer, t.developerRead, AGENT], enough: t.developer },
  maintain: { weak: [t.developer, t.maintainerRun, t.otherRepo], enough: t.maintainer },
  admin: { weak: [t.maintainer, t.adminRun, AGENT], enough: ADMIN },
  agent: { weak: [t.admin], enough: AGENT },
  user: { weak: [t.developerRead, AGENT], enough: t.viewer },
});

describe('who may call each API route', () => {
  it('every route declares its need', () => {
    const { api } = setup();
    const routes = listRoutes(api);
    expect(routes.length).toBeGreaterThan(40);
    expect(routes.filter((r) => r.need === null).map((r) => `${r.method} ${r.path}`)).toEqual([]);
  });

  it('refuses a missing token (401), a wrong one (401) and a too-weak one (403); a strong enough one passes the guard', async () => {
    const s = setup();
    const edges = EDGES(s.tokens);
    const checked: string[] = [];
    for (const route of listRoutes(s.api)) {
      if (route.need === 'open' || route.need === 'job' || route.need === null) continue;
      // Routes that name a repo refuse a token limited to another; those without one cannot tell.
      const repoRoute = /:repo|:id/.test(route.path) && !route.path.startsWith('/api/tokens') && !route.path.startsWith('/api/users');
      const at = `${route.method} ${route.path}`;
      expect([at, await s.call(route.method, route.path, null)]).toEqual([at, 401]);
      expect([at, await s.call(route.method, route.path, 'kiln_guessed-token')]).toEqual([at, 401]);
      expect([at, await s.call(route.method, route.path, 'not-a-kiln-token')]).toEqual([at, 401]);
      const { weak, enough } = edges[route.need];
      for (const token of weak) {
        if (token === s.tokens.otherRepo && !repoRoute) continue;
        const expected = token.startsWith('wrong') ? 401 : 403;
        expect([at, token.slice(0, 12), await s.call(route.method, route.path, token)]).toEqual([at, token.slice(0, 12), expected]);
      }
      const passed = await s.call(route.method, route.path, enough);
      expect([at, [401, 403].includes(passed)]).toEqual([at, false]);
      checked.push(at);
    }
    expect(checked).toEqual(expect.arrayContaining(['POST /api/repos/:repo/runs', 'PUT /api/repos/:repo/secrets/:name', 'GET /api/audit', 'POST /api/users', 'POST /api/tokens']));
  });

  it('lets anyone read an open server, but never with a wrong token', async () => {
    const ctx = seeded();
    const api = createApi({ store: ctx.store, bus: createEventBus(), service: {} as KilnService, logger: pino({ level: 'silent' }), access: testAccess(ctx.store, { private: false }) });
    expect((await api.request('/api/repos')).status).toBe(200);
    expect((await api.request('/api/repos', { headers: { authorization: 'Bearer kiln_guessed' } })).status).toBe(401);
    expect((await api.request('/api/repos/web/runs', { method: 'POST', body: '{}' })).status).toBe(401);
  });
});
