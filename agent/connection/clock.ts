// Time for the agent's timers (back-off, silence, drain waits), injectable so tests need not sleep.

/** Wall time and one-shot timers. `setTimeout` returns a handle only `clearTimeout` reads. */
export interface Clock {
  now(): number;
  setTimeout(callback: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout: (callback, ms) => setTimeout(callback, ms),
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
};
