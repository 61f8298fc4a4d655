// The dashboard (SPEC §6): server-rendered pages with hono's JSX, a few small client modules,
// a session login with the admin token, CSRF-checked actions and the status badge.
// Pages answer `?partial=1` with only their <main> content, which assets/live.js swaps in
// when /api/events says something relevant changed.
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Hono, type Context } from 'hono';
import { deleteCookie, getCookie, setCookie } from 'hono/cookie';
import { raw } from 'hono/html';
import type { Logger } from 'pino';
import { KilnError } from '../../shared/errors.js';
import type { EventBus } from '../events.js';
import type { KilnService } from '../service.js';
import type { Store } from '../store/index.js';
import { ASSETS } from './assets/index.js';
import { badgeSvg } from './badge.js';
import { Layout, type Viewer } from './layout.js';
import { agentsPage } from './pages/agents.js';
import { environmentsPage, type Deployment } from './pages/environments.js';
import { homePage } from './pages/home.js';
import { jobLogPage } from './pages/job-log.js';
import { loginPage } from './pages/login.js';
import type { Page } from './pages/page.js';
import { asPoolSummaries, poolsPage } from './pages/pools.js';
import { queuePage } from './pages/queue.js';
import { repoPage } from './pages/repo.js';
import { runPage } from './pages/run.js';
import { createSampleRing } from './samples.js';
import { createSessions, sameToken, SESSION_COOKIE, type Session } from './session.js';

export interface DashboardOptions {
  store: Store;
  service: KilnService;
  bus?: EventBus;
  /** The kind of a presented token, or null. */
  tokenKind(token: string | null): 'admin' | 'agent' | 'user' | null;
  private: boolean;
  logger: Logger;
  /** How often the pools chart takes a sample (default 5 s). */
  sampleEveryMs?: number;
  now?: () => number;
}

/**
 * Assets that are not TypeScript modules (e.g. a plain `.js` file another page adds) are read
 * from the source folder: tsc does not copy them to dist/. From dist/server/dashboard/ that
 * is ../../../server/dashboard/assets; from a source run it is ./assets.
 */
const SOURCE_ASSETS = [new URL('../../../server/dashboard/assets/', import.meta.url), new URL('./assets/', import.meta.url)].map((u) => fileURLToPath(u));
const ASSET_NAME = /^[a-z0-9][a-z0-9-]*\.(js|css|svg)$/;
const ASSET_TYPES: Record<string, string> = { js: 'text/javascript; charset=utf-8', css: 'text/css; charset=utf-8', svg: 'image/svg+xml' };

