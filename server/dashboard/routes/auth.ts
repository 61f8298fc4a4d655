// `/login` and `/logout`: a session from the admin (or a user) token, kept in an HttpOnly cookie.
import { Hono } from 'hono';
import { deleteCookie, getCookie, setCookie } from 'hono/cookie';
import type { Logger } from 'pino';
import { crossSite, isHttps, localPath, type DashboardAuth, type DashboardAuthOptions } from '../auth.js';
import { loginPage, type SsoState } from '../pages/login.js';
import type { Render } from '../render.js';
import { sameToken, SESSION_COOKIE } from '../session.js';

export interface AuthRoutesOptions {
  auth: DashboardAuth;
  render: Render;
  tokenKind: DashboardAuthOptions['tokenKind'];
  logger: Logger;
  /** Whether the login page offers single sign-on (server/oidc's `available()`); default: not configured. */
  sso?: () => SsoState;
}

export function createAuthRoutes({ auth, render, tokenKind, logger, sso = () => null }: AuthRoutesOptions): Hono {
  const { sessions } = auth;
  const app = new Hono();
  app.get('/login', (c) => render(c, loginPage(localPath(c.req.query('next')), null, sso())));
  app.post('/login', async (c) => {
    if (crossSite(c)) return c.text('cross-site login refused', 403);
    const form = await c.req.parseBody();
    const next = localPath(form.next);
    const token = typeof form.token === 'string' ? form.token.trim() : '';
    const kind = token ? tokenKind(token) : null;
    if (kind !== 'admin' && kind !== 'user') {
      logger.info('dashboard login refused');
      return render(c, { ...loginPage(next, 'That token is not an admin token.', sso()), status: 401 });
    }
    sessions.remove(getCookie(c, SESSION_COOKIE));
    const session = sessions.create(kind);
    setCookie(c, SESSION_COOKIE, session.id, { httpOnly: true, sameSite: 'Strict', path: '/', secure: isHttps(c), maxAge: 12 * 60 * 60 });
    return c.redirect(next, 303);
  });
  app.post('/logout', async (c) => {
    const session = auth.sessionOf(c);
    const form = await c.req.parseBody();
    if (session && !crossSite(c) && sameToken(session.csrf, form.csrf)) sessions.remove(session.id);
    else if (session) return c.text('missing or wrong CSRF token', 403);
    deleteCookie(c, SESSION_COOKIE, { path: '/' });
    return c.redirect('/', 303);
  });
  return app;
}
