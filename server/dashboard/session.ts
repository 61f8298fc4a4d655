// Dashboard sessions: a login with the admin token gives a random session id (kept in memory:
// a restart logs everyone out) and a CSRF token that every form carries back.
import { randomBytes, timingSafeEqual } from 'node:crypto';

export interface Session {
  id: string;
  csrf: string;
  kind: 'admin' | 'user';
  expiresAtMs: number;
}

export interface Sessions {
  create(kind: Session['kind']): Session;
  get(id: string | undefined): Session | null;
  remove(id: string | undefined): void;
}

export const SESSION_COOKIE = 'kiln_session';
const TTL_MS = 12 * 60 * 60 * 1000;
const MAX_SESSIONS = 10_000;

export function createSessions(now: () => number = Date.now): Sessions {
  const byId = new Map<string, Session>();
  const sweep = () => {
    const t = now();
    for (const [id, s] of byId) if (s.expiresAtMs <= t) byId.delete(id);
    while (byId.size >= MAX_SESSIONS) byId.delete(byId.keys().next().value!);
  };
  return {
    create(kind) {
      sweep();
      const session = { id: randomBytes(32).toString('base64url'), csrf: randomBytes(32).toString('base64url'), kind, expiresAtMs: now() + TTL_MS };
      byId.set(session.id, session);
      return session;
    },
    get(id) {
      if (!id) return null;
      const session = byId.get(id);
      if (!session) return null;
      if (session.expiresAtMs <= now()) {
        byId.delete(id);
        return null;
      }
      return session;
    },
    remove(id) {
      if (id) byId.delete(id);
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
