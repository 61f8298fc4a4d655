// Jobs: status changes made by the server (block, approve, skip, cancel, error) and queue views.
// Changes that need an agent's lease (claim, complete, retry, release) live in leases.ts.

import { canTransition, isFinal, type Status } from '../../shared/status.js';
import type { When } from '../../shared/pipeline/types.js';
import type { Sqlite } from './db.js';
import type { JobEffects } from './job-effects.js';
import { toJob, toStep, type JobRow, type StepRow } from './job-rows.js';
import type { Clock, Job, JobState, JobWithSteps } from './types.js';

export interface JobChange {
  reason?: string | null;
  exitCode?: number | null;
}

/** A claimable job, as much as dispatch needs of it. */
export interface ReadyJob {
  id: number;
  runId: number;
  runsOn: string[];
  concurrency: string | null;
  readyAtMs: number;
}

export interface CancelledJob {
  jobId: number;
  agentId: number | null;   // the agent that was running it, to be told to stop
}

/**
 * Every change is one transaction that also recomputes the run's status. An illegal
 * transition (see shared/status.ts) changes nothing and returns false.
 */
export interface JobStore {
  getJob(id: number): Job | null;
  getJobWithSteps(id: number): JobWithSteps | null;
  listJobs(runId: number): Job[];
  /** What the scheduler needs of every job of a run, without the heavy columns. */
  listJobStates(runId: number): JobState[];
  /**
   * Server-side moves: queued → blocked | skipped | cancelled | error, blocked → queued (approve)
   * | skipped | cancelled | error, running → cancelled | error (drops the lease). Moves into or
   * out of `running` otherwise need the lease: use claimNextJob / completeJob / requeueJob.
   */
  setJobStatus(id: number, to: Status, change?: JobChange): boolean;
  /** Lets a `blocked` job go on: it becomes queued and claimable. False when it is not blocked. */
  approveJob(id: number, by?: { name: string; atMs: number }): boolean;
  /** Who approved the job and when (ms), or null. */
  approvalOf(id: number): { by: string; atMs: number } | null;
  /** A queued job whose needs are met becomes claimable. Approval jobs become ready only by approveJob. */
  markJobReady(id: number): boolean;
  /**
   * Cancels every job of the run that is not final, each with `reason` (default "cancelled"),
   * and records it as the run's cancel reason (the first one given stays).
   */
  cancelRun(runId: number, reason?: string): CancelledJob[];
  /** Queued and blocked jobs, claimable ones first in claim order (the job queue says what each waits for). */
  listQueuedJobs(): Job[];
  /** Claimable jobs (queued, ready) in claim order: what the job queue's ready index starts from. */
  listReadyJobs(): ReadyJob[];
  /** Concurrency groups a running job holds now. */
  listHeldGroups(): Set<string>;
  /** For each `environment:` name, the newest job that deployed to it successfully. */
  listLastDeployments(): Job[];
}

