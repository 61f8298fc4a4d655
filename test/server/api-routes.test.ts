// The API app in-process on a real store: errors thrown in any route file come back as
// {"error": ...} with their status, alone and when mounted in a bigger app as the server does.
import { Writable } from 'node:stream';
import { Hono } from 'hono';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { createApi } from '../../server/api/app.js';
import { createEventBus } from '../../server/events.js';
import type { KilnService } from '../../server/service.js';
import { newRun, seeded } from './store/fixtures.js';
import { testAccess } from '../helpers/access.js';

const ADMIN = 'admin-secret';
const AGENT = 'agent-secret';

function setup({ private: isPrivate = false } = {}) {
  const ctx = seeded();
  const run = ctx.store.runs.createRun(newRun(ctx.repo.id));
  const logged: Array<{ msg: string; path?: string }> = [];
  const logger = pino({ level: 'error' }, new Writable({ write: (line, _enc, done) => void (logged.push(JSON.parse(String(line))), done()) }));
  // The far side of the API: a service whose every call fails unexpectedly (not a KilnError).
  const service = new Proxy({}, { get: () => () => { throw new TypeError('the service broke'); } }) as KilnService;
  const api = createApi({
    store: ctx.store, bus: createEventBus(), service, logger,
    access: testAccess(ctx.store, { private: isPrivate, admin: ADMIN, agent: AGENT }),
  });
  const server = new Hono();
  server.route('/', api); // as server/main.ts mounts it, next to other apps
  server.get('/elsewhere', (c) => c.text('another app'));
  const call = async (app: Hono, method: string, path: string, body?: string, token: string | null = ADMIN) => {
    const headers: Record<string, string> = token ? { authorization: `Bearer ${token}` } : {};
    const response = await app.request(path, { method, headers, ...(body === undefined ? {} : { body }) });
    const text = await response.text();
    return { status: response.status, body: response.headers.get('content-type')?.includes('json') ? JSON.parse(text) : text };
  };
  return { ...ctx, run, logged, api, server, call };
}

describe.each(['the API app', 'the API mounted in the server app'])('%s', (which) => {
  const pick = (s: ReturnType<typeof setup>) => (which === 'the API app' ? s.api : s.server);

  it('answers unknown ids with 404 and bad ids with 400, as JSON', async () => {
    const s = setup();
    const app = pick(s);
    expect(await s.call(app, 'GET', '/api/runs/999999')).toEqual({ status: 404, body: { error: 'no run 999999' } });
    expect(await s.call(app, 'GET', '/api/jobs/999999')).toEqual({ status: 404, body: { error: 'no job 999999' } });
    expect(await s.call(app, 'GET', '/api/repos/nope/runs')).toEqual({ status: 404, body: { error: 'no repo named nope' } });
    expect(await s.call(app, 'GET', '/api/runs/abc')).toEqual({ status: 400, body: { error: 'id must be a positive integer' } });
    expect(await s.call(app, 'GET', `/api/runs/${s.run.id}`)).toMatchObject({ status: 200, body: { id: s.run.id, repo: 'web' } });
  });

  it('refuses a bad body on a route of any file with one line, before the service is asked', async () => {
    const s = setup();
    const app = pick(s);
    expect(await s.call(app, 'POST', `/api/runs/${s.run.id}/rerun`, '{not json')).toEqual({ status: 400, body: { error: 'the body is not JSON' } });
    expect(await s.call(app, 'POST', `/api/runs/${s.run.id}/rerun`, '{"failed":true}')).toEqual({ status: 400, body: { error: 'unknown key "failed"' } });
    expect(await s.call(app, 'PUT', '/api/repos/web/secrets/KEY', '{"value":1}')).toMatchObject({ status: 400, body: { error: expect.stringMatching(/^value: /) } });
    expect(await s.call(app, 'PUT', '/api/repos/web/secrets/KEY', JSON.stringify({ value: 'x'.repeat(2 * 1024 * 1024) }))).toEqual({ status: 413, body: { error: 'the body is larger than 1 MiB' } });
    expect(s.store.secrets.listSecretNames(s.repo.id)).toEqual([]);
    expect(s.logged).toEqual([]);
  });

  it('asks for the admin token on changes: 401 without one, 403 with the agent token', async () => {
    const s = setup();
    const app = pick(s);
    expect(await s.call(app, 'POST', `/api/runs/${s.run.id}/cancel`, undefined, null)).toEqual({ status: 401, body: { error: 'this needs a token: Authorization: Bearer <token>, or a dashboard session' } });
    expect(await s.call(app, 'POST', '/api/jobs/1/approve', undefined, AGENT)).toEqual({ status: 403, body: { error: 'agent token may not run, cancel or re-run jobs on web: that needs the developer role' } });
  });

  it('answers an unexpected failure with 500 "internal error" and logs it', async () => {
    const s = setup();
    expect(await s.call(pick(s), 'GET', '/api/pools')).toEqual({ status: 500, body: { error: 'internal error' } });
    expect(s.logged).toEqual([expect.objectContaining({ msg: 'request failed', path: '/api/pools' })]);
  });

  it('on a private server, refuses every /api route without a token and keeps /healthz open', async () => {
    const s = setup({ private: true });
    const app = pick(s);
    for (const path of ['/api/repos', `/api/runs/${s.run.id}`, '/api/jobs/1/lines', '/api/agents']) {
      expect(await s.call(app, 'GET', path, undefined, null)).toEqual({ status: 401, body: { error: 'this server is private: send a token' } });
    }
    expect(await s.call(app, 'GET', '/api/repos', undefined, AGENT)).toMatchObject({ status: 200 });
    expect(await s.call(app, 'GET', '/healthz', undefined, null)).toEqual({ status: 200, body: { status: 'ok' } });
  });
});

describe('the API app alone', () => {
  it('names the method and path it has no route for', async () => {
    const s = setup();
    expect(await s.call(s.api, 'DELETE', '/api/nothing')).toEqual({ status: 404, body: { error: 'no route DELETE /api/nothing' } });
  });

  it('mounted, leaves the other apps of the server alone', async () => {
    const s = setup({ private: true });
    expect(await s.call(s.server, 'GET', '/elsewhere', undefined, null)).toEqual({ status: 200, body: 'another app' });
  });
});
