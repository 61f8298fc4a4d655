// Attempts inside a run: a re-run (of the whole run, its failed jobs, or one job and what
// needs it) adds attempt N + 1 to the same run, after keeping what attempt N was.
//
//   run attempt N ended ──startAttempt(jobs)──▶ run_attempts keeps N (status, times, jobs)
//                                               job_attempts keeps each reset job's outcome in N
//                                               the jobs go back to queued (steps too), the run to queued
//                                               the scheduler then readies, blocks or skips them
import { isFinal, type Status } from '../../shared/status.js';
import type { Sqlite } from './db.js';
import type { JobEffects } from './job-effects.js';
import { toStep, type JobRow, type StepRow } from './job-rows.js';
import { iso, isoAlways, parseJson } from './rows.js';
import type { Clock, Job, JobAttempt, Run, RunAttempt, Step } from './types.js';

export interface AttemptStore {
  /**
   * Starts the next attempt of an ended run with the jobs named by id (the caller chose them:
   * every job, the failed ones and what needs them, or one job and what needs it). Returns the
   * new attempt's number; null when the run is unknown or has not ended, or no id is its job.
   */
  startAttempt(runId: number, jobIds: readonly number[]): number | null;
  /** Every attempt of the run, oldest first; the current one is read from the run itself. */
  listRunAttempts(runId: number): RunAttempt[];
  /** The kept outcomes of the run's jobs in earlier attempts, by job, oldest first. */
  listJobAttempts(runId: number): JobAttempt[];
}

interface RunAttemptRow {
  attempt: number; status: Status | null; jobs: string; created_at: number; started_at: number | null; finished_at: number | null;
}

interface JobAttemptRow {
  job_id: number; run_attempt: number; attempt: number; status: Status; exit_code: number | null; reason: string | null;
  agent: string | null; started_at: number | null; finished_at: number | null; steps: string;
}

