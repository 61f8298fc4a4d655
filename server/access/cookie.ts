// The session cookie, set and cleared in one place for every way in: the dashboard's login
// form, `POST /api/login`, and single sign-on. HttpOnly, SameSite=Lax (so that the identity
// provider's redirect back carries it; every change still needs the CSRF token), Secure on HTTPS.
import type { Context } from 'hono';
import { deleteCookie, setCookie } from 'hono/cookie';
import { cookieValue } from './authenticate.js';
import { SESSION_COOKIE, SESSION_TTL_MS, type Session, type Sessions } from './sessions.js';
import type { User } from '../store/index.js';

export const isHttps = (c: Context) => new URL(c.req.url).protocol === 'https:' || c.req.header('x-forwarded-proto') === 'https';

/** Ends the request's old session, if any, and opens a new one for `user` (null: the admin token). */
export function openSession(c: Context, sessions: Sessions, user: User | null): Session {
  sessions.remove(cookieValue(c.req.header('cookie'), SESSION_COOKIE));
  const session = sessions.create(user === null || user.admin ? 'admin' : 'user', user?.id ?? null);
  setCookie(c, SESSION_COOKIE, session.id, { httpOnly: true, sameSite: 'Lax', path: '/', secure: isHttps(c), maxAge: SESSION_TTL_MS / 1000 });
  return session;
}

export function closeSession(c: Context, sessions: Sessions): void {
  sessions.remove(cookieValue(c.req.header('cookie'), SESSION_COOKIE));
  deleteCookie(c, SESSION_COOKIE, { path: '/' });
}
