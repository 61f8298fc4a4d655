// The cost view end to end: a real server whose `process` pool starts an agent for a waiting job
// (a cold start) and drains it after its idle timeout; `/api/usage/agents` and the Cost page in
// Chromium then show today's agent-minutes, busy and idle, the cold start, and the fixed pool.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { launchBrowser, newPage, skipBrowser } from '../helpers/browser.js';
import { createRepo, isolateGit, removeTempDirs, type TestRepo } from '../helpers/git.js';
import { eventually, freePort, killAll, killPoolAgents, runEnded, runOfCommit, startServer, type ServerProcess } from '../helpers/kiln.js';

interface Row { day: string; pool: string | null; agentMinutes: number; busyMinutes: number; idleMinutes: number; coldStarts: { count: number }; max: number; observedMinutes: number; fixedPoolMinutes: number; savedMinutes: number }

describe.skipIf(skipBrowser())('the cost view', () => {
  let browser!: Browser;
  let server!: ServerProcess;
  let repo!: TestRepo;
  beforeAll(async () => {
    await isolateGit();
    repo = await createRepo();
    const config = `repos:
  - { name: web, path: ${JSON.stringify(repo.path)} }
pools:
  - { name: local, provider: process, labels: [linux, local], max: 2, idle_timeout: 2s }
`;
    [browser, server] = await Promise.all([launchBrowser(), startServer({ port: await freePort(), config })]);
  });
  afterAll(async () => {
    await browser?.close();
    await killAll();
    if (server) killPoolAgents(server.dataDir);
    await removeTempDirs();
  });

  it('counts the pool agent that a waiting job started, and shows it on the Cost page', async () => {
    const sha = await repo.commit({ 'pipeline.yml': "jobs:\n  build:\n    steps: [{ run: 'sleep 1' }]\n" });
    const run = await runOfCommit(server, 'web', sha);
    expect((await runEnded(server, run.id)).status).toBe('success');
    await eventually(async () => (await server.api('GET', '/api/agents')).body.every((a: { status: string }) => a.status === 'offline'), 20_000, 'the pool agent gone');

    expect((await server.api('GET', '/api/usage/agents?days=1', undefined, null)).status).toBe(401); // for server admins, even on an open server
    const usage = (await server.api('GET', '/api/usage/agents?days=1')).body as { days: string[]; pools: Row[]; queueWait: Array<{ queueWait: { count: number } }> };
    const today = usage.pools.find((r) => r.pool === 'local')!;
    expect(today).toMatchObject({ day: usage.days[0], max: 2, coldStarts: { count: 1 } });
    expect(today.busyMinutes).toBeGreaterThan(0);
    expect(today.agentMinutes).toBeGreaterThanOrEqual(today.busyMinutes);
    expect(today.idleMinutes).toBeCloseTo(today.agentMinutes - today.busyMinutes, 1);
    expect(today.fixedPoolMinutes).toBeCloseTo(2 * today.observedMinutes, 1);
    expect(today.savedMinutes).toBeCloseTo(today.fixedPoolMinutes - today.agentMinutes, 1);
    expect(usage.queueWait.reduce((n, w) => n + w.queueWait.count, 0)).toBe(1);

    const page = await newPage(browser);
    await page.goto(`${server.url}/pools`); // an open server: the dashboard reads without a login
    await page.locator('main a', { hasText: 'Cost view' }).click();
    await page.waitForURL((url) => url.pathname === '/usage');
    expect(await page.locator('header.top nav a[aria-current="page"]').innerText()).toBe('Cost');
    const section = page.locator('section[data-pool="local"]');
    expect(await section.locator('h2').innerText()).toBe('local max 2');
    const cells = await section.locator(`tr[data-day="${today.day}"] td`).allInnerTexts();
    expect(cells.slice(0, 5)).toEqual([today.day, String(today.agentMinutes), String(today.busyMinutes), expect.stringMatching(new RegExp(`^${today.idleMinutes}`)), '1']);
    // Today's fixed pool grows with the clock: read a moment after the API, and saved = fixed − used.
    const [fixedMinutes, savedMinutes] = cells.slice(7).map(Number) as [number, number];
    expect(fixedMinutes).toBeGreaterThanOrEqual(today.fixedPoolMinutes);
    expect(savedMinutes).toBeCloseTo(fixedMinutes - today.agentMinutes, 1);
    // The fixed pool's mark sits above the bar: elasticity used less than max all day.
    const fixed = await section.locator(`g[data-day="${today.day}"] [data-series="fixed"]`).boundingBox();
    const idle = await section.locator(`g[data-day="${today.day}"] [data-series="idle"]`).boundingBox();
    expect(fixed!.y).toBeLessThan(idle!.y);
    await page.context().close();
  });
});