export function createAttemptStore(db: Sqlite, clock: Clock, effects: JobEffects): AttemptStore {
  const stmt = {
    run: db.prepare<[number], { id: number; status: Status; attempt: number; created_at: number; started_at: number | null; finished_at: number | null }>(
      'SELECT id, status, attempt, created_at, started_at, finished_at FROM runs WHERE id = ?',
    ),
    jobs: db.prepare<[number], JobRow>('SELECT * FROM jobs WHERE run_id = ? ORDER BY idx'),
    steps: db.prepare<[number], StepRow>('SELECT * FROM steps WHERE job_id = ? ORDER BY idx'),
    keepFirst: db.prepare(
      `INSERT INTO run_attempts (run_id, attempt, status, jobs, created_at, started_at, finished_at)
       VALUES (@runId, 1, @status, @jobs, @createdAt, @startedAt, @finishedAt)`,
    ),
    closeCurrent: db.prepare(
      `UPDATE run_attempts SET status = @status, started_at = @startedAt, finished_at = @finishedAt
       WHERE run_id = @runId AND attempt = @attempt`,
    ),
    open: db.prepare(
      `INSERT INTO run_attempts (run_id, attempt, status, jobs, created_at) VALUES (@runId, @attempt, NULL, @jobs, @now)`,
    ),
    keepJob: db.prepare(
      `INSERT INTO job_attempts (job_id, run_attempt, attempt, status, exit_code, reason, agent, started_at, finished_at, steps)
       VALUES (@jobId, @runAttempt, @attempt, @status, @exitCode, @reason, @agent, @startedAt, @finishedAt, @steps)`,
    ),
    resetJob: db.prepare(
      `UPDATE jobs SET status = 'queued', reason = NULL, exit_code = NULL, ready_at = NULL, started_at = NULL,
         finished_at = NULL, queued_at = @now, run_attempt = @runAttempt,
         retries_left = coalesce(json_extract(plan, '$.retry'), 0)
       WHERE id = @id`,
    ),
    reopenRun: db.prepare<[number, number]>(
      'UPDATE runs SET attempt = ?, cancel_reason = NULL, started_at = NULL, finished_at = NULL WHERE id = ?',
    ),
    runAttempts: db.prepare<[number], RunAttemptRow>('SELECT * FROM run_attempts WHERE run_id = ? ORDER BY attempt'),
    jobAttempts: db.prepare<[number], JobAttemptRow>(
      `SELECT a.* FROM job_attempts a JOIN jobs j ON j.id = a.job_id WHERE j.run_id = ? ORDER BY j.idx, a.run_attempt`,
    ),
  };

  const start = db.transaction((runId: number, jobIds: readonly number[]): number | null => {
    const run = stmt.run.get(runId);
    if (!run || !isFinal(run.status)) return null;
    const jobs = stmt.jobs.all(runId);
    const chosen = jobs.filter((j) => jobIds.includes(j.id));
    if (chosen.length === 0) return null;
    const now = clock.now();
    const times = { status: run.status, startedAt: run.started_at, finishedAt: run.finished_at };
    if (run.attempt === 1) stmt.keepFirst.run({ runId, jobs: JSON.stringify(jobs.map((j) => j.name)), createdAt: run.created_at, ...times });
    else stmt.closeCurrent.run({ runId, attempt: run.attempt, ...times });
    const next = run.attempt + 1;
    stmt.open.run({ runId, attempt: next, jobs: JSON.stringify(chosen.map((j) => j.name)), now });
    for (const job of chosen) {
      stmt.keepJob.run({
        jobId: job.id, runAttempt: job.run_attempt, attempt: job.attempt, status: job.status, exitCode: job.exit_code,
        reason: job.reason, agent: job.agent, startedAt: job.started_at, finishedAt: job.finished_at,
        steps: JSON.stringify(stmt.steps.all(job.id)),
      });
      stmt.resetJob.run({ id: job.id, now, runAttempt: next });
      effects.resetSteps(job.id);
      effects.dropLease(job.id);
    }
    stmt.reopenRun.run(next, runId);
    effects.syncRun(runId, now);
    return next;
  });

  return {
    startAttempt: (runId, jobIds) => start.immediate(runId, jobIds),
    listRunAttempts(runId) {
      const run = stmt.run.get(runId);
      if (!run) return [];
      const kept = stmt.runAttempts.all(runId).map((r): RunAttempt => ({
        attempt: r.attempt, status: r.attempt === run.attempt ? run.status : (r.status ?? run.status), jobs: parseJson<string[]>(r.jobs),
        createdAt: isoAlways(r.created_at),
        startedAt: iso(r.attempt === run.attempt ? run.started_at : r.started_at),
        finishedAt: iso(r.attempt === run.attempt ? run.finished_at : r.finished_at),
      }));
      if (kept.length > 0) return kept;
      return [onlyAttempt({
        status: run.status, createdAt: isoAlways(run.created_at), startedAt: iso(run.started_at), finishedAt: iso(run.finished_at),
        jobs: stmt.jobs.all(runId),
      })];
    },
    listJobAttempts: (runId) => stmt.jobAttempts.all(runId).map((r) => ({
      jobId: r.job_id, runAttempt: r.run_attempt, attempt: r.attempt, status: r.status, exitCode: r.exit_code, reason: r.reason,
      agent: r.agent, startedAt: iso(r.started_at), finishedAt: iso(r.finished_at),
      steps: parseJson<StepRow[]>(r.steps).map(toStep),
    })),
  };
}

/** The attempt of a run never re-run: the run itself, with all its jobs. */
export function onlyAttempt(run: Pick<Run, 'status' | 'createdAt' | 'startedAt' | 'finishedAt'> & { jobs: ReadonlyArray<{ name: string }> }): RunAttempt {
  return { attempt: 1, status: run.status, jobs: run.jobs.map((j) => j.name), createdAt: run.createdAt, startedAt: run.startedAt, finishedAt: run.finishedAt };
}

/**
 * The run's jobs as they stood at the end of run attempt `attempt` (or now, for the current
 * one): a job that ran again later shows what it was then; one not re-run since shows itself.
 */
export function jobsAsOfAttempt<J extends Job & { steps: Step[] }>(jobs: readonly J[], kept: readonly JobAttempt[], attempt: number): J[] {
  return jobs.map((job) => {
    if (job.runAttempt <= attempt) return job;
    const then = kept.filter((k) => k.jobId === job.id && k.runAttempt <= attempt).at(-1);
    if (!then) return job;
    return {
      ...job, status: then.status, exitCode: then.exitCode, reason: then.reason, agent: then.agent, attempt: then.attempt,
      runAttempt: then.runAttempt, startedAt: then.startedAt, finishedAt: then.finishedAt, steps: then.steps,
    };
  });
}
