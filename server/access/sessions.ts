// Dashboard sessions, kept in SQLite (a restart logs nobody out): a random id in an HttpOnly
// cookie (only its hash is stored) and a CSRF token that every form, and every changing API
// call made with the cookie, carries back.
import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { UserStore } from '../store/index.js';

export interface Session {
  id: string;
  csrf: string;
  /** `admin`: a server admin (the admin token, or an admin user); else `user`. */
  kind: 'admin' | 'user';
  /** The user signed in; null for a session of the admin token. */
  userId: number | null;
  expiresAtMs: number;
}

export interface Sessions {
  create(kind: Session['kind'], userId?: number | null): Session;
  get(id: string | undefined): Session | null;
  remove(id: string | undefined): void;
}

export const SESSION_COOKIE = 'kiln_session';
export const SESSION_TTL_MS = 12 * 60 * 60 * 1000;

export function createSessions(users: UserStore, now: () => number = Date.now): Sessions {
  return {
    create(kind, userId = null) {
      const session = { id: randomBytes(32).toString('base64url'), csrf: randomBytes(32).toString('base64url'), kind, userId, expiresAtMs: now() + SESSION_TTL_MS };
      users.createSession(session);
      return session;
    },
    get(id) {
      // A cookie value of another shape is no session: it is never looked up.
      if (!id || !/^[A-Za-z0-9_-]{43}$/.test(id)) return null;
      const stored = users.getSession(id);
      return stored ? { id, ...stored } : null;
    },
    remove(id) {
      if (id) users.removeSession(id);
    },
  };
}

/** Constant-time comparison of a submitted CSRF token with the session's. */
export function sameToken(expected: string, given: unknown): boolean {
  if (typeof given !== 'string') return false;
  const a = Buffer.from(expected);
  const b = Buffer.from(given);
  return a.length === b.length && timingSafeEqual(a, b);
}
