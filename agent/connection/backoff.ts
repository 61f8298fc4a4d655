// Reconnect delays: exponential with jitter, capped, reset after a healthy connection.

export interface BackoffOptions {
  /** The first delay's ceiling; default 500. */
  initialMs?: number;
  /** No delay is longer; default 30 000. */
  maxMs?: number;
  /** A number in [0, 1); injected so tests get exact delays. */
  random?: () => number;
}

/**
 * `next()` returns the delay before the next attempt: attempt n waits between half and all of
 * `min(maxMs, initialMs · 2ⁿ)` ("equal jitter": never near zero, so a restarted server is not
 * hit by every agent at once, nor by one agent in a hot loop). `reset()` starts over.
 */
export interface Backoff {
  next(): number;
  reset(): void;
  readonly attempts: number;
}

export function createBackoff(options: BackoffOptions = {}): Backoff {
  const initialMs = options.initialMs ?? 500;
  const maxMs = options.maxMs ?? 30_000;
  const random = options.random ?? Math.random;
  let attempts = 0;
  return {
    next() {
      const ceiling = Math.min(maxMs, initialMs * 2 ** Math.min(attempts, 30));
      attempts++;
      return Math.round(ceiling / 2 + random() * (ceiling / 2));
    },
    reset() {
      attempts = 0;
    },
    get attempts() {
      return attempts;
    },
  };
}
