// A real browser in tests: Debian's Chromium driven by playwright-core (no browser download).
// A suite that needs it skips with a one-line reason when the binary is missing, and fails
// instead when KILN_TEST_REQUIRE_BROWSER=1 (as in CI), like the Docker suites.
import { existsSync } from 'node:fs';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll } from 'vitest';
import { createRepo, isolateGit, removeTempDirs, type TestRepo } from './git.js';
import { ADMIN_TOKEN, eventually, killAll, runOfCommit, startAgent, startServer, type ServerProcess } from './kiln.js';

/** The Chromium binary the tests drive: `KILN_CHROMIUM` or Debian's /usr/bin/chromium. */
export const CHROMIUM = process.env.KILN_CHROMIUM || '/usr/bin/chromium';

/** Why a browser cannot be used here, or null when the binary is there. */
export function browserUnavailable(): string | null {
  return existsSync(CHROMIUM) ? null : `no Chromium at ${CHROMIUM} (apt-get install chromium, or set KILN_CHROMIUM)`;
}

/**
 * For `describe.skipIf(skipBrowser())`: true (skip, with the reason printed once) when no
 * Chromium is installed; throws when KILN_TEST_REQUIRE_BROWSER=1 so that CI cannot skip silently.
 */
export function skipBrowser(): boolean {
  const why = browserUnavailable();
  if (why === null) return false;
  if (process.env.KILN_TEST_REQUIRE_BROWSER === '1') throw new Error(`KILN_TEST_REQUIRE_BROWSER=1 but ${why}`);
  console.warn(`skipping browser tests: ${why}`);
  return true;
}

/**
 * A headless Chromium with nothing that reaches the network on its own. Its profile is fresh:
 * playwright-core's launch() makes a new temporary --user-data-dir (it refuses one in `args`)
 * and removes it on close().
 */
export async function launchBrowser(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
      '--disable-sync', '--disable-quic', '--no-first-run',
    ],
    timeout: 30_000,
  });
}

/** A page in its own context (own cookies), 1280×800, that fails the test on page errors when asked. */
export async function newPage(browser: Browser, options: { width?: number; height?: number } = {}): Promise<Page> {
  const context = await browser.newContext({ viewport: { width: options.width ?? 1280, height: options.height ?? 800 } });
  const page = await context.newPage();
  page.setDefaultTimeout(10_000);
  return page;
}

/**
 * Logs the page in through the dashboard's login form with the admin token: opens `/login`,
 * fills the token form's field (`name=token`) and submits it; resolves
 * once the page has left `/login`.
 */
export async function logIn(page: Page, serverUrl: string, token = ADMIN_TOKEN): Promise<void> {
  await page.goto(`${serverUrl}/login`);
  const field = page.locator('form input[name="token"]').first();
  await field.fill(token);
  await Promise.all([
    page.waitForURL((url) => !url.pathname.startsWith('/login'), { timeout: 10_000 }),
    field.press('Enter'),
  ]);
}

/** Whether the element matching `selector` is (at least partly) inside the viewport. */
export async function inViewport(page: Page, selector: string): Promise<boolean> {
  return page.locator(selector).first().evaluate((el) => {
    const r = el.getBoundingClientRect();
    const win = globalThis as unknown as { innerWidth: number; innerHeight: number };
    return r.bottom > 0 && r.right > 0 && r.top < win.innerHeight && r.left < win.innerWidth && r.height > 0;
  });
}

export interface BrowserFixture {
  readonly browser: Browser;
  readonly server: ServerProcess;
  readonly repo: TestRepo;
  /** Commits a one-job pipeline and resolves with its run and job ids. */
  startJob(name: string, script: string): Promise<{ runId: number; jobId: number }>;
}

/**
 * For a browser suite: Chromium, a real server watching a real git repo, and one connected
 * agent, made in beforeAll and removed in afterAll. Read the fields inside tests.
 */
export function useBrowserFixture(agent: { capacity?: number } = {}): BrowserFixture {
  const made: { browser?: Browser; server?: ServerProcess; repo?: TestRepo } = {};
  beforeAll(async () => {
    await isolateGit();
    made.repo = await createRepo();
    [made.browser, made.server] = await Promise.all([launchBrowser(), startServer({ repos: { web: made.repo.path } })]);
    await startAgent(made.server, { name: 'browser-agent', ...(agent.capacity ? { capacity: agent.capacity } : {}) });
    await eventually(async () => (await made.server!.api('GET', '/api/agents')).body.some((a: { status: string }) => a.status === 'idle'), 15_000, 'an idle agent');
  });
  afterAll(async () => {
    await made.browser?.close();
    await killAll();
    await removeTempDirs();
  });
  return {
    get browser() { return made.browser!; },
    get server() { return made.server!; },
    get repo() { return made.repo!; },
    async startJob(name, script) {
      const sha = await made.repo!.commit({ 'pipeline.yml': `jobs:\n  ${name}:\n    steps:\n      - run: |\n${script.split('\n').map((l) => `          ${l}`).join('\n')}\n` });
      const run = await runOfCommit(made.server!, 'web', sha);
      return { runId: run.id, jobId: run.jobs[0].id };
    },
  };
}
