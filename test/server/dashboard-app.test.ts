// The dashboard app in-process on a real store, mounted in a bigger app as the server does:
// errors from any route file get the dashboard's answers, and a private server's guards hold.
import { Writable } from 'node:stream';
import { Hono } from 'hono';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { KilnError } from '../../shared/errors.js';
import { createDashboard } from '../../server/dashboard/index.js';
import type { KilnService } from '../../server/service.js';
import { seeded } from './store/fixtures.js';
import { testAccess } from '../helpers/access.js';

function setup({ private: isPrivate = false } = {}) {
  const ctx = seeded();
  const logged: Array<{ msg: string; path?: string }> = [];
  const logger = pino({ level: 'error' }, new Writable({ write: (line, _enc, done) => void (logged.push(JSON.parse(String(line))), done()) }));
  const service = {
    pools: () => { throw new KilnError('not_found', 'no pools here'); },
    queue: () => { throw new TypeError('the queue broke'); },
    runInputs: async () => [], // the repo page's run form: this repo's pipeline declares none
  } as unknown as KilnService;
  const dashboard = createDashboard({ store: ctx.store, service, logger, access: testAccess(ctx.store, { private: isPrivate, admin: 'admin-secret' }) });
  const server = new Hono();
  server.route('/', dashboard.app); // as server/main.ts mounts it
  const get = async (path: string, headers: Record<string, string> = {}) => {
    const response = await server.request(path, { headers, redirect: 'manual' });
    return { status: response.status, location: response.headers.get('location'), text: await response.text() };
  };
  return { ...ctx, logged, get };
}

describe('the dashboard app, mounted', () => {
  it('shows the not-found page for a not_found error and a short error page for anything else (logged)', async () => {
    const s = setup();
    expect(await s.get('/pools')).toMatchObject({ status: 404, text: expect.stringContaining('no pools here') });
    expect(await s.get('/queue')).toMatchObject({ status: 500, text: expect.stringContaining('Something went wrong') });
    expect(s.logged).toEqual([expect.objectContaining({ msg: 'dashboard request failed', path: '/queue' })]);
    expect(await s.get('/runs/abc')).toMatchObject({ status: 404, text: expect.stringContaining('no run abc') });
    expect(await s.get('/repos/web')).toMatchObject({ status: 200, text: expect.stringContaining('web') });
  });

  it('on a private server, sends pages to the login, refuses badges, and keeps login and assets open', async () => {
    const s = setup({ private: true });
    expect(await s.get('/agents')).toMatchObject({ status: 303, location: '/login?next=%2Fagents' });
    expect(await s.get('/runs/1/jobs/2')).toMatchObject({ status: 303, location: '/login?next=%2Fruns%2F1%2Fjobs%2F2' });
    expect(await s.get('/badge/web.svg')).toMatchObject({ status: 401, text: 'this server is private' });
    expect(await s.get('/agents', { authorization: 'Bearer admin-secret' })).toMatchObject({ status: 200 });
    expect(await s.get('/login')).toMatchObject({ status: 200 });
    expect(await s.get('/assets/style.css')).toMatchObject({ status: 200 });
    expect(await s.get('/assets/log-viewer.js')).toMatchObject({ status: 200, text: expect.stringContaining("from './log-viewer-lines.js'") });
  });
});
