// Single sign-on end to end: a real OpenID Connect provider (oidc-provider) on loopback, kiln's
// /auth/oidc routes and the dashboard's login page on a real HTTP server, and Chromium clicking
// through; the sign-in's far side is kiln's own (server/access/sso.ts): a user in a real SQLite
// store, with roles from the groups, and a session cookie that the next page is read with.
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import { serve, type ServerType } from '@hono/node-server';
import { Hono } from 'hono';
import pino from 'pino';
import type { Browser, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createSsoSignIn } from '../../server/access/sso.js';
import { createDashboardAuth } from '../../server/dashboard/auth.js';
import type { Store } from '../../server/store/index.js';
import { testAccess } from '../helpers/access.js';
import { tempStore } from '../server/store/fixtures.js';
import { createRender } from '../../server/dashboard/render.js';
import { createAuthRoutes } from '../../server/dashboard/routes/auth.js';
import { createOidcRoutes, type OidcConfig, type OidcIdentity, type OidcRoutes } from '../../server/oidc/index.js';
import { launchBrowser, newPage, skipBrowser } from '../helpers/browser.js';
import { eventually } from '../helpers/kiln.js';
import { freePort, startOidcProvider, type TestAccount, type TestOidcProvider } from '../helpers/oidc-provider.js';

const ACCOUNTS: Record<string, TestAccount> = {
  alice: { email: 'alice@example.com', name: 'Alice Admin', groups: ['kiln-admins', 'web-team'] },
  bob: { email: 'bob@example.com', name: 'Bob', groups: ['docs-team'] },
};
const ROLES: OidcConfig['roles'] = { 'web-team': { web: 'developer' }, 'docs-team': { docs: 'maintainer', '*': 'viewer' } };

interface Kiln {
  url: string;
  callbackUrl: string;
  oidc: OidcRoutes;
  signIns: Array<{ identity: OidcIdentity; next: string }>;
  logged: Array<{ msg: string; [key: string]: unknown }>;
  /** Added to the module's clock (pending sign-ins expire by it). */
  skewMs: number;
  retries: Array<{ run: () => void; delayMs: number }>;
  app: Hono;
  /** While true, callbacks stop before the module and their URLs are kept (to replay them elsewhere). */
  holdCallbacks: boolean;
  held: string[];
  store: Store;
}

const closers: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close();
});

/** Listens first (the callback URL needs the port), then builds the app once the issuer is known. */
async function listenKiln(): Promise<{ url: string; mount(app: Hono): void }> {
  let app: Hono | null = null;
  const server: ServerType = serve({ fetch: (req) => (app ? app.fetch(req) : new Response('starting', { status: 503 })), hostname: '127.0.0.1', port: 0 });
  await new Promise((resolve) => server.once('listening', resolve));
  closers.push(() => new Promise<void>((resolve) => server.close(() => resolve())));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, mount: (built) => void (app = built) };
}

function buildKiln(url: string, issuer: string, clientSecret: string): Kiln {
  const kiln: Kiln = { url, callbackUrl: `${url}/auth/oidc/callback`, signIns: [], logged: [], skewMs: 0, retries: [], oidc: null!, app: new Hono(), holdCallbacks: false, held: [], store: tempStore().store };
  const logger = pino({ level: 'info' }, new Writable({ write: (line, _enc, done) => void (kiln.logged.push(JSON.parse(String(line))), done()) }));
  const config: OidcConfig = {
    issuer, clientId: 'kiln', clientSecret, callbackUrl: kiln.callbackUrl, adminGroup: 'kiln-admins', groupsClaim: 'groups', roles: ROLES,
    scopes: ['openid', 'email', 'profile', 'groups'],
  };
  const access = testAccess(kiln.store, { private: false });
  const auth = createDashboardAuth({ access, sessions: access.sessions });
  const signIn = createSsoSignIn({ store: kiln.store, sessions: access.sessions, access, refuse: (c, message) => c.text(message, 403) });
  const render = createRender(auth.viewerOf);
  kiln.oidc = createOidcRoutes({
    config, logger, render,
    now: () => Date.now() + kiln.skewMs,
    schedule: (run, delayMs) => {
      kiln.retries.push({ run, delayMs });
      return () => {};
    },
    signIn(c, identity, next) {
      kiln.signIns.push({ identity, next });
      return signIn(c, identity, next);
    },
  });
  closers.push(() => kiln.oidc.stop());
  const { app } = kiln;
  app.use('/auth/oidc/callback', async (c, next) => {
    if (!kiln.holdCallbacks) return next();
    kiln.held.push(c.req.url);
    return c.text('held');
  });
  app.route('/', kiln.oidc.app);
  app.route('/', createAuthRoutes({ auth, render, logger, sso: () => (kiln.oidc.available() ? 'available' : 'unavailable') }));
  app.get('/repos/:name', (c) => c.text(`signed in as ${access.principalOf(c).user?.name ?? 'nobody'}`));
  return kiln;
}

