// A newcomer's first minutes in a real browser, against a real server with no repos: the empty
// home page says how to start; logged in, the Add repository form registers a git repo (a
// refused one shows why and keeps what was typed), and the new repo's page offers to build
// its current head, which runs on a real agent.
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchBrowser, logIn, newPage, skipBrowser } from '../helpers/browser.js';
import { createRepo, isolateGit, removeTempDirs, type TestRepo } from '../helpers/git.js';
import { killAll, runEnded, startAgent, startServer, type ServerProcess } from '../helpers/kiln.js';

describe.skipIf(skipBrowser())('getting started in the dashboard', () => {
  let browser: Browser;
  let server: ServerProcess;
  let repo: TestRepo;

  beforeAll(async () => {
    await isolateGit();
    repo = await createRepo();
    await repo.commit({ 'pipeline.yml': 'jobs:\n  hello:\n    steps: [{ run: echo "hello from the first build" }]\n' });
    [browser, server] = await Promise.all([launchBrowser(), startServer()]);
    await startAgent(server);
  });
  afterAll(async () => {
    await browser?.close();
    await killAll();
    await removeTempDirs();
  });

  it('the empty home page says how to start; the form adds a repo and its page builds the head', async () => {
    const page = await newPage(browser);
    await page.goto(`${server.url}/`);
    const empty = await page.locator('[data-empty-state]').innerText();
    expect(empty).toContain('No repos are registered yet');
    expect(empty).toContain('kiln repo add NAME PATH|URL');
    expect(await page.locator('[data-add-repo]').count()).toBe(0); // the form is for an admin session

    await logIn(page, server.url);
    await page.goto(`${server.url}/`);
    const form = page.locator('[data-add-repo] form');
    await form.locator('input[name=name]').fill('web');
    await form.locator('input[name=source]').fill('/no/such/folder');
    await form.getByRole('button', { name: 'Add repository' }).click();
    await page.waitForSelector('[data-add-repo-error]');
    expect(await page.locator('[data-add-repo-error]').innerText()).toMatch(/\/no\/such\/folder/);
    expect(await form.locator('input[name=name]').inputValue()).toBe('web');
    expect(await form.locator('input[name=source]').inputValue()).toBe('/no/such/folder');
    expect((await server.api('GET', '/api/repos')).body).toEqual([]);

    await form.locator('input[name=source]').fill(repo.path);
    await form.getByRole('button', { name: 'Add repository' }).click();
    await page.waitForURL(`${server.url}/repos/web?registered=1`);
    expect(await page.locator('[data-registered]').innerText()).toContain('web is registered');
    await page.getByRole('button', { name: 'Build the current head now' }).click();
    await page.waitForURL(/\/runs\/\d+$/);
    const runId = Number(/\/runs\/(\d+)$/.exec(page.url())![1]);
    const run = await runEnded(server, runId);
    expect(run).toMatchObject({ repo: 'web', status: 'success', sha: (await repo.git('rev-parse', 'HEAD')).trim() });
    await page.goto(`${server.url}/`);
    expect(await page.locator('[data-repo="web"]').count()).toBe(1);
    expect(await page.locator('[data-empty-state]').count()).toBe(0);
    await page.context().close();
  });
});
