// Who may do what on the dashboard, through the server's one access layer (server/access/):
// the session from the login cookie, the read check of a private server (a session or a
// token), the read guard for pages, and the cross-site check for POSTs.
import type { Context, MiddlewareHandler } from 'hono';
import type { Access, Need, Session, Sessions } from '../access/index.js';
import type { Viewer } from './layout.js';

export interface DashboardAuth {
  sessions: Sessions;
  access: Access;
  sessionOf(c: Context): Session | null;
  viewerOf(c: Context): Viewer;
  /** Reading is open, unless the server is private: then a session or a known token. */
  mayRead(c: Context): boolean;
  /** Whether the request's principal may do `need` on `repo`. */
  may(c: Context, need: Need, repo?: string | null): boolean;
  /** Sends who may not read to the login page (a badge: a plain 401). */
  readGuard: MiddlewareHandler;
}

export function createDashboardAuth({ access, sessions }: { access: Access; sessions: Sessions }): DashboardAuth {
  const sessionOf = (c: Context): Session | null => access.authenticate.sessionOf(c.req.header('cookie'));
  const mayRead = (c: Context) => access.may(c, 'read');
  return {
    sessions,
    access,
    sessionOf,
    viewerOf: (c) => {
      const session = sessionOf(c);
      const p = access.principalOf(c);
      return {
        csrf: session?.csrf ?? null, path: c.req.path, name: session ? (p.user?.name ?? 'admin') : null,
        may: (need, repo = null) => session !== null && access.may(c, need, repo),
      };
    },
    mayRead,
    may: (c, need, repo = null) => access.may(c, need, repo),
    readGuard: async (c, next) => {
      if (!mayRead(c)) {
        if (c.req.path.startsWith('/badge/')) return c.text('this server is private', 401);
        return c.redirect(`/login?next=${encodeURIComponent(c.req.path)}`, 303);
      }
      await next();
    },
  };
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

