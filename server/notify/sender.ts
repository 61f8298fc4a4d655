// Delivers the outbox's notifications, oldest first, retrying a failed one with exponential
// back-off (5 s doubling to 1 hour, without end: a target that is down gets the message once
// it is back). A restart resumes from the outbox. Time is injected: tests drive `deliverDue`.
import type { Logger } from 'pino';
import type { Store } from '../store/index.js';
import { describeTarget } from '../store/index.js';
import { deliver, type DeliveryContext } from './targets.js';
import { createOutboxPump } from '../outbox-pump.js';

export interface NotificationSenderOptions extends Omit<DeliveryContext, 'secretOf' | 'timeoutMs'> {
  store: Store;
  logger: Logger;
  /** How long one delivery may take (default 10 s). */
  timeoutMs?: number;
  now?: () => number;
  /** Runs `kick` after `ms` (default setTimeout, unref'd); answers the function that cancels it. */
  setTimer?: (kick: () => void, ms: number) => () => void;
}

/** Starts and stops with the server; `kick` when something was enqueued. */
export interface NotificationSender {
  start(): void;
  stop(): Promise<void>;
  kick(): void;
  /** Delivers what is due now (the timer's work); resolves when each was tried once. */
  deliverDue(): Promise<void>;
}

export const FIRST_RETRY_MS = 5000;
export const MAX_RETRY_MS = 60 * 60_000;

/** The wait before attempt `attempts + 1`, after `attempts` failures (1 or more). */
export const retryDelayMs = (attempts: number) => Math.min(FIRST_RETRY_MS * 2 ** Math.max(0, attempts - 1), MAX_RETRY_MS);

export function createNotificationSender(options: NotificationSenderOptions): NotificationSender {
  const { store, logger } = options;
  const now = options.now ?? Date.now;
  const ctx: DeliveryContext = {
    smtp: options.smtp,
    timeoutMs: options.timeoutMs ?? 10_000,
    secretOf: (repoId, name) => store.secrets.resolveSecrets(repoId, [name])[0]?.open() ?? null,
  };
  const deliverDue = async (): Promise<void> => {
    for (let pass = 0; pass < 50; pass++) {
      const due = store.notifications.due(20);
      if (due.length === 0) return;
      await Promise.all(due.map(async (entry) => {
        try {
          await deliver(entry.target, entry.repoId, entry.payload, ctx);
          store.notifications.markSent(entry.id);
        } catch (error) {
          const why = error instanceof Error ? (error.cause instanceof Error ? `${error.message}: ${error.cause.message}` : error.message) : String(error);
          store.notifications.markFailed(entry.id, why, now() + retryDelayMs(entry.attempts + 1));
          logger.warn({ notification: entry.id, run: entry.runId, target: describeTarget(entry.target), attempts: entry.attempts + 1, error: why }, 'notification not delivered; retrying');
        }
      }));
    }
  };

  const pump = createOutboxPump({
    deliverDue, nextDue: () => store.notifications.nextDue(), logger, name: 'notification sender',
    now, ...(options.setTimer ? { setTimer: options.setTimer } : {}),
  });

  return {
    start: () => pump.start(),
    stop: () => pump.stop(),
    kick: () => setImmediate(() => pump.kick()),
    deliverDue,
  };
}
