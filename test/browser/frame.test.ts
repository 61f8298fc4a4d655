// The dashboard's frame in a real browser: an unknown path is a 404 page inside the layout, the
// pages carry a favicon, and while the server is unreachable a banner says "disconnected,
// reconnecting…"; once the server is back the banner goes and the page fetches itself again.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { launchBrowser, newPage, skipBrowser } from '../helpers/browser.js';
import { createRepo, isolateGit, removeTempDirs, type TestRepo } from '../helpers/git.js';
import { killAll, startServer, type ServerProcess } from '../helpers/kiln.js';

describe.skipIf(skipBrowser())('the dashboard frame', () => {
  let browser!: Browser;
  let server!: ServerProcess;
  let repo!: TestRepo;
  beforeAll(async () => {
    await isolateGit();
    repo = await createRepo();
    [browser, server] = await Promise.all([launchBrowser(), startServer({ repos: { web: repo.path } })]);
  });
  afterAll(async () => {
    await browser?.close();
    await killAll();
    await removeTempDirs();
  });

  it('answers an unknown page with "Not found" inside the layout, and has a favicon', async () => {
    const page = await newPage(browser);
    const response = await page.goto(`${server.url}/no/such/page`);
    expect(response?.status()).toBe(404);
    expect(await page.locator('header.top nav a', { hasText: 'Queue' }).count()).toBe(1);
    expect(await page.locator('main h1').innerText()).toBe('Not found');
    expect(await page.locator('main').innerText()).toContain('/no/such/page');
    const icon = await page.locator('link[rel="icon"]').getAttribute('href');
    const fetched = await page.request.get(`${server.url}${icon}`);
    expect(fetched.status()).toBe(200);
    expect(fetched.headers()['content-type']).toContain('image/svg+xml');
    expect((await page.request.get(`${server.url}/favicon.ico`)).status()).toBe(200);
    const api = await page.request.get(`${server.url}/api/no-such-thing`);
    expect([api.status(), (await api.json()).error]).toEqual([404, 'no route GET /api/no-such-thing']);
    await page.context().close();
  });

  it('shows "disconnected, reconnecting…" while the server is down, and catches up when it is back', async () => {
    const page = await newPage(browser);
    const errors: string[] = [];
    page.on('pageerror', (error) => errors.push(error.message));
    const socket = page.waitForEvent('websocket');
    await page.goto(`${server.url}/`);
    // The page is connected once an event reaches it: a pushed commit's run sends some.
    const ws = await socket;
    const heard = ws.waitForEvent('framereceived', { timeout: 10_000 });
    await repo.commit({ 'pipeline.yml': 'jobs:\n  waits:\n    steps:\n      - run: true\n' });
    await heard;
    const banner = page.locator('[data-disconnected]');
    expect(await banner.isHidden()).toBe(true);
    await page.locator('main h1').evaluate((el) => el.setAttribute('data-before-outage', ''));

    const { port, dataDir } = server;
    await server.kill();
    await expect.poll(() => banner.isVisible(), { timeout: 10_000 }).toBe(true);
    expect(await banner.innerText()).toBe('disconnected, reconnecting…');

    server = await startServer({ port, dataDir, repos: { web: repo.path } });
    await expect.poll(() => banner.isHidden(), { timeout: 15_000 }).toBe(true);
    // Caught up: <main> was fetched again (the mark set before the outage is gone).
    await expect.poll(() => page.locator('main [data-before-outage]').count(), { timeout: 5_000 }).toBe(0);
    expect(await page.locator('main h1').count()).toBe(1);
    expect(errors).toEqual([]);
    await page.context().close();
  });
});
