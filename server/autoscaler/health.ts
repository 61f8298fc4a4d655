// A provider's health as the pools see it: failures, and the exponential back-off they cause.

/**
 * Plain data, replaced (never mutated) by recordFailure / recordSuccess. While `nowMs <
 * backoffUntilMs` the pool starts nothing; `error` is shown in `/api/pools`.
 */
export interface ProviderHealth {
  /** Failures in a row; 0 when healthy. */
  failures: number;
  failingSinceMs: number | null;
  backoffUntilMs: number | null;
  /** The last failure, one line; null when healthy. */
  error: string | null;
}

export interface BackoffOptions {
  /** The first back-off; each further failure doubles it (default 5 s). */
  baseMs?: number;
  /** The longest back-off (default 5 min). */
  capMs?: number;
}

export const HEALTHY: ProviderHealth = Object.freeze({ failures: 0, failingSinceMs: null, backoffUntilMs: null, error: null });

export function isBackingOff(health: ProviderHealth, nowMs: number): boolean {
  return health.backoffUntilMs !== null && nowMs < health.backoffUntilMs;
}

/**
 * One more failure. Why a failure inside the back-off window only updates the message: a
 * batch of agents that all fail, or a `list` that fails on every pass, is one failure of the
 * provider, not many; counting each would push the retry out to the cap at once.
 */
export function recordFailure(health: ProviderHealth, error: string, nowMs: number, options: BackoffOptions = {}): ProviderHealth {
  if (isBackingOff(health, nowMs)) return { ...health, error };
  const baseMs = options.baseMs ?? 5_000;
  const capMs = options.capMs ?? 300_000;
  const failures = health.failures + 1;
  const delayMs = Math.min(capMs, baseMs * 2 ** Math.min(failures - 1, 30));
  return { failures, failingSinceMs: health.failingSinceMs ?? nowMs, backoffUntilMs: nowMs + delayMs, error };
}

/** The provider proved it works (an agent it started connected). */
export function recordSuccess(): ProviderHealth {
  return HEALTHY;
}

/** `90s` → "1m30s", `60000` → "60s"… short and exact enough for reasons. */
export function formatMs(ms: number): string {
  const s = Math.ceil(ms / 1000);
  if (s < 120) return `${s}s`;
  const m = Math.floor(s / 60);
  return s % 60 === 0 ? `${m}m` : `${m}m${s % 60}s`;
}
