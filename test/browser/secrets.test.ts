// The write-only secrets page in a real browser, against a real server: an admin session sets
// a repo's secret from the form (a refused value says why and keeps the name, never the
// value), sees its name and scopes but never its value, and deletes it; a visitor is sent to
// log in, and the server's own secrets have the same page at /secrets.
import { describe, expect, it } from 'vitest';
import { logIn, newPage, skipBrowser, useBrowserFixture } from '../helpers/browser.js';

describe.skipIf(skipBrowser())('the secrets page', () => {
  const fx = useBrowserFixture();

  it('sets, lists without values, refuses a short value with the reason, and deletes', async () => {
    const visitor = await fetch(`${fx.server.url}/repos/web/secrets`, { redirect: 'manual' });
    expect(visitor.status).toBe(303);
    expect(visitor.headers.get('location')).toBe('/login?next=%2Frepos%2Fweb%2Fsecrets');

    const page = await newPage(fx.browser);
    await logIn(page, fx.server.url);
    await page.goto(`${fx.server.url}/repos/web`);
    await page.locator('[data-secrets] summary').click();
    await page.locator('[data-manage-secrets]').click();
    await page.waitForURL(`${fx.server.url}/repos/web/secrets`);
    expect(await page.locator('[data-no-secrets]').count()).toBe(1);

    const form = page.locator('[data-secret-form]');
    await form.locator('input[name=name]').fill('DEPLOY_KEY');
    await form.locator('input[name=value]').fill('abc');
    await form.locator('input[name=branches]').fill('main, release/*');
    await form.getByRole('button', { name: 'Set secret' }).click();
    await page.waitForSelector('[data-secret-error]');
    expect(await page.locator('[data-secret-error]').innerText()).toMatch(/at least 6 characters/);
    expect(await form.locator('input[name=name]').inputValue()).toBe('DEPLOY_KEY');
    expect(await form.locator('input[name=branches]').inputValue()).toBe('main, release/*');
    expect(await form.locator('input[name=value]').inputValue()).toBe('');
    expect(page.url()).not.toContain('abc');
    expect((await fx.server.api('GET', '/api/repos/web/secrets')).body).toEqual([]);

    await form.locator('input[name=value]').fill('s3cr3t-deploy-value');
    await form.getByRole('button', { name: 'Set secret' }).click();
    await page.waitForSelector('tr[data-secret="DEPLOY_KEY"]');
    const row = await page.locator('tr[data-secret="DEPLOY_KEY"]').innerText();
    expect(row).toContain('main, release/*');
    expect(await page.content()).not.toContain('s3cr3t-deploy-value');
    expect((await fx.server.api('GET', '/api/repos/web/secrets/DEPLOY_KEY')).body).toMatchObject({ name: 'DEPLOY_KEY', branches: ['main', 'release/*'], events: null });

    await page.locator('tr[data-secret="DEPLOY_KEY"]').getByRole('button', { name: 'Delete' }).click();
    await page.waitForSelector('[data-no-secrets]');
    expect((await fx.server.api('GET', '/api/repos/web/secrets')).body).toEqual([]);

    // The server's secrets: the same page at /secrets, shown as inherited on the repo's.
    await page.goto(`${fx.server.url}/secrets`);
    await form.locator('input[name=name]').fill('NPM_TOKEN');
    await form.locator('input[name=value]').fill('npm-token-value-123');
    await form.locator('input[name=events]').fill('push');
    await form.getByRole('button', { name: 'Set secret' }).click();
    await page.waitForSelector('tr[data-secret="NPM_TOKEN"]');
    expect((await fx.server.api('GET', '/api/secrets')).body).toEqual([expect.objectContaining({ name: 'NPM_TOKEN', level: 'server', events: ['push'] })]);
    await page.goto(`${fx.server.url}/repos/web/secrets`);
    expect(await page.locator('tr[data-secret="server:NPM_TOKEN"]').count()).toBe(1);
    expect(await page.content()).not.toContain('npm-token-value-123');
    await page.context().close();
  });
});
