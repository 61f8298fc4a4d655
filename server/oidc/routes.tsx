// `/auth/oidc/login` and `/auth/oidc/callback`: the authorization-code flow with PKCE, state and
// nonce. What a good callback proves is handed to the caller's `signIn`; this module keeps no
// sessions and knows nothing of users.
//
//   browser ── GET /auth/oidc/login?next=/x ──► pending{state, nonce, verifier} + cookie ──► 302 issuer
//   issuer  ── 302 /auth/oidc/callback?code&state ──► take(state, cookie) ──► token + userinfo
//           ──► identityFromClaims ──► signIn(c, identity, next)
import type { Context } from 'hono';
import { Hono } from 'hono';
import { getCookie, setCookie } from 'hono/cookie';
import { raw } from 'hono/html';
import type { Child } from 'hono/jsx';
import * as client from 'openid-client';
import type { Logger } from 'pino';
import { createOidcDiscovery, describe, type Schedule } from './discovery.js';
import { identityFromClaims, type OidcConfig, type OidcIdentity } from './identity.js';
import { createPendingSignIns, randomToken } from './pending.js';

export const OIDC_COOKIE = 'kiln_oidc';
const PENDING_TTL_MS = 10 * 60 * 1000;
const PENDING_MAX = 1000;

/** An answer page: the dashboard's render draws it in its frame; by default a bare page. */
export interface OidcPage {
  title: string;
  status: 400 | 503;
  body: Child;
}

export interface OidcRoutesOptions {
  config: OidcConfig;
  logger: Logger;
  now?: () => number;
  /** The far side of the seam: makes the session for `identity` and answers (usually a redirect to `next`, a path on this site). */
  signIn(c: Context, identity: OidcIdentity, next: string): Response | Promise<Response>;
  render?: (c: Context, page: OidcPage) => Response | Promise<Response>;
  /** Told of every refused sign-in (for the audit log), after the refusal is logged. */
  onRefused?: (c: Context, reason: string) => void;
  /** How discovery retries are timed (tests fire them by hand). */
  schedule?: Schedule;
}

/** The routes (mount at the root), whether SSO is available now, and the discovery service. */
export interface OidcRoutes {
  app: Hono;
  /** True once the issuer has answered discovery: the login page shows "Sign in with SSO". */
  available(): boolean;
  /** The first discovery attempt; never throws (an unreachable issuer is retried in the background). */
  start(): Promise<boolean>;
  stop(): void;
}

