// The agent's job slots: at most `capacity` jobs at once, each with its own abort controller.
import type { Logger } from 'pino';
import type { JobAssignment } from '../../shared/protocol/messages.js';
import type { JobEnd, JobRunner } from './run-assignment.js';

export interface JobSlotsOptions {
  capacity: number;
  run: JobRunner;
  logger: Logger;
  /** After a job's runner returned (its slot was freed a little earlier, see JobRunner). */
  onEnded?(jobId: number, end: JobEnd): void;
}

/**
 * `start` refuses (false) when every slot is taken; the server should never send more, but
 * a job that runs twice over capacity is worse than a refusal. `cancel` aborts a job with a
 * reason; the job still ends through its runner (tree stopped, `done` reported).
 */
export interface JobSlots {
  /** Slots taken (a job's slot is freed before its runner has finished cleaning up). */
  readonly size: number;
  /** Runners that have not returned yet: a job counts here until its results are recorded and its workspace is gone. */
  readonly busy: number;
  has(jobId: number): boolean;
  start(assignment: JobAssignment): boolean;
  cancel(jobId: number, reason: string): boolean;
  cancelAll(reason: string): number;
  /** Resolves when no runner is busy. */
  idle(): Promise<void>;
}

export function createJobSlots(o: JobSlotsOptions): JobSlots {
  const running = new Map<number, { abort: AbortController }>();
  const waiters: Array<() => void> = [];
  let busy = 0;

  return {
    get size() {
      return running.size;
    },
    get busy() {
      return busy;
    },
    has: (jobId) => running.has(jobId),
    start(assignment) {
      if (running.size >= o.capacity) return false;
      const abort = new AbortController();
      const release = () => {
        if (running.get(assignment.jobId)?.abort !== abort) return;
        running.delete(assignment.jobId);
      };
      busy++;
      void o.run(assignment, abort.signal, release).then(
        (end) => end,
        (err: unknown): JobEnd => {
          o.logger.error({ err, jobId: assignment.jobId }, 'job runner failed');
          return { status: 'error', exitCode: null, reason: 'agent error' };
        },
      ).then((end) => {
        release();
        if (--busy === 0) for (const wake of waiters.splice(0)) wake();
        o.onEnded?.(assignment.jobId, end);
      });
      running.set(assignment.jobId, { abort });
      return true;
    },
    cancel(jobId, reason) {
      const job = running.get(jobId);
      if (!job || job.abort.signal.aborted) return false;
      job.abort.abort(reason);
      return true;
    },
    cancelAll(reason) {
      let n = 0;
      for (const jobId of running.keys()) if (this.cancel(jobId, reason)) n++;
      return n;
    },
    idle() {
      return busy === 0 ? Promise.resolve() : new Promise((resolve) => { waiters.push(resolve); });
    },
  };
}
