// The dashboard in a real browser (SPEC §6), against a real server, agent and git repo: every
// page at its stable URL, cancel from the run page after logging in with the admin token, and
// the pools chart showing a burst. The job log viewer's tests are in log-viewer.test.ts.
//
// What it assumes of the pages: the login form's `token` field; the run page's "Cancel" button
// (a CSRF form, for a logged-in admin); `/pools` draws `svg.chart` with one `path[data-series]`
// per series and a `0` gridline.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { launchBrowser, logIn, newPage, skipBrowser, useBrowserFixture } from '../helpers/browser.js';
import { createRepo, isolateGit, removeTempDirs, type TestRepo } from '../helpers/git.js';
import { eventually, jobOf, killAll, killPoolAgents, runEnded, runOfCommit, startAgent, startServer, type ServerProcess } from '../helpers/kiln.js';

describe.skipIf(skipBrowser())('the dashboard in a browser', () => {
  const fx = useBrowserFixture({ capacity: 4 });
  let browser!: Browser;
  let server!: ServerProcess;
  let repo!: TestRepo;
  beforeAll(() => void ({ browser, server, repo } = fx));
  const startJob = (name: string, script: string) => fx.startJob(name, script);

  it('serves every page at its stable URL, renders it without script errors, and draws the run\'s job graph', async () => {
    const { runId } = await startJob('graph', 'echo graph');
    expect((await runEnded(server, runId)).status).toBe('success');
    const page = await newPage(browser);
    const errors: string[] = [];
    page.on('pageerror', (error) => errors.push(error.message));
    for (const path of ['/', '/repos/web', `/runs/${runId}`, '/agents', '/pools', '/queue', '/environments', '/login']) {
      const response = await page.goto(`${server.url}${path}`);
      expect(response?.status(), path).toBe(200);
      expect(await page.locator('main').count(), path).toBe(1);
    }
    await page.goto(`${server.url}/runs/${runId}`);
    expect(await page.locator('main svg').count()).toBeGreaterThan(0);
    expect(await page.locator('main').innerText()).toContain('graph');
    expect(errors).toEqual([]);
    await page.context().close();
  });

  it('cancel on the run page (logged in with the admin token) cancels the run', async () => {
    const { runId } = await startJob('sleeper', 'echo sleeping\nsleep 600');
    await eventually(async () => (await jobOf(server, runId, 'sleeper'))?.status === 'running', 15_000, 'the job running');
    const page = await newPage(browser);
    await logIn(page, server.url);
    await page.goto(`${server.url}/runs/${runId}`);
    page.on('dialog', (dialog) => void dialog.accept());
    await page.getByRole('button', { name: /^cancel$/i }).click();
    await page.waitForFunction(() => /cancelled/i.test((globalThis as any).document.querySelector('main')?.innerText ?? ''), null, { timeout: 10_000 });
    expect(page.url()).toContain(`/runs/${runId}`);
    expect((await server.api('GET', `/api/runs/${runId}`)).body).toMatchObject({ status: 'cancelled', jobs: [{ status: 'cancelled' }] });
    await page.context().close();
  });

});

describe.skipIf(skipBrowser())('the pools page in a browser', () => {
  let browser: Browser;
  let server: ServerProcess;
  let repo: TestRepo;

  beforeAll(async () => {
    await isolateGit();
    repo = await createRepo();
    const config = `repos:\n  - { name: web, path: ${JSON.stringify(repo.path)} }\npools:\n  - { name: burst, provider: process, labels: [linux, burst], max: 2, idle_timeout: 2s }\nserver:\n  lease_timeout: 5s\n`;
    [browser, server] = await Promise.all([launchBrowser(), startServer({ config })]);
  });
  afterAll(async () => {
    await browser?.close();
    await killAll();
    if (server) killPoolAgents(server.dataDir);
    await removeTempDirs();
  });

  it("shows a burst in the pools chart: a pool of max 2 runs four jobs and the chart's agents and busy lines rise to 2", async () => {
    const job = (name: string) => `  ${name}:\n    runs-on: [burst]\n    steps: [{ run: 'sleep 3; echo ${name}' }]\n`;
    const sha = await repo.commit({ 'pipeline.yml': `jobs:\n${['a', 'b', 'c', 'd'].map(job).join('')}` });
    const run = await runOfCommit(server, 'web', sha);
    const page = await newPage(browser);
    await page.goto(`${server.url}/pools`);
    const peaks = await eventually(async () => {
      await page.reload();
      const found = await page.evaluate(() => {
        const w = globalThis as any;
        const svg = w.document.querySelector('svg.chart');
        if (!svg) return null;
        // The gridlines: (value, y) pairs, the 0 line and the top one; a point's value is linear in y.
        const grid: Array<[number, number]> = [...svg.querySelectorAll('g')]
          .map((g: any): [number, number] => [Number(g.querySelector('text')?.textContent), Number(g.querySelector('line')?.getAttribute('y1'))])
          .filter(([v, y]) => Number.isFinite(v) && Number.isFinite(y)).sort((p, q) => p[0] - q[0]);
        const [v0, y0] = grid[0] ?? [NaN, NaN];
        const [v1, y1] = grid[grid.length - 1] ?? [NaN, NaN];
        if (v0 !== 0 || !(v1 > 0)) return null;
        const out: Record<string, number> = {};
        for (const path of svg.querySelectorAll('path[data-series]')) {
          const ys = [...(path.getAttribute('d') as string).matchAll(/[ML]\s*[-\d.]+[ ,]\s*([-\d.]+)/g)].map((m) => Number(m[1]));
          // the series' highest value, read off the chart
          out[path.getAttribute('data-series')] = ys.length ? Math.round(((y0 - Math.min(...ys)) / (y0 - y1)) * v1 * 10) / 10 : 0;
        }
        return out;
      });
      return found && (found.agents ?? 0) >= 2 && (found.busy ?? 0) >= 2 ? found : null;
    }, 45_000, "the chart to show the pool's 2 agents, busy");
    console.log(`pools chart peaks: ${JSON.stringify(peaks)}`);
    expect(peaks.agents).toBeLessThanOrEqual(2); // the pool's max (no other agent here)
    expect((await runEnded(server, run.id, 60_000)).status).toBe('success');
    await page.context().close();
  }, 90_000);
});
