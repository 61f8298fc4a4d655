// The Tokens page in Chromium on a real server process: a user signed in with a password makes
// a token (shown once, then only its name), the token works on the API within its scope, is
// revoked with one button and is refused at once; both changes are in the audit log by name.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { launchBrowser, logIn, newPage, skipBrowser } from '../helpers/browser.js';
import { createRepo, isolateGit, removeTempDirs } from '../helpers/git.js';
import { killAll, startServer, type ServerProcess } from '../helpers/kiln.js';

const PASSWORD = 'carol-password-1234';

describe.skipIf(skipBrowser())('the tokens page', () => {
  let browser!: Browser;
  let server!: ServerProcess;
  beforeAll(async () => {
    await isolateGit();
    const repo = await createRepo();
    await repo.commit({ 'pipeline.yml': 'jobs:\n  build:\n    steps: [{ run: echo hi }]\n' });
    const config = `repos:\n  - { name: web, path: ${JSON.stringify(repo.path)} }\npools: []\nserver:\n  private: true\n`;
    [browser, server] = await Promise.all([launchBrowser(), startServer({ config })]);
    expect((await server.api('POST', '/api/users', { name: 'carol', password: PASSWORD })).status).toBe(201);
    expect((await server.api('PUT', '/api/users/carol/roles/web', { role: 'developer' })).status).toBe(200);
  });
  afterAll(async () => {
    await browser?.close();
    await killAll();
    await removeTempDirs();
  });

  it('makes a token shown once, which works within its scope until it is revoked', async () => {
    const page = await newPage(browser);
    await page.goto(`${server.url}/login`);
    const login = page.locator('form[data-login="password"]');
    await login.locator('input[name=name]').fill('carol');
    await login.locator('input[name=password]').fill(PASSWORD);
    await Promise.all([page.waitForURL((url) => !url.pathname.startsWith('/login')), login.locator('input[name=password]').press('Enter')]);
    await page.locator('header.top a.whoami').click();
    await page.waitForURL(`${server.url}/tokens`);
    expect(await page.locator('[data-no-tokens]').count()).toBe(1);

    const form = page.locator('[data-token-form]');
    await form.locator('input[name=name]').fill('read-web');
    await form.locator('select[name=scope]').selectOption('read');
    await form.locator('input[name=repos]').fill('web');
    await form.locator('select[name=expires]').selectOption('30d');
    await Promise.all([page.waitForLoadState('load'), form.getByRole('button', { name: 'Make token' }).click()]);
    const secret = await page.locator('[data-token-secret]').innerText();
    expect(secret).toMatch(/^kiln_[A-Za-z0-9_-]{43}$/);
    const row = page.locator('tr[data-token="read-web"] td');
    expect((await row.allInnerTexts()).slice(0, 3)).toEqual(['read-web', 'read', 'web']);

    // Shown once: the page read again lists the token, never its secret.
    await page.goto(`${server.url}/tokens`);
    expect(await page.content()).not.toContain(secret);
    expect(await page.locator('tr[data-token="read-web"]').count()).toBe(1);

    // The token reads the repo, may not start a run (scope read), and is carol's.
    expect((await server.api('GET', '/api/repos/web/runs', undefined, secret)).status).toBe(200);
    expect((await server.api('POST', '/api/repos/web/runs', {}, secret)).status).toBe(403);
    expect((await server.api('GET', '/api/me', undefined, secret)).body).toMatchObject({ name: 'carol', token: { name: 'read-web', scope: 'read', repos: ['web'] } });

    // A bad name is one line on the page, and nothing is made.
    await form.locator('input[name=name]').fill('-bad');
    await form.locator('input[name=name]').evaluate((el) => el.removeAttribute('pattern'));
    await Promise.all([page.waitForLoadState('load'), form.getByRole('button', { name: 'Make token' }).click()]);
    expect(await page.locator('[data-token-error]').innerText()).toMatch(/a token name is 1 to 64 letters/);
    expect(await page.locator('table[data-tokens] tbody tr').count()).toBe(1);

    await Promise.all([page.waitForURL(`${server.url}/tokens`), page.locator('tr[data-token="read-web"]').getByRole('button', { name: 'Revoke' }).click()]);
    expect(await page.locator('[data-no-tokens]').count()).toBe(1);
    expect((await server.api('GET', '/api/repos/web/runs', undefined, secret)).status).toBe(401);

    const audit = (await server.api('GET', '/api/audit?actor=carol')).body.entries.map((e: Record<string, unknown>) => [e.action, e.target, e.outcome]);
    expect(audit).toEqual(expect.arrayContaining([
      ['token.revoke', 'user/carol/token/read-web', 'ok'],
      ['token.create', 'user/carol/token/read-web', 'ok'],
    ]));
    await page.context().close();
  });

  it('tells the admin token\'s session it has no tokens of its own, and sends a visitor to log in', async () => {
    const visitor = await fetch(`${server.url}/tokens`, { redirect: 'manual' });
    expect(visitor.status).toBe(303);
    expect(visitor.headers.get('location')).toBe('/login?next=%2Ftokens');
    const page = await newPage(browser);
    await logIn(page, server.url);
    const answer = await page.goto(`${server.url}/tokens`);
    expect(answer?.status()).toBe(403);
    expect(await page.locator('main').innerText()).toContain('sign in as a user');
    await page.context().close();
  });
});
