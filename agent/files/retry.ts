// Retrying a transfer through a server restart: 0.25 s doubling to 5 s, for about a minute, abortable.

export interface RetryOptions {
  /** The first wait; default 250. */
  initialMs?: number;
  /** No wait is longer; default 5 000. */
  maxMs?: number;
  /** Give up when the next wait would end past this much time since the first try; default 60 000. */
  totalMs?: number;
  now?: () => number;
  /** Waits `ms` or rejects when `signal` aborts; injected so tests need not sleep. */
  sleep?: (ms: number, signal: AbortSignal) => Promise<void>;
}

/** A failure worth another try: the connection failed or broke, or the server answered 5xx. */
export class RetryableError extends Error {}

/**
 * Runs `attempt` until it resolves, a non-retryable error is thrown, `signal` aborts (then its
 * error is thrown), or the time is up (then the last RetryableError, its message prefixed with
 * how long it tried). `onRetry` hears each failure that will be retried.
 */
export async function withRetries<T>(
  attempt: () => Promise<T>, signal: AbortSignal, options: RetryOptions = {},
  onRetry?: (err: RetryableError, waitMs: number) => void,
): Promise<T> {
  const initialMs = options.initialMs ?? 250;
  const maxMs = options.maxMs ?? 5000;
  const totalMs = options.totalMs ?? 60_000;
  const now = options.now ?? Date.now;
  const sleep = options.sleep ?? abortableSleep;
  const started = now();
  for (let tries = 0; ; tries++) {
    signal.throwIfAborted();
    try {
      return await attempt();
    } catch (err) {
      if (!(err instanceof RetryableError) || signal.aborted) throw err;
      const waitMs = Math.min(maxMs, initialMs * 2 ** Math.min(tries, 20));
      if (now() + waitMs - started > totalMs) {
        throw new Error(`gave up after ${((now() - started) / 1000).toFixed(0)} s: ${err.message}`, { cause: err });
      }
      onRetry?.(err, waitMs);
      await sleep(waitMs, signal);
    }
  }
}

export function abortableSleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason);
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener('abort', aborted);
    };
    const aborted = () => {
      done();
      reject(signal.reason);
    };
    const timer = setTimeout(() => {
      done();
      resolve();
    }, ms);
    signal.addEventListener('abort', aborted, { once: true });
  });
}
