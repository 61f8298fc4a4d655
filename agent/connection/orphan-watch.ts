// How long the server has been unreachable: a pool agent gives up on a server gone for good.
import type { Clock } from './clock.js';

// Node fires a longer timer at once; the watch re-arms until the deadline (timeouts go to 365 d).
const MAX_TIMER_MS = 2 ** 31 - 1;

export interface OrphanWatchOptions {
  clock: Clock;
  /** Unreachable (no `welcome`) this long, counted from the start or from the last lost session. */
  timeoutMs: number;
  onOrphaned(unreachableMs: number): void;
}

/**
 * Counts from its creation. `reachable()` (a `welcome`) stops the count; `unreachable()` (the
 * session closed) starts it again. `onOrphaned` is called at most once per count; `stop()` ends all.
 */
export interface OrphanWatch {
  reachable(): void;
  unreachable(): void;
  stop(): void;
}

export function createOrphanWatch(o: OrphanWatchOptions): OrphanWatch {
  let since: number | null = null;
  let timer: unknown = null;
  const clear = () => {
    if (timer !== null) o.clock.clearTimeout(timer);
    timer = null;
  };
  const check = () => {
    timer = null;
    if (since === null) return;
    const leftMs = since + o.timeoutMs - o.clock.now();
    if (leftMs > 0) {
      timer = o.clock.setTimeout(check, Math.min(leftMs, MAX_TIMER_MS));
      return;
    }
    const unreachableMs = o.clock.now() - since;
    since = null;
    o.onOrphaned(unreachableMs);
  };
  const watch: OrphanWatch = {
    reachable() {
      since = null;
      clear();
    },
    unreachable() {
      if (since !== null) return;
      since = o.clock.now();
      check();
    },
    stop: () => watch.reachable(),
  };
  watch.unreachable();
  return watch;
}