export function createDashboard(options: DashboardOptions): Hono {
  const { store, service, logger } = options;
  const now = options.now ?? Date.now;
  const sessions = createSessions(now);
  const samples = createSampleRing();
  const takeSample = () => {
    try {
      const agents = store.agents.listAgents().filter((a) => a.status !== 'offline');
      samples.add({ atMs: now(), queued: store.jobs.listQueuedJobs().filter((j) => j.status === 'queued').length, agents: agents.length, busy: agents.filter((a) => a.status === 'busy').length });
    } catch (error) {
      logger.warn({ err: error }, 'dashboard sample failed');
    }
  };
  takeSample();
  // The dashboard has no stop(): the timer must not keep the process alive.
  setInterval(takeSample, options.sampleEveryMs ?? 5000).unref();

  const app = new Hono();

  const sessionOf = (c: Context): Session | null => sessions.get(getCookie(c, SESSION_COOKIE));
  const viewerOf = (c: Context): Viewer => ({ csrf: sessionOf(c)?.csrf ?? null, path: c.req.path });
  const bearer = (c: Context) => {
    const header = c.req.header('authorization') ?? '';
    return header.toLowerCase().startsWith('bearer ') ? header.slice(7).trim() : null;
  };
  const mayRead = (c: Context) => !options.private || sessionOf(c) !== null || options.tokenKind(bearer(c)) !== null;
  const loginUrl = (c: Context) => `/login?next=${encodeURIComponent(c.req.path)}`;
  const localPath = (next: unknown, fallback = '/') => (typeof next === 'string' && /^\/(?![/\\])/.test(next) ? next : fallback);
  const isHttps = (c: Context) => new URL(c.req.url).protocol === 'https:' || c.req.header('x-forwarded-proto') === 'https';

  /** A POST from another site (Origin or Sec-Fetch-Site says so) is refused before anything else. */
  const crossSite = (c: Context): boolean => {
    const site = c.req.header('sec-fetch-site');
    if (site && site !== 'same-origin' && site !== 'none') return true;
    const origin = c.req.header('origin');
    if (origin && origin !== 'null') {
      const host = c.req.header('x-forwarded-host') ?? c.req.header('host');
      try {
        if (new URL(origin).host !== host) return true;
      } catch {
        return true;
      }
    } else if (origin === 'null') return true;
    return false;
  };

  const render = (c: Context, page: Page) => {
    c.header('cache-control', 'no-store');
    c.header('x-frame-options', 'DENY');
    c.header('referrer-policy', 'same-origin');
    c.header('content-security-policy', "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; script-src 'self'; connect-src 'self' ws: wss:; frame-ancestors 'none'; form-action 'self'");
    const status = page.status ?? 200;
    if (c.req.query('partial') === '1') return c.html(<>{page.body}</>, status);
    return c.html(
      <>
        {raw('<!doctype html>')}
        <Layout title={page.title} viewer={viewerOf(c)} {...(page.live ? { live: page.live } : {})} {...(page.data ? { data: page.data } : {})}>
          {page.body}
        </Layout>
      </>,
      status,
    );
  };
  const notFoundPage = (what: string): Page => ({ title: 'Not found', status: 404, body: <><h1>Not found</h1><p>{what}</p></> });
  const positiveId = (value: string | undefined): number | null => {
    const n = Number(value);
    return Number.isSafeInteger(n) && n > 0 ? n : null;
  };

  app.onError((error, c) => {
    if (error instanceof KilnError && error.code === 'not_found') return render(c, notFoundPage(error.message));
    logger.error({ err: error, path: c.req.path }, 'dashboard request failed');
    return c.html('<!doctype html><title>error · kiln</title><h1>Something went wrong</h1>', 500);
  });

  // Assets and the login page are open on a private server too.
  app.get('/assets/:name', (c) => {
    const name = c.req.param('name');
    const builtIn = ASSETS[name];
    if (builtIn) return c.body(builtIn.body, 200, { 'content-type': builtIn.type, 'cache-control': 'no-cache' });
    if (!ASSET_NAME.test(name)) return c.text('not found', 404);
    for (const dir of SOURCE_ASSETS) {
      const file = dir + name;
      if (existsSync(file)) return c.body(readFileSync(file, 'utf8'), 200, { 'content-type': ASSET_TYPES[name.split('.').pop()!]!, 'cache-control': 'no-cache' });
    }
    return c.text('not found', 404);
  });

  app.get('/login', (c) => render(c, loginPage(localPath(c.req.query('next')), null)));
  app.post('/login', async (c) => {
    if (crossSite(c)) return c.text('cross-site login refused', 403);
    const form = await c.req.parseBody();
    const next = localPath(form.next);
    const token = typeof form.token === 'string' ? form.token.trim() : '';
    const kind = token ? options.tokenKind(token) : null;
    if (kind !== 'admin' && kind !== 'user') {
      logger.info('dashboard login refused');
      return render(c, { ...loginPage(next, 'That token is not an admin token.'), status: 401 });
    }
    sessions.remove(getCookie(c, SESSION_COOKIE));
    const session = sessions.create(kind);
    setCookie(c, SESSION_COOKIE, session.id, { httpOnly: true, sameSite: 'Strict', path: '/', secure: isHttps(c), maxAge: 12 * 60 * 60 });
    return c.redirect(next, 303);
  });
  app.post('/logout', async (c) => {
    const session = sessionOf(c);
    const form = await c.req.parseBody();
    if (session && !crossSite(c) && sameToken(session.csrf, form.csrf)) sessions.remove(session.id);
    else if (session) return c.text('missing or wrong CSRF token', 403);
    deleteCookie(c, SESSION_COOKIE, { path: '/' });
    return c.redirect('/', 303);
  });

  // Everything below reads: a private server needs a session (or a token) for it.
  const readGuard = async (c: Context, next: () => Promise<void>) => {
    if (!mayRead(c)) {
      if (c.req.path.startsWith('/badge/')) return c.text('this server is private', 401);
      return c.redirect(loginUrl(c), 303);
    }
    await next();
  };
  for (const path of ['/', '/repos/*', '/runs/*', '/agents', '/pools', '/queue', '/environments', '/badge/*']) app.get(path, readGuard);

  app.get('/', (c) => render(c, homePage(store.repos.listRepos().map((repo) => ({ repo, lastRuns: store.runs.listLastRunsByBranch(repo.id) })), now())));
  app.get('/repos/:repo', (c) => {
    const repo = store.repos.getRepoByName(c.req.param('repo'));
    if (!repo) return render(c, notFoundPage(`no repo named ${c.req.param('repo')}`));
    return render(c, repoPage(repo, store.runs.listRuns(repo.id, { limit: 50 }), viewerOf(c), now(), c.req.query('error') ?? null));
  });
  app.get('/runs/:id/jobs/:jobId', (c) => {
    const runId = positiveId(c.req.param('id'));
    const jobId = positiveId(c.req.param('jobId'));
    const run = runId === null ? null : store.runs.getRun(runId);
    const job = jobId === null ? null : store.jobs.getJobWithSteps(jobId);
    if (!run || !job || job.runId !== run.id) return render(c, notFoundPage(`no job ${c.req.param('jobId')} in run ${c.req.param('id')}`));
    return render(c, jobLogPage(job, run, viewerOf(c), now()));
  });
  app.get('/runs/:id', (c) => {
    const id = positiveId(c.req.param('id'));
    const run = id === null ? null : store.runs.getRun(id);
    if (!run) return render(c, notFoundPage(`no run ${c.req.param('id')}`));
    return render(c, runPage(run, viewerOf(c), now(), c.req.query('error') ?? null));
  });
  app.get('/agents', (c) => render(c, agentsPage(store.agents.listAgents(), now())));
  app.get('/pools', (c) => render(c, poolsPage(asPoolSummaries(service.pools()), samples.list(), now())));
  app.get('/queue', (c) => render(c, queuePage(service.queue(), viewerOf(c), now())));
  app.get('/environments', (c) => {
    const deployments: Deployment[] = [];
    for (const job of store.jobs.listLastDeployments()) {
      const run = store.runs.getRunSummary(job.runId);
      if (run && job.plan.environment) deployments.push({ environment: job.plan.environment, job, run });
    }
    return render(c, environmentsPage(deployments, now()));
  });

  app.get('/badge/:file', (c) => {
    const file = c.req.param('file');
    if (!file.endsWith('.svg')) return c.text('not found', 404);
    const repo = store.repos.getRepoByName(file.slice(0, -4));
    const headers = { 'content-type': 'image/svg+xml; charset=utf-8', 'cache-control': 'no-cache' };
    if (!repo) return c.body(badgeSvg(null), 404, headers);
    const branch = c.req.query('branch') || repo.defaultBranch;
    const last = store.runs.listLastRunsByBranch(repo.id).find((r) => r.branch === branch);
    return c.body(badgeSvg(last?.status ?? null), 200, headers);
  });

  // Actions: a session and its CSRF token, from this site; then 303 back to a page.
  const action = (handler: (c: Context, form: Record<string, unknown>) => Promise<string> | string, back: (c: Context) => string) =>
    async (c: Context) => {
      const session = sessionOf(c);
      if (crossSite(c)) return c.text('cross-site request refused', 403);
      if (!session) return c.redirect(`/login?next=${encodeURIComponent(back(c))}`, 303);
      const form = await c.req.parseBody();
      if (!sameToken(session.csrf, form.csrf)) return c.text('missing or wrong CSRF token', 403);
      try {
        return c.redirect(await handler(c, form), 303);
      } catch (error) {
        if (!(error instanceof KilnError) || error.code === 'internal') throw error;
        const to = back(c);
        return c.redirect(`${to}${to.includes('?') ? '&' : '?'}error=${encodeURIComponent(error.message.split('\n')[0]!)}`, 303);
      }
    };
  const idParam = (c: Context) => {
    const id = positiveId(c.req.param('id'));
    if (id === null) throw new KilnError('bad_input', 'the id must be a positive integer');
    return id;
  };
  app.post('/runs/:id/cancel', action((c) => `/runs/${service.cancelRun(idParam(c)).id}`, (c) => `/runs/${c.req.param('id')}`));
  app.post('/runs/:id/rerun', action(async (c, form) => `/runs/${(await service.rerun(idParam(c), form.failed_only === '1')).id}`, (c) => `/runs/${c.req.param('id')}`));
  app.post('/jobs/:id/approve', action((c) => `/runs/${service.approveJob(idParam(c)).runId}`, (c) => {
    const job = store.jobs.getJob(positiveId(c.req.param('id')) ?? 0);
    return job ? `/runs/${job.runId}` : '/queue';
  }));
  app.post('/repos/:repo/run', action(async (c, form) => {
    const branch = typeof form.branch === 'string' ? form.branch.trim() : '';
    const run = await service.triggerRun(c.req.param('repo') ?? '', { ...(branch ? { ref: branch } : {}), event: 'manual' });
    return `/runs/${run.id}`;
  }, (c) => `/repos/${encodeURIComponent(c.req.param('repo') ?? '')}`));

  return app;
}
