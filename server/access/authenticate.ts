// The one auth path for every entrance (API, dashboard, /api/events, /git, /agent, /hooks):
// the presented credentials → a Principal. Credentials are a bearer token (the admin and agent
// tokens, or a user's `kiln_…` token), HTTP Basic for git clients (the token as password), or
// the dashboard's session cookie. On the API, a changing request made with the cookie counts
// only with the session's CSRF token in `X-Kiln-CSRF` (another site cannot read it).
import type { Store } from '../store/index.js';
import { ANONYMOUS, type Principal } from './principal.js';
import { sameToken, SESSION_COOKIE, type Session, type Sessions } from './sessions.js';

/** What a request presents, however it arrived (a hono Context, a Node upgrade request). */
export interface Presented {
  authorization: string | undefined | null;
  cookie: string | undefined | null;
  method: string;
  path: string;
  csrf?: string | undefined | null;
}

export interface Authenticate {
  (presented: Presented): Principal;
  /** The session a cookie header names, or null. */
  sessionOf(cookieHeader: string | undefined | null): Session | null;
}

export const USER_TOKEN_PREFIX = 'kiln_';

/** The token in an `Authorization` header: Bearer, or Basic with the token as password (or as user, as git sends it). */
export function presentedToken(header: string | undefined | null): string | null {
  if (!header) return null;
  const [scheme = '', value = ''] = header.trim().split(/\s+/, 2);
  if (scheme.toLowerCase() === 'bearer') return value || null;
  if (scheme.toLowerCase() !== 'basic') return null;
  const decoded = Buffer.from(value, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  const user = colon < 0 ? decoded : decoded.slice(0, colon);
  const password = colon < 0 ? '' : decoded.slice(colon + 1);
  return password || user || null;
}

export function cookieValue(header: string | undefined | null, name: string): string | undefined {
  for (const part of (header ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return decodeURIComponent(part.slice(eq + 1).trim());
  }
  return undefined;
}

const READING = new Set(['GET', 'HEAD', 'OPTIONS']);

export function createAuthenticate(store: Store, sessions: Sessions): Authenticate {
  const byToken = (secret: string): Principal => {
    if (secret.startsWith(USER_TOKEN_PREFIX)) {
      const found = store.users.verifyToken(secret);
      if (!found) return { ...ANONYMOUS, kind: 'unknown-token' };
      const { token, user } = found;
      return { kind: 'user', user, via: 'token', token: { id: token.id, name: token.name, scope: token.scope, repos: token.repos } };
    }
    const kind = store.tokens.verifyToken(secret)?.kind ?? null;
    if (kind === 'admin') return { ...ANONYMOUS, kind: 'admin-token' };
    if (kind === 'agent') return { ...ANONYMOUS, kind: 'agent' };
    return { ...ANONYMOUS, kind: 'unknown-token' };
  };
  const sessionOf = (cookieHeader: string | undefined | null) => sessions.get(cookieValue(cookieHeader, SESSION_COOKIE));
  const bySession = (session: Session): Principal => {
    if (session.userId === null) return { ...ANONYMOUS, kind: 'admin-token', via: 'session' };
    const user = store.users.getUser(session.userId);
    if (!user || user.disabled) return ANONYMOUS;
    return { kind: 'user', user, via: 'session', token: null };
  };
  const authenticate = ((p: Presented): Principal => {
    const secret = presentedToken(p.authorization);
    if (secret) return byToken(secret);
    const session = sessionOf(p.cookie);
    if (!session) return ANONYMOUS;
    const api = p.path.startsWith('/api/');
    if (api && !READING.has(p.method) && !sameToken(session.csrf, p.csrf)) return ANONYMOUS;
    return bySession(session);
  }) as Authenticate;
  authenticate.sessionOf = sessionOf;
  return authenticate;
}