export function createJobStore(db: Sqlite, clock: Clock, effects: JobEffects): JobStore {
  const stmt = {
    approvedBy: db.prepare<[string, number, number]>('UPDATE jobs SET approved_by = ?, approved_at = ? WHERE id = ?'),
    approval: db.prepare<[number], { approved_by: string | null; approved_at: number | null }>('SELECT approved_by, approved_at FROM jobs WHERE id = ?'),
    byId: db.prepare<[number], JobRow>('SELECT * FROM jobs WHERE id = ?'),
    byRun: db.prepare<[number], JobRow>('SELECT * FROM jobs WHERE run_id = ? ORDER BY idx'),
    deployments: db.prepare<[], JobRow>(
      `SELECT * FROM jobs WHERE id IN (SELECT max(id) FROM jobs WHERE status = 'success'
         AND json_extract(plan, '$.environment') IS NOT NULL GROUP BY json_extract(plan, '$.environment'))
       ORDER BY json_extract(plan, '$.environment')`,
    ),
    states: db.prepare<[number], { id: number; name: string; status: Status; needs: string; ready: number; allow_failure: number; approval: number; when_json: string | null }>(
      `SELECT id, name, status, needs, ready_at IS NOT NULL AS ready, allow_failure, approval, json_extract(plan, '$.when') AS when_json
       FROM jobs WHERE run_id = ? ORDER BY idx`,
    ),
    steps: db.prepare<[number], StepRow>('SELECT * FROM steps WHERE job_id = ? ORDER BY idx'),
    readyJobs: db.prepare<[], { id: number; run_id: number; runs_on: string; concurrency: string | null; ready_at: number }>(
      `SELECT id, run_id, runs_on, concurrency, ready_at FROM jobs
       WHERE status = 'queued' AND ready_at IS NOT NULL ORDER BY ready_at, id`,
    ),
    heldGroups: db.prepare<[], string>(`SELECT DISTINCT concurrency FROM jobs WHERE status = 'running' AND concurrency IS NOT NULL`).pluck(),
    openInRun: db.prepare<[number], { id: number; agent_id: number | null }>(
      `SELECT j.id, l.agent_id FROM jobs j LEFT JOIN leases l ON l.job_id = j.id
       WHERE j.run_id = ? AND j.status IN ('queued','blocked','running') ORDER BY j.idx`,
    ),
    update: db.prepare(
      `UPDATE jobs SET status = @to, reason = coalesce(@reason, reason), exit_code = coalesce(@exitCode, exit_code),
         ready_at = @readyAt, finished_at = @finishedAt
       WHERE id = @id AND status = @from`,
    ),
    cancelReason: db.prepare<[string, number]>('UPDATE runs SET cancel_reason = ? WHERE id = ? AND cancel_reason IS NULL'),
    ready: db.prepare<[number, number]>(
      `UPDATE jobs SET ready_at = ? WHERE id = ? AND status = 'queued' AND ready_at IS NULL AND approval = 0`,
    ),
    queue: db.prepare<[], JobRow>(
      `SELECT * FROM jobs WHERE status IN ('queued','blocked') ORDER BY ready_at IS NULL, ready_at, id`,
    ),
  };

  function change(id: number, to: Status, { reason = null, exitCode = null }: JobChange, now: number): boolean {
    const row = stmt.byId.get(id);
    if (!row) return false;
    const from = row.status;
    const needsLease = to === 'running' || (from === 'running' && !['cancelled', 'error'].includes(to));
    if (needsLease || !canTransition(from, to)) return false;
    const readyAt = to === 'queued' ? now : to === 'blocked' ? null : row.ready_at;
    const finishedAt = isFinal(to) ? now : null;
    stmt.update.run({ id, from, to, reason, exitCode, readyAt, finishedAt });
    if (isFinal(to)) {
      effects.closeSteps(id, to, now);
      effects.dropLease(id);
    }
    effects.syncRun(row.run_id, now);
    return true;
  }

  const setStatus = db.transaction((id: number, to: Status, c: JobChange) => change(id, to, c, clock.now()));

  const cancel = db.transaction((runId: number, reason: string): CancelledJob[] => {
    const now = clock.now();
    const cancelled = stmt.openInRun.all(runId)
      .filter((j) => change(j.id, 'cancelled', { reason }, now))
      .map((j) => ({ jobId: j.id, agentId: j.agent_id }));
    if (cancelled.length > 0) stmt.cancelReason.run(reason, runId);
    return cancelled;
  });

  return {
    getJob: (id) => {
      const row = stmt.byId.get(id);
      return row ? toJob(row) : null;
    },
    getJobWithSteps: (id) => {
      const row = stmt.byId.get(id);
      return row ? { ...toJob(row), steps: stmt.steps.all(id).map(toStep) } : null;
    },
    listJobs: (runId) => stmt.byRun.all(runId).map(toJob),
    listJobStates: (runId) => stmt.states.all(runId).map((r) => ({
      id: r.id, name: r.name, status: r.status, needs: JSON.parse(r.needs) as string[], ready: r.ready === 1,
      allowFailure: r.allow_failure === 1, approval: r.approval === 1, when: r.when_json === null ? null : (JSON.parse(r.when_json) as When),
    })),
    setJobStatus: (id, to, c = {}) => setStatus.immediate(id, to, c),
    // Only `blocked` may move to `queued` here (running → queued is a retry and needs the lease).
    approveJob: (id, by) => {
      const moved = setStatus.immediate(id, 'queued', {});
      if (moved && by) stmt.approvedBy.run(by.name, by.atMs, id);
      return moved;
    },
    approvalOf: (id) => {
      const row = stmt.approval.get(id);
      return row && row.approved_by !== null ? { by: row.approved_by, atMs: row.approved_at ?? 0 } : null;
    },
    markJobReady: (id) => stmt.ready.run(clock.now(), id).changes === 1,
    cancelRun: (runId, reason) => cancel.immediate(runId, reason ?? 'cancelled'),
    listQueuedJobs: () => stmt.queue.all().map(toJob),
    listLastDeployments: () => stmt.deployments.all().map(toJob),
    listReadyJobs: () => stmt.readyJobs.all().map((r) => ({
      id: r.id, runId: r.run_id, runsOn: JSON.parse(r.runs_on) as string[], concurrency: r.concurrency, readyAtMs: r.ready_at,
    })),
    listHeldGroups: () => new Set(stmt.heldGroups.all()),
  };
}
