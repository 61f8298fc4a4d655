// Sign-ins under way: what the callback must check (state, nonce, PKCE verifier), kept on the
// server, bound to the browser that started them by a cookie, used once, and gone after a while.
import { randomBytes, timingSafeEqual } from 'node:crypto';

export interface PendingSignIn {
  state: string;
  nonce: string;
  codeVerifier: string;
  /** The random value of the browser's binding cookie, set when the sign-in started. */
  binding: string;
  /** Where to go once signed in: a path on this site. */
  next: string;
  expiresAtMs: number;
}

export type TakeResult = { ok: true; pending: PendingSignIn } | { ok: false; reason: 'unknown' | 'other_browser' | 'expired' };

/** The pending sign-ins, at most `max` (the oldest goes first), each for `ttlMs`. */
export interface PendingSignIns {
  add(entry: Omit<PendingSignIn, 'expiresAtMs'>): PendingSignIn;
  /**
   * The sign-in of `state` when `binding` (the browser's cookie) is the one it started with,
   * removed (one use: a replayed callback finds nothing); an expired one is removed too.
   */
  take(state: string, binding: string | undefined): TakeResult;
  readonly size: number;
}

export function createPendingSignIns({ now, ttlMs, max }: { now: () => number; ttlMs: number; max: number }): PendingSignIns {
  const byState = new Map<string, PendingSignIn>();
  const sweep = () => {
    const t = now();
    for (const [state, p] of byState) if (p.expiresAtMs <= t) byState.delete(state);
    while (byState.size >= max) byState.delete(byState.keys().next().value!);
  };
  return {
    add(entry) {
      sweep();
      const pending = { ...entry, expiresAtMs: now() + ttlMs };
      byState.set(entry.state, pending);
      return pending;
    },
    take(state, binding) {
      const pending = byState.get(state);
      if (!pending) return { ok: false, reason: 'unknown' };
      if (pending.expiresAtMs <= now()) {
        byState.delete(state);
        return { ok: false, reason: 'expired' };
      }
      // Another browser presenting the state (login CSRF) neither signs in nor spoils the
      // sign-in of the browser that started it.
      if (!binding || !sameText(pending.binding, binding)) return { ok: false, reason: 'other_browser' };
      byState.delete(state);
      return { ok: true, pending };
    },
    get size() {
      return byState.size;
    },
  };
}

export const randomToken = (): string => randomBytes(32).toString('base64url');

function sameText(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}
