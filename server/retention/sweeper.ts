// The retention sweeper (server.retention in kiln.yml): deletes runs older than `runs` that
// nothing keeps, the log lines of kept runs' jobs older than `logs`, and what the extra
// sweepables (e.g. the audit log) hold past their age; then hands the freed pages back to the
// file system. Each batch is one short transaction and the sweep yields to the event loop
// between batches (setImmediate), so the scheduler and HTTP answers never wait behind a sweep.
// Artifact files of deleted runs go through the artifact sweeper, which removes every file
// no row refers to.
import type { Logger } from 'pino';
import { formatDuration } from '../../shared/pipeline/duration.js';
import type { Store } from '../store/index.js';

const DAY_MS = 86_400_000;

export interface RetentionPolicy {
  /** Runs older than this go (default 180 days). */
  runsMs: number;
  /** Kept runs' log lines older than this go (default 90 days). */
  logsMs: number;
  /** The newest runs of each repo and branch that stay whatever their age (default 20). */
  keepLast: number;
  /** Between sweeps (default one hour). */
  intervalMs: number;
  /** The age past which extra sweepables (audit log) are swept (default 365 days). */
  auditMs: number;
}

export const DEFAULT_RETENTION: RetentionPolicy = {
  runsMs: 180 * DAY_MS,
  logsMs: 90 * DAY_MS,
  keepLast: 20,
  intervalMs: 3_600_000,
  auditMs: 365 * DAY_MS,
};

/** Another part's rows that age out: it deletes up to `batch` older than `cutoffMs`, says how many. */
export interface Sweepable {
  name: string;
  sweepBefore(cutoffMs: number, batch: number): number;
}

export interface SweepResult {
  runs: number;
  logs: number;
  artifactFiles: number;
  /** Per extra sweepable, by name. */
  extra: Record<string, number>;
  /** Database pages handed back to the file system. */
  pagesFreed: number;
}

export interface RetentionSweeperOptions {
  store: Store;
  logger: Logger;
  policy?: Partial<RetentionPolicy>;
  /** Removes artifact files no row refers to (the artifact sweeper's sweep). */
  sweepArtifacts?: () => Promise<{ files: number }>;
  sweepables?: readonly Sweepable[];
  /** Rows per transaction (default 200). */
  batch?: number;
  now?: () => number;
}

export interface RetentionSweeper {
  readonly policy: RetentionPolicy;
  /** One sweep now (after one under way). */
  sweep(): Promise<SweepResult>;
  /** Sweeps every intervalMs (the first one after intervalMs). */
  start(): void;
  /** Stops the timer and waits for a sweep under way. */
  stop(): Promise<void>;
}

const yieldTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

export function createRetentionSweeper(options: RetentionSweeperOptions): RetentionSweeper {
  const { store, logger, sweepArtifacts, sweepables = [], batch = 200, now = Date.now } = options;
  const policy: RetentionPolicy = { ...DEFAULT_RETENTION, ...options.policy };
  let timer: NodeJS.Timeout | null = null;
  let running: Promise<unknown> = Promise.resolve();

  const drain = async (take: () => number): Promise<number> => {
    let total = 0;
    for (;;) {
      const done = take();
      total += done;
      if (done < batch) return total;
      await yieldTurn();
    }
  };

  const sweep = async (): Promise<SweepResult> => {
    const at = now();
    const runs = await drain(() => store.transaction(() => {
      const ids = store.retention.expiredRuns(at - policy.runsMs, policy.keepLast, batch);
      for (const id of ids) store.retention.deleteRun(id);
      return ids.length;
    }));
    const logPolicy = `logs: ${formatDuration(policy.logsMs)}`;
    const logs = await drain(() => store.transaction(() => {
      const ids = store.retention.expiredLogs(at - policy.logsMs, batch);
      for (const id of ids) store.retention.removeLog(id, at, logPolicy);
      return ids.length;
    }));
    const extra: Record<string, number> = {};
    for (const sweepable of sweepables) {
      extra[sweepable.name] = await drain(() => store.transaction(() => sweepable.sweepBefore(at - policy.auditMs, batch)));
    }
    await store.committed();
    const artifactFiles = sweepArtifacts ? (await sweepArtifacts()).files : 0;
    const pagesFreed = store.retention.reclaim();
    const result = { runs, logs, artifactFiles, extra, pagesFreed };
    if (runs > 0 || logs > 0 || artifactFiles > 0 || Object.values(extra).some((n) => n > 0)) logger.info(result, 'retention swept');
    return result;
  };

  const guarded = (): Promise<SweepResult> => {
    const next = running.then(sweep);
    running = next.catch((error: unknown) => logger.error({ err: error }, 'retention sweep failed'));
    return next;
  };

  return {
    policy,
    sweep: guarded,
    start() {
      if (timer) return;
      timer = setInterval(() => void guarded().catch(() => undefined), policy.intervalMs);
      timer.unref();
    },
    async stop() {
      if (timer) clearInterval(timer);
      timer = null;
      await running;
    },
  };
}
