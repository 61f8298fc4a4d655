// The loop that drains an outbox (forge commit statuses, notifications): one pass at a time
// delivers what is due; a kick during a pass makes one more pass after it; after the last pass
// a timer waits for the next entry that is due. The outbox itself (what is due, and when the
// next one is) lives in SQLite, so a restart resumes where the last process left off.
import type { Logger } from 'pino';

export interface OutboxPumpOptions {
  /** Delivers what is due now; resolves when each was tried once. */
  deliverDue(): Promise<void>;
  /** When the next undelivered entry is due (ms), or null. */
  nextDue(): number | null;
  logger: Logger;
  /** What the error log line calls this pump: `status sender`, `notification sender`. */
  name: string;
  now?: () => number;
  /** Runs `kick` after `ms` (default setTimeout, unref'd); answers the function that cancels it. */
  setTimer?: (kick: () => void, ms: number) => () => void;
}

export interface OutboxPump {
  start(): void;
  /** Stops the timer and waits for the pass under way. */
  stop(): Promise<void>;
  /** Something was enqueued, or is due: a pass now (or right after the one under way). */
  kick(): void;
  readonly stopped: boolean;
}

const defaultTimer = (kick: () => void, ms: number) => {
  const timer = setTimeout(kick, ms);
  timer.unref();
  return () => clearTimeout(timer);
};

export function createOutboxPump(options: OutboxPumpOptions): OutboxPump {
  const now = options.now ?? Date.now;
  const setTimer = options.setTimer ?? defaultTimer;
  let cancelTimer: (() => void) | null = null;
  let sending: Promise<void> | null = null;
  let again = false;
  let stopped = true;

  const schedule = () => {
    cancelTimer?.();
    cancelTimer = null;
    const next = options.nextDue();
    if (next === null || stopped) return;
    cancelTimer = setTimer(kick, Math.max(0, next - now()));
  };

  function kick(): void {
    if (stopped) return;
    if (sending) {
      again = true;
      return;
    }
    sending = options.deliverDue().catch((error: unknown) => options.logger.error({ err: error }, `${options.name} failed`)).finally(() => {
      sending = null;
      if (again) {
        again = false;
        kick();
      } else {
        schedule();
      }
    });
  }

  return {
    start() {
      stopped = false;
      kick();
    },
    async stop() {
      stopped = true;
      cancelTimer?.();
      cancelTimer = null;
      await sending;
    },
    kick,
    get stopped() {
      return stopped;
    },
  };
}
