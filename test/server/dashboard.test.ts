// The dashboard of a real server process: pages, the run graph, login, CSRF, actions, badges.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRepo, isolateGit, removeTempDirs, type TestRepo } from '../helpers/git.js';
import { ADMIN_TOKEN, AGENT_TOKEN, eventually, killAll, startAgent, startServer, type ServerProcess } from '../helpers/kiln.js';

let server: ServerProcess;
let repo: TestRepo;
let runId: number;
let jobIds: Record<string, number>;

const page = async (path: string, init: RequestInit = {}) => {
  const response = await fetch(`${server.url}${path}`, { redirect: 'manual', ...init });
  return { status: response.status, headers: response.headers, text: await response.text() };
};
const form = (fields: Record<string, string>, headers: Record<string, string> = {}): RequestInit => ({
  method: 'POST',
  headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
  body: new URLSearchParams(fields).toString(),
});
const login = async () => {
  const response = await page('/login', form({ token: ADMIN_TOKEN, next: '/' }));
  const cookie = response.headers.get('set-cookie')!.split(';')[0]!;
  const html = (await page('/', { headers: { cookie } })).text;
  const csrf = /name="csrf" value="([^"]+)"/.exec(html)![1]!;
  return { cookie, csrf };
};

beforeAll(async () => {
  await isolateGit();
  repo = await createRepo();
  await repo.commit(
    { 'pipeline.yml': 'jobs:\n  build:\n    steps: [{ run: echo building }]\n  test:\n    needs: build\n    steps: [{ run: echo testing }]\n  deploy:\n    needs: test\n    approval: true\n    environment: production\n    steps: [{ run: echo deploying }]\n' },
    'fix <script>alert(1)</script>',
  );
  server = await startServer({ repos: { web: repo.path } });
  const { status, body } = await server.api('POST', '/api/repos/web/runs', { ref: 'main' });
  expect(status).toBe(201);
  runId = body.id;
  jobIds = Object.fromEntries(body.jobs.map((j: { name: string; id: number }) => [j.name, j.id]));
});
afterAll(async () => {
  await killAll();
  await removeTempDirs();
});

describe('dashboard pages', () => {
  it('lists repos with their branches last runs, escaping what users wrote', async () => {
    const { status, text, headers } = await page('/');
    expect(status).toBe(200);
    expect(headers.get('content-type')).toMatch(/text\/html/);
    expect(text).toMatch(/^<!doctype html>/i);
    expect(text).toContain('href="/repos/web"');
    expect(text).toContain('class="status queued"');
    expect(text).toContain(`href="/runs/${runId}"`);
    expect(text).not.toContain('<script>alert(1)');
    expect(text).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(text).toContain('href="/assets/style.css"');
  });

  it('shows a repo runs and, without a session, a link to log in instead of the run form', async () => {
    const { status, text } = await page('/repos/web');
    expect(status).toBe(200);
    expect(text).toContain('#1');
    expect(text).toContain('log in to run branch');
    expect(text).not.toContain('action="/repos/web/run"');
    expect((await page('/repos/nope')).status).toBe(404);
  });

  it('draws the run jobs as a graph: a box per job with its status, an edge per need, links to the logs', async () => {
    const { status, text } = await page(`/runs/${runId}`);
    expect(status).toBe(200);
    const svg = /<svg class="graph"[\s\S]*?<\/svg>/.exec(text)![0];
    for (const name of ['build', 'test', 'deploy']) {
      expect(svg).toContain(`data-job="${name}"`);
      expect(svg).toContain(`href="/runs/${runId}/jobs/${jobIds[name]}"`);
    }
    expect(svg).toContain('data-edge="build-&gt;test"');
    expect(svg).toContain('data-edge="test-&gt;deploy"');
    expect(svg).toMatch(/data-job="build" data-status="queued"/);
    expect(text).toContain('echo building');
    expect(text).toContain('log in to cancel');
    expect((await page('/runs/999999')).status).toBe(404);
  });

  it('answers ?partial=1 with only the main section', async () => {
    const { status, text } = await page(`/runs/${runId}?partial=1`);
    expect(status).toBe(200);
    expect(text).not.toContain('<html');
    expect(text).toContain('data-job="build"');
  });

  it('shows agents, pools with a chart, the queue with reasons, and environments', async () => {
    expect((await page('/agents')).text).toContain('No agent has connected yet');
    const pools = await page('/pools');
    expect(pools.status).toBe(200);
    expect(pools.text).toContain('<svg class="chart"');
    const queue = await page('/queue');
    expect(queue.text).toContain('waiting for a job it needs: build');
    expect(queue.text).toContain('class="reason"');
    const environments = await page('/environments');
    expect(environments.status).toBe(200);
    expect(environments.text).toContain('Nothing has been deployed yet');
  });

  it('serves its assets from the package', async () => {
    const css = await page('/assets/style.css');
    expect(css.status).toBe(200);
    expect(css.headers.get('content-type')).toMatch(/text\/css/);
    const js = await page('/assets/live.js');
    expect(js.status).toBe(200);
    expect(js.text).toContain('/api/events');
    expect((await page('/assets/..%2Fsession.js')).status).toBe(404);
  });

  it("serves the log viewer's ES modules as they are, and every module they import", async () => {
    const seen = new Set<string>();
    const visit = async (name: string) => {
      if (seen.has(name)) return;
      seen.add(name);
      const js = await page(`/assets/${name}`);
      expect(js.status, name).toBe(200);
      expect(js.headers.get('content-type'), name).toBe('text/javascript; charset=utf-8');
      for (const [, sibling] of js.text.matchAll(/^import .* from '\.\/([a-z0-9-]+\.js)';$/gm)) await visit(sibling!);
    };
    await visit('log-viewer.js');
    expect(seen.size).toBeGreaterThan(1);
    expect((await page('/assets/log-viewer.css')).headers.get('content-type')).toMatch(/text\/css/);
    expect((await page('/assets/no-such-module.js')).status).toBe(404);
  });
});

