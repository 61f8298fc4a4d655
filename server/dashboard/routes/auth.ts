// `/login` and `/logout`: a session from a user's name and password, or from a token (the
// admin token, or a user's token of scope admin), kept in an HttpOnly cookie.
import { Hono } from 'hono';
import type { Logger } from 'pino';
import { KilnError } from '../../../shared/errors.js';
import { closeSession, openSession } from '../../access/cookie.js';
import type { Login } from '../../access/login.js';
import { crossSite, localPath, type DashboardAuth } from '../auth.js';
import { loginPage, type SsoState } from '../pages/login.js';
import type { Render } from '../render.js';
import { sameToken } from '../session.js';

export interface AuthRoutesOptions {
  auth: DashboardAuth;
  render: Render;
  /** Password logins; absent: only tokens. */
  login?: Login;
  addressOf?: (c: import('hono').Context) => string;
  /** Whether the login page offers single sign-on (server/oidc's `available()`); default: not configured. */
  sso?: () => SsoState;
  logger: Logger;
}

export function createAuthRoutes({ auth, render, login, addressOf = () => 'unknown', sso = () => null, logger }: AuthRoutesOptions): Hono {
  const { sessions, access } = auth;
  const app = new Hono();
  const page = (next: string, error: string | null) => loginPage(next, error, sso());
  app.get('/login', (c) => render(c, page(localPath(c.req.query('next')), c.req.query('error') ?? null)));
  app.post('/login', async (c) => {
    if (crossSite(c)) return c.text('cross-site login refused', 403);
    const form = await c.req.parseBody();
    const next = localPath(form.next);
    const refused = (message: string, status: 401 | 429 = 401) => {
      logger.info('dashboard login refused');
      return render(c, { ...page(next, message), status });
    };
    const token = typeof form.token === 'string' ? form.token.trim() : '';
    if (token) {
      const p = access.authenticate({ authorization: `Bearer ${token}`, cookie: null, method: 'GET', path: '/login' });
      if (p.kind === 'admin-token') openSession(c, sessions, null);
      else if (p.kind === 'user' && p.token?.scope === 'admin' && p.token.repos === null) {
        openSession(c, sessions, p.user);
        access.signedIn(c, p.user!);
      }
      else return refused('That token is not the admin token, nor a user token of scope admin.');
      return c.redirect(next, 303);
    }
    const name = typeof form.name === 'string' ? form.name.trim() : '';
    const password = typeof form.password === 'string' ? form.password : '';
    (c.set as (key: string, value: unknown) => void)('auditTarget', `user/${name}`);
    if (!login || !name || !password) return refused('Give your user name and password.');
    try {
      const user = await login(name, password, addressOf(c));
      openSession(c, sessions, user);
      access.signedIn(c, user);
    } catch (error) {
      if (error instanceof KilnError && (error.code === 'unauthorized' || error.code === 'too_many')) return refused(`${error.message}.`, error.code === 'too_many' ? 429 : 401);
      throw error;
    }
    return c.redirect(next, 303);
  });
  app.post('/logout', async (c) => {
    const session = auth.sessionOf(c);
    const form = await c.req.parseBody();
    if (session && (crossSite(c) || !sameToken(session.csrf, form.csrf))) return c.text('missing or wrong CSRF token', 403);
    closeSession(c, sessions);
    return c.redirect('/', 303);
  });
  return app;
}