/** kiln and a provider that knows its callback, discovery done. */
async function startBoth(): Promise<{ kiln: Kiln; provider: TestOidcProvider }> {
  const listening = await listenKiln();
  const provider = await startOidcProvider({ redirectUri: `${listening.url}/auth/oidc/callback`, accounts: ACCOUNTS });
  closers.push(() => provider.close());
  const kiln = buildKiln(listening.url, provider.issuer, provider.clientSecret);
  listening.mount(kiln.app);
  expect(await kiln.oidc.start()).toBe(true);
  return { kiln, provider };
}

describe.skipIf(skipBrowser())('single sign-on through OpenID Connect', () => {
  let browser: Browser;
  beforeAll(async () => {
    browser = await launchBrowser();
  });
  afterAll(async () => {
    await browser?.close();
  });

  async function loopbackPage(): Promise<Page> {
    const page = await newPage(browser);
    closers.push(() => page.context().close());
    // The provider's pages load a web font: nothing leaves the machine.
    await page.route((url) => url.hostname !== '127.0.0.1', (route) => route.abort());
    return page;
  }

  /** From kiln's login page through the provider's login and consent forms. */
  async function signInAtProvider(page: Page, kiln: Kiln, login: string, next = '/repos/web'): Promise<void> {
    await page.goto(`${kiln.url}/login?next=${encodeURIComponent(next)}`);
    await page.getByRole('link', { name: 'Sign in with SSO' }).click();
    await page.locator('input[name="login"]').fill(login);
    await page.locator('input[name="password"]').fill('any password');
    await page.getByRole('button', { name: 'Sign-in' }).click();
    await page.getByRole('button', { name: 'Continue' }).click();
  }

  it('signs in with the identity the provider vouches for: admin from admin_group, repo roles from the groups', async () => {
    const { kiln, provider } = await startBoth();
    const page = await loopbackPage();
    const callbacks: string[] = [];
    page.on('request', (request) => void (request.url().startsWith(kiln.callbackUrl) && callbacks.push(request.url())));
    await signInAtProvider(page, kiln, 'alice');
    await page.waitForURL(`${kiln.url}/repos/web`);
    expect(await page.textContent('body')).toBe('signed in as alice');
    expect(kiln.signIns).toEqual([{
      identity: {
        issuer: provider.issuer, subject: 'alice', email: 'alice@example.com', name: 'Alice Admin',
        groups: ['kiln-admins', 'web-team'], admin: true, repoRoles: { web: 'developer' },
      },
      next: '/repos/web',
    }]);
    expect(kiln.logged.some((l) => l.msg === 'oidc sign-in' && l.subject === 'alice')).toBe(true);
    // A kiln user, found again by issuer and subject at the next sign-in, with the groups' roles.
    expect(kiln.store.users.getUserByName('alice')).toMatchObject({ source: 'oidc', admin: true, groups: ['kiln-admins', 'web-team'], roles: { web: 'developer' }, hasPassword: false });

    // The same callback URL again (a replayed code) is refused with a page that says why.
    expect(callbacks).toHaveLength(1);
    const again = await page.goto(callbacks[0]!);
    expect(again?.status()).toBe(400);
    expect(await page.textContent('main')).toContain('This sign-in is unknown or was already used.');
    expect(kiln.signIns).toHaveLength(1);
  });

  it('maps a member of no admin group to its repo roles only, and sends an unsafe next home', async () => {
    const { kiln } = await startBoth();
    const page = await loopbackPage();
    await signInAtProvider(page, kiln, 'bob', '//evil.example/');
    await page.waitForURL(`${kiln.url}/`);
    expect(kiln.signIns[0]).toMatchObject({ identity: { subject: 'bob', admin: false, groups: ['docs-team'], repoRoles: { docs: 'maintainer', '*': 'viewer' } }, next: '/' });
  });

  it('refuses a forged state, and signs nobody in', async () => {
    const { kiln } = await startBoth();
    const page = await loopbackPage();
    kiln.holdCallbacks = true;
    await signInAtProvider(page, kiln, 'alice');
    const callback = new URL(await eventually(() => kiln.held[0], 10_000, 'the callback'));
    kiln.holdCallbacks = false;
    callback.searchParams.set('state', 'forged-state');
    const refused = await page.goto(callback.href);
    expect(refused?.status()).toBe(400);
    expect(await page.textContent('main')).toContain('This sign-in is unknown or was already used.');
    expect(kiln.signIns).toEqual([]);
    expect(kiln.logged.some((l) => l.msg === 'oidc sign-in refused' && l.reason === 'state_unknown')).toBe(true);
  });

  it('refuses a callback opened in another browser, which leaves the sign-in of the browser that started it intact', async () => {
    const { kiln } = await startBoth();
    const page = await loopbackPage();
    kiln.holdCallbacks = true;
    await signInAtProvider(page, kiln, 'alice');
    const callback = await eventually(() => kiln.held[0], 10_000, 'the callback');
    kiln.holdCallbacks = false;

    const other = await loopbackPage();
    const refused = await other.goto(callback);
    expect(refused?.status()).toBe(400);
    expect(await other.textContent('main')).toContain('This sign-in was started in another browser.');
    expect(kiln.signIns).toEqual([]);

    await page.goto(callback);
    expect(await page.textContent('body')).toBe('signed in as alice');
    expect(kiln.signIns).toHaveLength(1);
  });

  it('refuses a sign-in that took over ten minutes', async () => {
    const { kiln } = await startBoth();
    const page = await loopbackPage();
    await page.goto(`${kiln.url}/login?next=/repos/web`);
    await page.getByRole('link', { name: 'Sign in with SSO' }).click();
    await page.locator('input[name="login"]').fill('alice');
    kiln.skewMs = 11 * 60_000;
    await page.locator('input[name="password"]').fill('x');
    await page.getByRole('button', { name: 'Sign-in' }).click();
    await page.getByRole('button', { name: 'Continue' }).click();
    await page.waitForURL((url) => url.pathname === '/auth/oidc/callback');
    expect(await page.textContent('main')).toContain('This sign-in took too long');
    expect(kiln.signIns).toEqual([]);
  });

  it('shows the provider\'s refusal when the person cancels at the provider', async () => {
    const { kiln } = await startBoth();
    const page = await loopbackPage();
    await page.goto(`${kiln.url}/login`);
    await page.getByRole('link', { name: 'Sign in with SSO' }).click();
    await page.getByRole('link', { name: '[ Cancel ]' }).click();
    await page.waitForURL((url) => url.pathname === '/auth/oidc/callback');
    expect(await page.textContent('main')).toContain('The identity provider refused the sign-in: access_denied');
    expect(kiln.signIns).toEqual([]);
  });

  it('starts without an unreachable issuer, says SSO is unavailable, and offers it once the issuer answers', async () => {
    const listening = await listenKiln();
    const port = await freePort();
    const kiln = buildKiln(listening.url, `http://127.0.0.1:${port}`, 'kiln-test-client-secret');
    listening.mount(kiln.app);
    expect(await kiln.oidc.start()).toBe(false);
    const down = kiln.logged.find((l) => l.msg === 'oidc issuer unreachable, single sign-on unavailable until it answers');
    expect(down).toMatchObject({ issuer: `http://127.0.0.1:${port}`, retryInMs: 1000 });
    expect(kiln.retries.map((r) => r.delayMs)).toEqual([1000]);

    const page = await loopbackPage();
    await page.goto(`${kiln.url}/login`);
    expect(await page.textContent('main')).toContain('Single sign-on is unavailable');
    expect(await page.getByRole('link', { name: 'Sign in with SSO' }).count()).toBe(0);
    const direct = await page.goto(`${kiln.url}/auth/oidc/login`);
    expect(direct?.status()).toBe(503);

    kiln.retries[0]!.run(); // still down: the next wait is longer
    await eventually(() => kiln.retries.length === 2, 10_000, 'a second retry');
    expect(kiln.retries[1]!.delayMs).toBe(2000);

    const provider = await startOidcProvider({ redirectUri: kiln.callbackUrl, accounts: ACCOUNTS, port });
    closers.push(() => provider.close());
    kiln.retries[1]!.run();
    await eventually(() => kiln.oidc.available(), 10_000, 'discovery');
    await signInAtProvider(page, kiln, 'alice');
    await page.waitForURL(`${kiln.url}/repos/web`);
    expect(kiln.signIns[0]?.identity).toMatchObject({ subject: 'alice', admin: true });
  });
});
