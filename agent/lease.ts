// The agent's side of the lease: the server pings it; a server silent for too long is taken as gone.
import type { Clock } from './connection/clock.js';

/**
 * How long the server may stay silent. The server pings every `leaseMs / 4` (clamped to
 * 200 ms … 5 s) and renews our leases while it hears us; twice its ping interval without a
 * message or a ping means the connection is dead even if TCP has not noticed (a server that
 * froze, a NAT that forgot us), so the agent drops it and reconnects well before the leases run out.
 */
export function silenceLimitMs(leaseMs: number): number {
  return 2 * Math.min(5000, Math.max(200, Math.floor(leaseMs / 4)));
}

export interface SilenceWatchdogOptions {
  clock: Clock;
  limitMs: number;
  /** Called once when nothing was heard for `limitMs`; the watchdog is stopped then. */
  onSilent(silentMs: number): void;
}

/** `touch()` on every frame heard; `stop()` when the socket closes. Cheap to touch often: one timer, re-armed lazily. */
export interface SilenceWatchdog {
  touch(): void;
  setLimitMs(limitMs: number): void;
  stop(): void;
}

export function createSilenceWatchdog(o: SilenceWatchdogOptions): SilenceWatchdog {
  let limitMs = o.limitMs;
  let lastHeard = o.clock.now();
  let timer: unknown = null;
  let stopped = false;

  const arm = (ms: number) => {
    if (timer !== null) o.clock.clearTimeout(timer);
    timer = o.clock.setTimeout(check, Math.max(0, ms));
  };
  function check() {
    timer = null;
    if (stopped) return;
    const silentMs = o.clock.now() - lastHeard;
    if (silentMs < limitMs) return arm(limitMs - silentMs);
    stopped = true;
    o.onSilent(silentMs);
  }
  arm(limitMs);

  return {
    touch() {
      lastHeard = o.clock.now();
    },
    setLimitMs(ms) {
      limitMs = ms;
      if (!stopped) arm(Math.max(0, lastHeard + limitMs - o.clock.now()));
    },
    stop() {
      stopped = true;
      if (timer !== null) o.clock.clearTimeout(timer);
      timer = null;
    },
  };
}