describe('dashboard login and actions', () => {
  it('refuses a wrong token and sets no cookie', async () => {
    for (const token of ['wrong', AGENT_TOKEN]) {
      const response = await page('/login', form({ token }));
      expect(response.status).toBe(401);
      expect(response.headers.get('set-cookie')).toBeNull();
    }
  });

  it('logs in with the admin token: an HttpOnly, SameSite=Lax session cookie (Lax: the redirect back from an identity provider must carry it)', async () => {
    const response = await page('/login', form({ token: ADMIN_TOKEN, next: '/repos/web' }));
    expect(response.status).toBe(303);
    expect(response.headers.get('location')).toBe('/repos/web');
    const cookie = response.headers.get('set-cookie')!;
    expect(cookie).toMatch(/^kiln_session=/);
    expect(cookie).toMatch(/HttpOnly/i);
    expect(cookie).toMatch(/SameSite=Lax/i);
    expect(cookie).toMatch(/Path=\//);
    expect(cookie).not.toMatch(/Secure/i);
    // never an open redirect
    expect((await page('/login', form({ token: ADMIN_TOKEN, next: '//evil.example' }))).headers.get('location')).toBe('/');
  });

  it('refuses an action without the CSRF token (or from another site) and changes nothing', async () => {
    const { cookie, csrf } = await login();
    expect((await page(`/runs/${runId}/cancel`, form({}, { cookie }))).status).toBe(403);
    expect((await page(`/runs/${runId}/cancel`, form({ csrf: 'nope' }, { cookie }))).status).toBe(403);
    expect((await page(`/runs/${runId}/cancel`, form({ csrf }, { cookie, origin: 'http://evil.example' }))).status).toBe(403);
    // no session: sent to log in
    const anonymous = await page(`/runs/${runId}/cancel`, form({ csrf }));
    expect(anonymous.status).toBe(303);
    expect(anonymous.headers.get('location')).toMatch(/^\/login/);
    expect((await server.api('GET', `/api/runs/${runId}`)).body.status).toBe('queued');
  });

  it('shows the buttons to a session and cancels a run with session and CSRF token', async () => {
    const { cookie, csrf } = await login();
    const run = await page(`/runs/${runId}`, { headers: { cookie } });
    expect(run.text).toContain(`action="/runs/${runId}/cancel"`);
    expect(run.text).toContain(`name="csrf" value="${csrf}"`);
    const response = await page(`/runs/${runId}/cancel`, form({ csrf }, { cookie, origin: server.url }));
    expect(response.status).toBe(303);
    expect(response.headers.get('location')).toBe(`/runs/${runId}`);
    expect((await server.api('GET', `/api/runs/${runId}`)).body.status).toBe('cancelled');
    // a second cancel of a final run is a conflict or a no-op, and comes back to the page either way
    expect((await page(`/runs/${runId}/cancel`, form({ csrf }, { cookie }))).status).toBe(303);
  });

  it('re-runs and runs a branch from forms', async () => {
    const { cookie, csrf } = await login();
    const rerun = await page(`/runs/${runId}/rerun`, form({ csrf }, { cookie }));
    expect(rerun.status).toBe(303);
    expect(rerun.headers.get('location')).toBe(`/runs/${runId}`); // attempt 2 of the same run
    expect((await server.api('GET', `/api/runs/${runId}`)).body).toMatchObject({ attempt: 2, status: 'queued' });
    const started = await page('/repos/web/run', form({ csrf, branch: 'main' }, { cookie }));
    expect(started.status).toBe(303);
    const runs = (await server.api('GET', '/api/repos/web/runs')).body;
    expect(runs[0]).toMatchObject({ event: 'manual', branch: 'main' });
    const missing = await page('/repos/web/run', form({ csrf, branch: 'no-such-branch' }, { cookie }));
    expect(missing.status).toBe(303);
    expect(missing.headers.get('location')).toMatch(/^\/repos\/web\?branch=no-such-branch&error=/); // the form keeps the branch entered
    for (const id of [runId, runs[0].id]) await server.api('POST', `/api/runs/${id}/cancel`);
  });

  it('logs out: the session no longer works', async () => {
    const { cookie, csrf } = await login();
    expect((await page('/logout', form({ csrf }, { cookie }))).status).toBe(303);
    expect((await page(`/runs/${runId}/rerun`, form({ csrf }, { cookie }))).headers.get('location')).toMatch(/^\/login/);
  });
});

describe('badges', () => {
  // These runs come from the API: the badge counts them only when ?event= asks (see badge.test.ts).
  it('shows the last run of the default branch, or of ?branch=, of the ?event= asked', async () => {
    await eventually(async () => (await server.api('GET', '/api/repos/web/runs')).body[0].status === 'cancelled');
    const badge = await page('/badge/web.svg?event=api');
    expect(badge.status).toBe(200);
    expect(badge.headers.get('content-type')).toMatch(/image\/svg\+xml/);
    expect(badge.headers.get('cache-control')).toBe('no-cache');
    expect(badge.text).toContain('build');
    expect(badge.text).toContain('cancelled');
    expect((await page('/badge/web.svg?branch=other&event=api')).text).toContain('unknown');
    expect((await page('/badge/nope.svg')).status).toBe(404);
  });
});

describe('a deployment', () => {
  it('shows on /environments once the job that deploys succeeds', async () => {
    const { body } = await server.api('POST', '/api/repos/web/runs', { ref: 'main' });
    await startAgent(server);
    const deploy = body.jobs.find((j: { name: string }) => j.name === 'deploy');
    await eventually(async () => (await server.api('GET', `/api/jobs/${deploy.id}`)).body.status === 'blocked', 30_000);
    expect(await server.api('POST', `/api/jobs/${deploy.id}/approve`)).toMatchObject({ status: 200 });
    await eventually(async () => (await server.api('GET', `/api/runs/${body.id}`)).body.status === 'success', 30_000);
    const { text } = await page('/environments');
    expect(text).toContain('data-environment="production"');
    expect(text).toContain(`href="/runs/${body.id}/jobs/${deploy.id}"`);
    expect((await page('/badge/web.svg?event=api')).text).toContain('passing');
  }, 60_000);
});

describe('a private server', () => {
  it('needs a session to read pages; the login page and assets stay open', async () => {
    const priv = await startServer({ repos: { web: repo.path }, config: `repos:\n  - { name: web, path: ${JSON.stringify(repo.path)} }\npools: []\nserver:\n  private: true\n` });
    const get = (path: string, headers: Record<string, string> = {}) => fetch(`${priv.url}${path}`, { redirect: 'manual', headers });
    const home = await get('/');
    expect(home.status).toBe(303);
    expect(home.headers.get('location')).toBe('/login?next=%2F');
    expect((await get('/badge/web.svg')).status).toBe(401);
    expect((await get('/login')).status).toBe(200);
    expect((await get('/assets/style.css')).status).toBe(200);
    const loggedIn = await fetch(`${priv.url}/login`, { ...form({ token: ADMIN_TOKEN }), redirect: 'manual' });
    const cookie = loggedIn.headers.get('set-cookie')!.split(';')[0]!;
    const again = await get('/', { cookie });
    expect(again.status).toBe(200);
    expect(await again.text()).toContain('href="/repos/web"');
    await priv.kill();
  });
});
