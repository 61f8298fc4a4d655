// The audit log's guarantees in-process on a real SQLite store: every changing route of the API
// app has an action in the one table (app.routes enumerated), no route edits or deletes audit
// rows, and the retention sweepable removes only rows older than the cutoff.
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { createApi } from '../../../server/api/app.js';
import { knownRoute } from '../../../server/audit/actions.js';
import { createEventBus } from '../../../server/events.js';
import type { KilnService } from '../../../server/service.js';
import { seeded } from '../store/fixtures.js';
import { testAccess } from '../../helpers/access.js';

const ADMIN = 'admin-secret';
const entry = (at: number, action = 'run.trigger') => ({ at, actor: 'admin token', actorKind: 'admin-token', address: '127.0.0.1', action, target: 'repo/web', outcome: 'ok' as const, status: 201, detail: '' });

function setup() {
  const ctx = seeded();
  const service = new Proxy({}, { get: () => () => { throw new TypeError('not used'); } }) as KilnService;
  let clock = 1_000_000;
  const api = createApi({
    store: ctx.store, bus: createEventBus(), service, logger: pino({ level: 'silent' }),
    access: testAccess(ctx.store, { private: false, admin: ADMIN }),
    files: { artifacts: {} as never, caches: {} as never, transfer: {} as never } as never,
    audit: { store: ctx.store.audit, actorOf: () => ({ actor: 'admin token', kind: 'admin-token' }), addressOf: () => '10.0.0.1', now: () => clock++ },
  });
  return { ...ctx, api };
}

describe('the audit log', () => {
  it('names every changing route of the API app in its one action table', () => {
    const { api } = setup();
    const changing = api.routes.filter((r) => !['GET', 'HEAD', 'OPTIONS', 'ALL'].includes(r.method));
    expect(changing.length).toBeGreaterThan(10);
    expect(changing.filter((r) => !knownRoute(r.method, r.path)).map((r) => `${r.method} ${r.path}`)).toEqual([]);
  });

  it('has no route that edits or deletes its rows: /api/audit only reads', async () => {
    const { api, store } = setup();
    store.audit.append(entry(5));
    const auditRoutes = api.routes.filter((r) => r.path.startsWith('/api/audit'));
    expect([...new Set(auditRoutes.map((r) => r.method))]).toEqual(['GET']);
    for (const method of ['POST', 'PUT', 'PATCH', 'DELETE']) {
      const answer = await api.request('/api/audit', { method, headers: { authorization: `Bearer ${ADMIN}` } });
      expect(answer.status, method).toBe(404);
    }
    // The original row is untouched; each refused attempt is itself recorded.
    const { rows } = store.audit.list({ limit: 100 });
    expect(rows.at(-1)).toMatchObject({ at: 5, action: 'run.trigger' });
    expect(rows.slice(0, 4).map((r) => [r.action, r.outcome, r.address])).toEqual([
      ['DELETE /api/audit', 'failed', '10.0.0.1'], ['PATCH /api/audit', 'failed', '10.0.0.1'],
      ['PUT /api/audit', 'failed', '10.0.0.1'], ['POST /api/audit', 'failed', '10.0.0.1'],
    ]);
  });

  it('sweeps only rows older than the cutoff, at most a batch at a time', () => {
    const { store } = setup();
    for (const at of [10, 20, 30, 40, 50]) store.audit.append(entry(at));
    expect(store.audit.sweepBefore(40, 2)).toBe(2);
    expect(store.audit.sweepBefore(40, 2)).toBe(1);
    expect(store.audit.sweepBefore(40, 2)).toBe(0);
    expect(store.audit.list({ limit: 10 }).rows.map((r) => r.at)).toEqual([50, 40]);
  });
});