export function createOidcRoutes(options: OidcRoutesOptions): OidcRoutes {
  const { config, signIn, now = Date.now } = options;
  const logger = options.logger.child({ component: 'oidc' });
  const render = options.render ?? barePage;
  const discovery = createOidcDiscovery({ config, logger, ...(options.schedule ? { schedule: options.schedule } : {}) });
  const pending = createPendingSignIns({ now, ttlMs: PENDING_TTL_MS, max: PENDING_MAX });
  const secure = new URL(config.callbackUrl).protocol === 'https:';

  const refuse = (c: Context, reason: string, message: string, detail: Record<string, unknown> = {}) => {
    logger.info({ reason, ...detail }, 'oidc sign-in refused');
    options.onRefused?.(c, reason);
    return render(c, problemPage(400, 'Sign-in failed', message));
  };
  const unavailable = (c: Context) =>
    render(c, problemPage(503, 'Single sign-on unavailable', `Single sign-on is unavailable: the identity provider (${config.issuer}) does not answer. Log in another way, or try again later.`));

  const app = new Hono();
  // Open to anyone: this is how a person without a session gets one.
  app.get('/auth/oidc/login', async (c) => {
    const found = discovery.current();
    if (!found) return unavailable(c);
    const codeVerifier = client.randomPKCECodeVerifier();
    const known = getCookie(c, OIDC_COOKIE);
    const binding = known && /^[\w-]{43}$/.test(known) ? known : randomToken();
    const entry = pending.add({ state: client.randomState(), nonce: client.randomNonce(), codeVerifier, binding, next: localPath(c.req.query('next')) });
    setCookie(c, OIDC_COOKIE, binding, { httpOnly: true, sameSite: 'Lax', path: '/auth/oidc', secure, maxAge: PENDING_TTL_MS / 1000 });
    const to = client.buildAuthorizationUrl(found, {
      redirect_uri: config.callbackUrl,
      scope: config.scopes.join(' '),
      code_challenge: await client.calculatePKCECodeChallenge(codeVerifier),
      code_challenge_method: 'S256',
      state: entry.state,
      nonce: entry.nonce,
    });
    return c.redirect(to.href, 302);
  });

  // Open to anyone, and proves itself: the state must be one this browser started, once.
  app.get('/auth/oidc/callback', async (c) => {
    const found = discovery.current();
    if (!found) return unavailable(c);
    const state = c.req.query('state');
    if (!state) return refuse(c, 'no_state', 'The identity provider\'s answer carries no state. Start again from the login page.');
    const taken = pending.take(state, getCookie(c, OIDC_COOKIE));
    if (!taken.ok) {
      const why = {
        unknown: 'This sign-in is unknown or was already used. Start again from the login page.',
        expired: 'This sign-in took too long (over 10 minutes). Start again from the login page.',
        other_browser: 'This sign-in was started in another browser. Start again from the login page.',
      }[taken.reason];
      return refuse(c, `state_${taken.reason}`, why);
    }
    const error = c.req.query('error');
    if (error) {
      const description = c.req.query('error_description');
      return refuse(c, 'provider_error', `The identity provider refused the sign-in: ${error}${description ? ` (${description})` : ''}.`, { error });
    }
    let identity: OidcIdentity;
    try {
      const answer = new URL(config.callbackUrl);
      answer.search = new URL(c.req.url).search;
      const tokens = await client.authorizationCodeGrant(found, answer, {
        pkceCodeVerifier: taken.pending.codeVerifier,
        expectedState: taken.pending.state,
        expectedNonce: taken.pending.nonce,
        idTokenExpected: true,
      });
      const claims = tokens.claims()!;
      identity = identityFromClaims({ ...(await userInfo(found, tokens.access_token, claims.sub)), iss: claims.iss, sub: claims.sub, ...withoutNulls(claims) }, config);
    } catch (err) {
      return refuse(c, 'bad_answer', `The identity provider's answer did not check out (${describe(err)}). Start again from the login page.`, { err: describe(err) });
    }
    logger.info({ subject: identity.subject, email: identity.email, admin: identity.admin }, 'oidc sign-in');
    return signIn(c, identity, taken.pending.next);
  });

  /** The claims of the userinfo endpoint (many providers put groups only there); {} without one. */
  async function userInfo(found: client.Configuration, accessToken: string, subject: string): Promise<Record<string, unknown>> {
    if (!found.serverMetadata().userinfo_endpoint) return {};
    try {
      return await client.fetchUserInfo(found, accessToken, subject);
    } catch (err) {
      logger.warn({ err: describe(err) }, 'oidc userinfo failed, using the id token claims alone');
      return {};
    }
  }

  return {
    app,
    available: () => discovery.current() !== null,
    start: () => discovery.start(),
    stop: () => discovery.stop(),
  };
}

/** `next` when it is a path on this site, else "/" (no open redirects). */
const localPath = (next: string | undefined): string => (next !== undefined && /^\/(?![/\\])/.test(next) ? next : '/');

const withoutNulls = (claims: Record<string, unknown>) => Object.fromEntries(Object.entries(claims).filter(([, v]) => v !== null && v !== undefined));

function problemPage(status: OidcPage['status'], title: string, message: string): OidcPage {
  return { title, status, body: <><h1>{title}</h1><p class="error-box">{message}</p><p><a href="/login">Back to the login page</a></p></> };
}

function barePage(c: Context, page: OidcPage): Response | Promise<Response> {
  c.header('cache-control', 'no-store');
  return c.html(<>{raw('<!doctype html>')}<html lang="en"><head><meta charset="utf-8" /><title>{page.title} · kiln</title></head><body><main>{page.body}</main></body></html></>, page.status);
}
