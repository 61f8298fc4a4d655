// Who may do what on the dashboard: sessions from the login cookie, the read check of a private
// server (session or token), the read guard for pages, and the cross-site check for POSTs.
import type { Context, MiddlewareHandler } from 'hono';
import { getCookie } from 'hono/cookie';
import type { Viewer } from './layout.js';
import { createSessions, SESSION_COOKIE, type Session, type Sessions } from './session.js';
import { bearer } from '../auth.js';

export interface DashboardAuthOptions {
  /** The kind of a presented token, or null. */
  tokenKind(token: string | null): 'admin' | 'agent' | 'user' | null;
  private: boolean;
  now: () => number;
}

export interface DashboardAuth {
  sessions: Sessions;
  sessionOf(c: Context): Session | null;
  viewerOf(c: Context): Viewer;
  /** Reading is open, unless the server is private: then a session or a known token. */
  mayRead(c: Context): boolean;
  /** Sends who may not read to the login page (a badge: a plain 401). */
  readGuard: MiddlewareHandler;
}

export function createDashboardAuth(options: DashboardAuthOptions): DashboardAuth {
  const sessions = createSessions(options.now);
  const sessionOf = (c: Context): Session | null => sessions.get(getCookie(c, SESSION_COOKIE));
  const mayRead = (c: Context) => !options.private || sessionOf(c) !== null || options.tokenKind(bearerOf(c)) !== null;
  return {
    sessions,
    sessionOf,
    viewerOf: (c) => ({ csrf: sessionOf(c)?.csrf ?? null, path: c.req.path }),
    mayRead,
    readGuard: async (c, next) => {
      if (!mayRead(c)) {
        if (c.req.path.startsWith('/badge/')) return c.text('this server is private', 401);
        return c.redirect(`/login?next=${encodeURIComponent(c.req.path)}`, 303);
      }
      await next();
    },
  };
}

function bearerOf(c: Context): string | null {
  return bearer(c.req.header('authorization'));
}

/** A POST from another site (Origin or Sec-Fetch-Site says so) is refused before anything else. */
export function crossSite(c: Context): boolean {
  const site = c.req.header('sec-fetch-site');
  if (site && site !== 'same-origin' && site !== 'none') return true;
  const origin = c.req.header('origin');
  if (origin && origin !== 'null') {
    const host = c.req.header('x-forwarded-host') ?? c.req.header('host');
    try {
      if (new URL(origin).host !== host) return true;
    } catch {
      return true;
    }
  } else if (origin === 'null') return true;
  return false;
}

/** `next` when it is a path on this site, else `fallback` (no open redirects). */
export const localPath = (next: unknown, fallback = '/') => (typeof next === 'string' && /^\/(?![/\\])/.test(next) ? next : fallback);

export const isHttps = (c: Context) => new URL(c.req.url).protocol === 'https:' || c.req.header('x-forwarded-proto') === 'https';
