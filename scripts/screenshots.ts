// Screenshots of the dashboard's main pages, for the docs: `npm run build && node
// dist/scripts/screenshots.js [out-dir]` (default docs/screenshots/). Starts a server on a temp
// data folder with a repo whose pipeline has a few jobs (one failing, ANSI colours, one still
// running, three for a process pool of max 2), an agent, and that pool; then Debian's Chromium (KILN_CHROMIUM or
// /usr/bin/chromium, driven by playwright-core, a devDependency) logs in and saves PNGs.
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { chromium } from 'playwright-core';
import { makeRepo, runBench, startAgents, startServer, waitFor } from './bench/harness.js';

// The bench harness's admin token (scripts/bench/harness.ts): the login form takes it.
const ADMIN_TOKEN = 'bench-admin-token';
const OUT = resolve(process.argv[2] ?? 'docs/screenshots');

const PIPELINE = `on:
  push: true
  manual:
    inputs:
      target: { type: choice, options: [staging, production], default: staging, description: where the package goes }
      dry_run: { type: boolean, description: build without publishing }
jobs:
  build:
    steps:
      - name: compile
        run: |
          echo "compiling"
          printf '\\033[32mok\\033[0m 42 files\\n'
  test:
    needs: [build]
    steps:
      - name: unit
        run: |
          if [ -n "$QUICK" ]; then echo "quick"; exit 0; fi
          for i in $(seq 1 40); do printf 'test %d \\033[32mpassed\\033[0m\\n' $i; done
          printf '\\033[31mFAIL\\033[0m test 41: expected 2, got 3\\n'
          exit 1
  lint:
    needs: [build]
    steps:
      - run: echo "lint clean"
  package-amd64:
    needs: [build]
    runs-on: [local]
    steps:
      - run: if [ -z "$QUICK" ]; then sleep 12; fi; echo packaged
  package-arm64:
    needs: [build]
    runs-on: [local]
    steps:
      - run: if [ -z "$QUICK" ]; then sleep 12; fi; echo packaged
  package-docs:
    needs: [build]
    runs-on: [local]
    steps:
      - run: if [ -z "$QUICK" ]; then sleep 12; fi; echo packaged
  slow:
    needs: [build]
    steps:
      - name: integration
        run: if [ -z "$QUICK" ]; then for i in $(seq 1 600); do echo "still working $i"; sleep 1; done; fi
`;

runBench(async () => {
  mkdirSync(OUT, { recursive: true });
  const repo = makeRepo(PIPELINE);
  const server = await startServer({ web: repo }, 'pools:\n  - { name: local, provider: process, labels: [linux, local], max: 2, idle_timeout: 30s }\n');
  startAgents(server, 1, 4);
  // A green run first (so the home page and badge have history), then the one the pages show.
  const first = await server.api<{ id: number }>('POST', '/api/repos/web/runs', { env: { QUICK: '1' } });
  await waitFor(async () => ['success', 'failed', 'cancelled', 'error'].includes((await server.api<{ status: string }>('GET', `/api/runs/${first.id}`)).status), 60_000, 'the first run');
  const runId = (await server.api<{ id: number }>('POST', '/api/repos/web/runs', {})).id;
  const run = await waitFor(async () => {
    const r = await server.api<{ jobs: Array<{ id: number; name: string; status: string }> }>('GET', `/api/runs/${runId}`);
    return r.jobs.find((j) => j.name === 'test')?.status === 'failed' && r.jobs.find((j) => j.name === 'slow')?.status === 'running' ? r : null;
  }, 60_000, 'the test job to fail while slow runs');
  const testJob = run.jobs.find((j) => j.name === 'test')!;
  // The green run again, as its attempt 2 (the run page then lists both attempts).
  await server.api('POST', `/api/runs/${first.id}/rerun`, {});
  await waitFor(async () => (await server.api<{ status: string; attempt: number }>('GET', `/api/runs/${first.id}`)).status === 'success', 60_000, 'attempt 2 of the first run');
  await server.api('PUT', '/api/repos/web/secrets/DEPLOY_KEY', { value: 'not-a-real-key-0123', branches: ['main'], environments: ['production'] });

  const browser = await chromium.launch({
    executablePath: process.env.KILN_CHROMIUM || '/usr/bin/chromium',
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--disable-quic', '--no-first-run'],
  });
  try {
    const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    await page.goto(`${server.url}/login`);
    await page.locator('form input[name="token"]').fill(ADMIN_TOKEN);
    await Promise.all([page.waitForURL((url) => !url.pathname.startsWith('/login')), page.locator('form input[name="token"]').press('Enter')]);
    const shots: Array<[string, string]> = [
      ['home', '/'], ['repo', '/repos/web'], ['run', `/runs/${runId}`], ['job-log', `/runs/${runId}/jobs/${testJob.id}#L20`],
      ['run-attempts', `/runs/${first.id}`], ['secrets', '/repos/web/secrets'],
      ['agents', '/agents'], ['queue', '/queue'], ['environments', '/environments'], ['pools', '/pools'],
    ];
    for (const [name, path] of shots) {
      // The pools chart samples every 5 s: give it the burst of the package-* jobs first.
      if (name === 'pools') await new Promise((resolve) => setTimeout(resolve, 20_000));
      const response = await page.goto(`${server.url}${path}`);
      await page.waitForTimeout(500); // live updates and the log viewer's first fetch
      const file = join(OUT, `${name}.png`);
      await page.screenshot({ path: file, fullPage: true });
      console.log(`${response?.status() ?? '?'} ${path} -> ${file}`);
    }
  } finally {
    await browser.close();
  }
});
