// The /audit page in Chromium on a real server process: a server admin's session sees the audit
// log newest first, 50 a page, filtered by action and time, with a one-line error for a bad
// filter; a visitor is sent to log in and a user who is no server admin is refused.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { launchBrowser, logIn, newPage, skipBrowser } from '../helpers/browser.js';
import { isolateGit, removeTempDirs } from '../helpers/git.js';
import { killAll, startServer, type ServerProcess } from '../helpers/kiln.js';

const PASSWORD = 'dev-password-1234';

describe.skipIf(skipBrowser())('the audit page', () => {
  let browser!: Browser;
  let server!: ServerProcess;
  beforeAll(async () => {
    await isolateGit();
    const config = 'repos: []\npools:\n  - { name: ci, provider: process, labels: [never-used], min: 0, max: 2 }\nserver:\n  lease_timeout: 5s\n';
    [browser, server] = await Promise.all([launchBrowser(), startServer({ config })]);
    expect((await server.api('POST', '/api/users', { name: 'dev', password: PASSWORD })).status).toBe(201);
    // 60 refused triggers (no such repo), newest last.
    for (let i = 0; i < 60; i++) expect((await server.api('POST', `/api/repos/r${i}/runs`, {})).status).toBe(404);
  });
  afterAll(async () => {
    await browser?.close();
    await killAll();
    await removeTempDirs();
  });

  const cells = (page: Page, n: number) => page.locator('table[data-audit] tbody tr').nth(n).locator('td').allInnerTexts();

  it('sends a visitor to log in, and refuses a user who is no server admin', async () => {
    const visitor = await fetch(`${server.url}/audit?action=pool.change`, { redirect: 'manual' });
    expect(visitor.status).toBe(303);
    expect(visitor.headers.get('location')).toBe('/login?next=%2Faudit%3Faction%3Dpool.change');

    const page = await newPage(browser);
    await page.goto(`${server.url}/login`);
    const form = page.locator('form[data-login="password"]');
    await form.locator('input[name=name]').fill('dev');
    await form.locator('input[name=password]').fill(PASSWORD);
    await Promise.all([page.waitForURL((url) => !url.pathname.startsWith('/login')), form.locator('input[name=password]').press('Enter')]);
    expect(await page.locator('header.top nav a', { hasText: 'Audit' }).count()).toBe(0);
    const refused = await page.goto(`${server.url}/audit`);
    expect(refused?.status()).toBe(403);
    expect(await page.locator('main').innerText()).toContain('The audit log is for a server admin.');
    await page.context().close();
  });

  it('shows a server admin the log newest first, paged, and filtered', async () => {
    const page = await newPage(browser);
    await logIn(page, server.url);
    await page.locator('header.top nav a', { hasText: 'Audit' }).click();
    await page.waitForURL(`${server.url}/audit`);
    const rows = page.locator('table[data-audit] tbody tr');
    expect(await rows.count()).toBe(50);
    // Newest first: this session's login, the other session's login, then the triggers from r59 down.
    expect(await rows.nth(0).getAttribute('data-action')).toBe('login');
    const trigger = await cells(page, 2);
    expect(trigger.slice(1)).toEqual(['admin token', '127.0.0.1', 'run.trigger', 'repo/r59', 'failed (404)', 'no repo named r59']);
    await page.locator('[data-audit-older]').click();
    await page.waitForSelector('[data-audit-newest]');
    // The rest: r11…r0, the user's creation, the pool kiln.yml added at the start.
    expect(await rows.count()).toBe(14);
    expect((await cells(page, 13)).slice(1)).toEqual(['kiln.yml', 'local', 'pool.change', 'pool/ci', 'ok', 'added (process, min 0, max 2)']);
    expect(await page.locator('[data-audit-older]').count()).toBe(0);

    const filters = page.locator('[data-audit-filters]');
    await filters.locator('input[name=action]').fill('pool.change');
    await filters.locator('input[name=since]').fill('1h');
    await Promise.all([page.waitForURL(/action=pool.change/), filters.getByRole('button', { name: 'Filter' }).click()]);
    expect(await rows.count()).toBe(1);
    expect(await filters.locator('input[name=action]').inputValue()).toBe('pool.change');
    await filters.locator('input[name=since]').fill('yesterday');
    await Promise.all([page.waitForURL(/since=yesterday/), filters.getByRole('button', { name: 'Filter' }).click()]);
    expect(await page.locator('[data-audit-error]').innerText()).toBe('since must be an ISO time or a duration like 24h');
    await page.context().close();
  });
});
