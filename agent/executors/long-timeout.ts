// setTimeout for user durations (job and step timeouts): Node fires any timer over 2^31-1 ms
// (about 24.8 days) after 1 ms, so a longer wait is a chain of shorter timers.

/** The longest delay Node's setTimeout honours. */
export const MAX_TIMER_MS = 2 ** 31 - 1;

/** Cancels a long timeout; safe to call twice, and after it fired. */
export type CancelTimeout = () => void;

/** Calls `callback` once after `ms` (any length); returns what cancels it. */
export function setLongTimeout(callback: () => void, ms: number): CancelTimeout {
  let remainingMs = Math.max(0, ms);
  let timer: NodeJS.Timeout | undefined;
  const arm = () => {
    const waitMs = Math.min(remainingMs, MAX_TIMER_MS);
    remainingMs -= waitMs;
    timer = setTimeout(remainingMs > 0 ? arm : callback, waitMs);
  };
  arm();
  return () => clearTimeout(timer);
}
