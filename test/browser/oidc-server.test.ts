// Single sign-on on a real `kiln server` process (private): kiln.yml's server.oidc names a real
// OpenID Connect provider on loopback; Chromium signs in through it, lands back logged in as a
// kiln user with the roles its groups map to, and the sign-in is in the audit log.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { createRepo, isolateGit, removeTempDirs } from '../helpers/git.js';
import { launchBrowser, newPage, skipBrowser } from '../helpers/browser.js';
import { freePort, killAll, startServer, type ServerProcess } from '../helpers/kiln.js';
import { startOidcProvider, type TestOidcProvider } from '../helpers/oidc-provider.js';

let server: ServerProcess;
let provider: TestOidcProvider;
let browser: Browser;

describe.skipIf(skipBrowser())('single sign-on on the server', () => {
  beforeAll(async () => {
    await isolateGit();
    const repo = await createRepo();
    await repo.commit({ 'pipeline.yml': 'jobs:\n  build:\n    steps: [{ run: echo hi }]\n' });
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    provider = await startOidcProvider({ redirectUri: `${url}/auth/oidc/callback`, accounts: { carol: { email: 'carol@example.com', name: 'Carol', groups: ['web-team'] } } });
    server = await startServer({
      port,
      env: { KILN_OIDC_CLIENT_SECRET: provider.clientSecret },
      config: [
        `repos:\n  - { name: web, path: ${JSON.stringify(repo.path)} }`, 'pools: []',
        'server:', '  private: true', `  url: ${url}`,
        '  oidc:', `    issuer: ${provider.issuer}`, '    client_id: kiln', '    admin_group: kiln-admins',
        '    roles: { web-team: { web: developer } }',
      ].join('\n'),
    });
    browser = await launchBrowser();
  });
  afterAll(async () => {
    await browser?.close();
    await killAll();
    await provider?.close();
    await removeTempDirs();
  });

  it('signs a person in through the identity provider as a kiln user with their groups\' roles', async () => {
    const page = await newPage(browser);
    await page.route((u) => u.hostname !== '127.0.0.1', (route) => route.abort());
    await page.goto(`${server.url}/repos/web`);
    await page.waitForURL(/\/login\?next=/); // a private server sends the anonymous to log in
    await page.getByRole('link', { name: 'Sign in with SSO' }).click();
    await page.locator('input[name="login"]').fill('carol');
    await page.locator('input[name="password"]').fill('any password');
    await page.getByRole('button', { name: 'Sign-in' }).click();
    await page.getByRole('button', { name: 'Continue' }).click();
    await page.waitForURL(`${server.url}/repos/web`);
    expect(await page.textContent('header')).toContain('carol');
    const me = await page.evaluate(async () => (await fetch('/api/me')).json());
    expect(me).toMatchObject({ kind: 'user', name: 'carol', via: 'session', admin: false, user: { source: 'oidc', roles: { web: 'developer' }, groups: ['web-team'] } });
    expect(await page.getByRole('button', { name: 'Run branch' }).count()).toBe(1); // a developer may run
    const audit = await server.api('GET', '/api/audit?action=login');
    expect(audit.body.entries[0]).toMatchObject({ actor: 'carol', action: 'login', target: 'user/carol', outcome: 'ok', detail: 'sso' });
    await page.context().close();
  });
});
