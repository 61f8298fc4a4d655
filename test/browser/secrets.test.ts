// The secrets page in a real browser (admins): set a repo secret and a server secret from its
// forms, see names, scopes and updated time but never a value, and delete them; a visitor is
// sent to log in.
import { describe, expect, it } from 'vitest';
import { logIn, newPage, skipBrowser, useBrowserFixture } from '../helpers/browser.js';

describe.skipIf(skipBrowser())('the secrets page', () => {
  const fx = useBrowserFixture();

  it('sets and deletes repo and server secrets, showing names and scopes, never values', async () => {
    const visitor = await newPage(fx.browser);
    await visitor.goto(`${fx.server.url}/repos/web/secrets`);
    expect(new URL(visitor.url()).pathname).toBe('/login');
    await visitor.context().close();

    const page = await newPage(fx.browser);
    await logIn(page, fx.server.url);
    await page.goto(`${fx.server.url}/repos/web`);
    await page.locator('[data-manage-secrets]').click();
    await page.waitForURL(`${fx.server.url}/repos/web/secrets`);

    const repoForm = page.locator('form[data-set-secret="repo"]');
    await repoForm.locator('input[name="name"]').fill('DEPLOY_KEY');
    await repoForm.locator('input[name="value"]').fill('hunter2-value');
    await repoForm.locator('input[name="branches"]').fill('main, release');
    await repoForm.locator('input[name="events"]').fill('push');
    await repoForm.getByRole('button', { name: 'Set repo secret' }).click();
    await page.waitForURL(`${fx.server.url}/repos/web/secrets`);
    const row = page.locator('tr[data-secret="repo:DEPLOY_KEY"]');
    expect(await row.innerText()).toMatch(/DEPLOY_KEY\s+main, release\s+push\s+any\s+.*(just now|s ago)/);

    const serverForm = page.locator('form[data-set-secret="server"]');
    await serverForm.locator('input[name="name"]').fill('NPM_TOKEN');
    await serverForm.locator('input[name="value"]').fill('npm-secret-value');
    await serverForm.getByRole('button', { name: 'Set server secret' }).click();
    await page.waitForURL(`${fx.server.url}/repos/web/secrets`);
    expect(await page.locator('tr[data-secret="server:NPM_TOKEN"]').count()).toBe(1);
    const html = await page.content();
    expect(html).not.toContain('hunter2-value');
    expect(html).not.toContain('npm-secret-value');
    expect((await fx.server.api('GET', '/api/secrets')).body.map((s: { name: string }) => s.name)).toContain('NPM_TOKEN');

    await serverForm.locator('input[name="name"]').fill('bad name');
    await serverForm.locator('input[name="name"]').evaluate((el) => el.removeAttribute('pattern'));
    await serverForm.locator('input[name="value"]').fill('x');
    await serverForm.getByRole('button', { name: 'Set server secret' }).click();
    await page.waitForURL(/\/repos\/web\/secrets\?error=/);
    expect(await page.locator('.error-box').innerText()).toBe('a secret name is letters, digits and _');

    await row.getByRole('button', { name: 'Delete' }).click();
    await page.waitForURL(`${fx.server.url}/repos/web/secrets`);
    expect(await page.locator('tr[data-secret="repo:DEPLOY_KEY"]').count()).toBe(0);
    await page.locator('tr[data-secret="server:NPM_TOKEN"]').getByRole('button', { name: 'Delete' }).click();
    await page.waitForURL(`${fx.server.url}/repos/web/secrets`);
    expect(await page.locator('tr[data-secret="server:NPM_TOKEN"]').count()).toBe(0);
    expect((await fx.server.api('GET', '/api/secrets')).body).toEqual([]);
    await page.context().close();
  });
});
