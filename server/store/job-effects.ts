// What must happen in the same transaction as any job status change: its steps, its lease, its run.

import { isFinal, runStatusFromJobs, type Status } from '../../shared/status.js';
import type { Sqlite } from './db.js';

/** Internal to the store: called inside the transaction that changed a job. */
export interface JobEffects {
  /** Recomputes the run's status from its jobs and stamps started_at / finished_at; true when its status changed. */
  syncRun(runId: number, now: number): boolean;
  /** Puts every step of the job back to `queued` (a new attempt starts from scratch). */
  resetSteps(jobId: number): void;
  /** Ends the job's open steps: queued ones are skipped, running ones take the job's final status. */
  closeSteps(jobId: number, jobStatus: Status, now: number): void;
  dropLease(jobId: number): void;
}

interface RunRow {
  status: Status;
  started_at: number | null;
  finished_at: number | null;
}

export function createJobEffects(db: Sqlite): JobEffects {
  const stmt = {
    jobStatuses: db.prepare<[number], { status: Status; allow_failure: number }>(
      'SELECT status, allow_failure FROM jobs WHERE run_id = ?',
    ),
    run: db.prepare<[number], RunRow>('SELECT status, started_at, finished_at FROM runs WHERE id = ?'),
    setRun: db.prepare<[Status, number | null, number | null, number]>(
      'UPDATE runs SET status = ?, started_at = ?, finished_at = ? WHERE id = ?',
    ),
    resetSteps: db.prepare<[number]>(
      `UPDATE steps SET status = 'queued', exit_code = NULL, started_at = NULL, finished_at = NULL WHERE job_id = ?`,
    ),
    skipQueuedSteps: db.prepare<[number, number]>(
      `UPDATE steps SET status = 'skipped', finished_at = ? WHERE job_id = ? AND status = 'queued'`,
    ),
    endRunningSteps: db.prepare<[Status, number, number]>(
      `UPDATE steps SET status = ?, finished_at = ? WHERE job_id = ? AND status = 'running'`,
    ),
    dropLease: db.prepare<[number]>('DELETE FROM leases WHERE job_id = ?'),
  };

  return {
    syncRun(runId, now) {
      const run = stmt.run.get(runId);
      if (!run) return false;
      const jobs = stmt.jobStatuses.all(runId).map((j) => ({ status: j.status, allowFailure: j.allow_failure !== 0 }));
      const status = runStatusFromJobs(jobs);
      const begun = status !== 'queued' && status !== 'blocked';
      const startedAt = run.started_at ?? (begun ? now : null);
      const finishedAt = isFinal(status) ? (run.finished_at ?? now) : null;
      // Most job changes leave the run as it is (a second job starting): no write then.
      if (status !== run.status || startedAt !== run.started_at || finishedAt !== run.finished_at) stmt.setRun.run(status, startedAt, finishedAt, runId);
      return status !== run.status;
    },
    resetSteps: (jobId) => void stmt.resetSteps.run(jobId),
    closeSteps(jobId, jobStatus, now) {
      stmt.skipQueuedSteps.run(now, jobId);
      stmt.endRunningSteps.run(isFinal(jobStatus) ? jobStatus : 'error', now, jobId);
    },
    dropLease: (jobId) => void stmt.dropLease.run(jobId),
  };
}
