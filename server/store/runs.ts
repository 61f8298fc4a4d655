// Runs: one execution of a pipeline for one commit; created together with their planned jobs and steps.

import { badInput, notFound } from '../../shared/errors.js';
import { requiredLabels } from '../../shared/pipeline/labels.js';
import type { InputValue, Plan, PlannedJob } from '../../shared/pipeline/types.js';
import type { Status } from '../../shared/status.js';
import type { Sqlite } from './db.js';
import type { JobEffects } from './job-effects.js';
import { toJob, toStep, type JobRow, type StepRow } from './job-rows.js';
import { iso, isoAlways, parseJson, parseJsonOrNull } from './rows.js';
import type { Clock, PullRequestInfo, Run, RunDetail, RunEvent, Step } from './types.js';

export interface NewRun {
  repoId: number;
  event: RunEvent;
  ref: string | null;
  branch: string | null;
  tag: string | null;
  sha: string;
  message: string | null;
  env?: Record<string, string>;
  /** Checked input values (shared/pipeline/inputs.ts). */
  inputs?: Record<string, InputValue>;
  /** Who asked for a manual or API run. */
  triggeredBy?: string | null;
  /** Files the push changed (for `when.paths`); null when unknown. */
  changedPaths?: string[] | null;
  /** The run this one re-runs, if any. */
  rerunOf?: number | null;
  /** What a `pull_request` run was made for. */
  pullRequest?: PullRequestInfo | null;
  /** null: the pipeline did not validate; the run is stored as `error` with `error` as the reason. */
  plan: Plan | null;
  error?: string | null;
  /** Initial status per job name: `queued` (default), `blocked` or `skipped` (its `when` did not match). */
  jobStatuses?: Record<string, 'queued' | 'blocked' | 'skipped'>;
}

export interface ListRunsOptions {
  limit?: number;           // default 50
  before?: number;          // only runs with a smaller number (paging backwards)
}

/** Runs of a repo. `createRun` numbers the run and inserts its jobs and steps in one transaction. */
export interface RunStore {
  /**
   * Jobs start `queued`; a job with no needs is ready at once, except approval jobs, which
   * start `blocked` when they have no needs. Throws `not_found` for an unknown repo.
   */
  createRun(run: NewRun): RunDetail;
  /** The same, answering only the run's summary (the trigger path reads the detail once, later). */
  addRun(run: NewRun): Run;
  getRun(id: number): RunDetail | null;
  /** The run without its plan, jobs and steps (cheap, for events). */
  getRunSummary(id: number): Run | null;
  /** The `name:` of the run's pipeline; null when it has none, or no valid pipeline. Reads no job. */
  getPipelineName(id: number): string | null;
  getRunByNumber(repoId: number, number: number): RunDetail | null;
  /** Newest first. */
  listRuns(repoId: number, options?: ListRunsOptions): Run[];
  /** The id of the repo's newest run (0 when it has none): a mark for `listRunsAfter`. */
  newestRunId(repoId: number): number;
  /** The repo's runs with an id above `afterId`, oldest first, at most `limit` (default 500). */
  listRunsAfter(repoId: number, afterId: number, limit?: number): Run[];
  /** The newest run of each branch of the repo, newest first; pull-request runs are not a branch's. */
  listLastRunsByBranch(repoId: number): Run[];
  /** The newest run of the repo made by one of `events`, on `branch` (any branch or none when null); what a badge shows. */
  lastRunOf(repoId: number, branch: string | null, events: readonly RunEvent[]): Run | null;
  /** Runs of any repo that have not ended, oldest first (the server re-schedules them at start). */
  listUnfinishedRuns(): Run[];
  /** The repo's runs that have not ended, oldest first (what a new run may supersede). */
  listOpenRuns(repoId: number): Run[];
  /** Who asked for a manual or API run (null: an event started it, or nobody was recorded). */
  triggeredBy(id: number): string | null;
}

interface RunRow {
  id: number; repo_id: number; repo: string; number: number; status: Status; event: RunEvent;
  ref: string | null; branch: string | null; tag: string | null; sha: string; message: string | null;
  error: string | null; env: string; inputs: string; changed_paths: string | null; rerun_of: number | null; attempt: number; cancel_reason: string | null; created_at: number; started_at: number | null; finished_at: number | null;
  pr_number: number | null; pr_source_branch: string | null; pr_target_branch: string | null; pr_fork: number | null; triggered_by: string | null;
}

const RUN = `SELECT r.id, r.repo_id, p.name AS repo, r.number, r.status, r.event, r.ref, r.branch, r.tag, r.sha,
  r.message, r.error, r.env, r.inputs, r.changed_paths, r.rerun_of, r.attempt, r.cancel_reason, r.created_at, r.started_at, r.finished_at,
  r.pr_number, r.pr_source_branch, r.pr_target_branch, r.pr_fork, r.triggered_by FROM runs r JOIN repos p ON p.id = r.repo_id`;

function toRun(row: RunRow): Run {
  return {
    id: row.id, repoId: row.repo_id, repo: row.repo, number: row.number, status: row.status, event: row.event,
    ref: row.ref, branch: row.branch, tag: row.tag, sha: row.sha, message: row.message, error: row.error,
    env: parseJson<Record<string, string>>(row.env), inputs: parseJson<Record<string, InputValue>>(row.inputs),
    changedPaths: parseJsonOrNull<string[]>(row.changed_paths), rerunOf: row.rerun_of, attempt: row.attempt, cancelReason: row.cancel_reason,
    triggeredBy: row.triggered_by,
    pullRequest: row.pr_number === null ? null : {
      number: row.pr_number, sourceBranch: row.pr_source_branch ?? '', targetBranch: row.pr_target_branch ?? '', fromFork: row.pr_fork === 1,
    },
    createdAt: isoAlways(row.created_at), startedAt: iso(row.started_at), finishedAt: iso(row.finished_at),
  };
}

export function createRunStore(db: Sqlite, clock: Clock, effects: JobEffects): RunStore {
  const stmt = {
    triggeredBy: db.prepare<[number], string | null>('SELECT triggered_by FROM runs WHERE id = ?').pluck(),
    nextNumber: db.prepare<[number], { n: number }>(
      'UPDATE repos SET last_run_number = last_run_number + 1 WHERE id = ? RETURNING last_run_number AS n',
    ),
    insertRun: db.prepare(
      `INSERT INTO runs (repo_id, number, status, event, ref, branch, tag, sha, message, plan, error, env, inputs, changed_paths, rerun_of, created_at, finished_at,
         pr_number, pr_source_branch, pr_target_branch, pr_fork, triggered_by)
       VALUES (@repoId, @number, @status, @event, @ref, @branch, @tag, @sha, @message, @plan, @error, @env, @inputs, @changedPaths, @rerunOf, @now, @finishedAt,
         @prNumber, @prSource, @prTarget, @prFork, @triggeredBy)`,
    ),
    insertJob: db.prepare(
      `INSERT INTO jobs (run_id, idx, name, status, needs, plan, runs_on, concurrency, allow_failure, approval,
         retries_left, queued_at, ready_at, finished_at)
       VALUES (@runId, @idx, @name, @status, @needs, @plan, @runsOn, @concurrency, @allowFailure, @approval,
         @retriesLeft, @now, @readyAt, @finishedAt)`,
    ),
    insertStep: db.prepare<[number, number, string, Status, number | null]>(
      'INSERT INTO steps (job_id, idx, name, status, finished_at) VALUES (?, ?, ?, ?, ?)',
    ),
    byId: db.prepare<[number], RunRow>(`${RUN} WHERE r.id = ?`),
    byNumber: db.prepare<[number, number], RunRow>(`${RUN} WHERE r.repo_id = ? AND r.number = ?`),
    plan: db.prepare<[number], { plan: string | null }>('SELECT plan FROM runs WHERE id = ?'),
    pipelineName: db.prepare<[number], string | null>(`SELECT json_extract(plan, '$.name') FROM runs WHERE id = ?`).pluck(),
    jobs: db.prepare<[number], JobRow>('SELECT * FROM jobs WHERE run_id = ? ORDER BY idx'),
    steps: db.prepare<[number], StepRow>(
      'SELECT s.* FROM steps s JOIN jobs j ON j.id = s.job_id WHERE j.run_id = ? ORDER BY s.job_id, s.idx',
    ),
    // (repo_id, number) is unique, hence indexed; a repo's numbers grow with its ids.
    newest: db.prepare<[number], number>('SELECT id FROM runs WHERE repo_id = ? ORDER BY number DESC LIMIT 1').pluck(),
    after: db.prepare<[number, number, number], RunRow>(`${RUN} WHERE r.repo_id = ? AND r.id > ? ORDER BY r.id LIMIT ?`),
    list: db.prepare<[number, number, number], RunRow>(
      `${RUN} WHERE r.repo_id = ? AND r.number < ? ORDER BY r.number DESC LIMIT ?`,
    ),
    unfinished: db.prepare<[], RunRow>(
      `${RUN} WHERE r.status NOT IN ('success','failed','cancelled','skipped','error') ORDER BY r.id`,
    ),
    open: db.prepare<[number], RunRow>(
      `${RUN} WHERE r.repo_id = ? AND r.status IN ('queued','blocked','running') ORDER BY r.number`,
    ),
    lastByBranch: db.prepare<[number], RunRow>(
      // Pull-request runs are left out: a branch's status is its own, not that of a pull request
      // from it (or from a fork's branch of the same name).
      `${RUN} WHERE r.repo_id = ? AND r.branch IS NOT NULL AND r.event <> 'pull_request'
         AND r.number = (SELECT MAX(number) FROM runs y WHERE y.repo_id = r.repo_id AND y.branch = r.branch AND y.event <> 'pull_request')
       ORDER BY r.number DESC`,
    ),
    lastOf: db.prepare<[number, string | null, string | null, string], RunRow>(
      `${RUN} WHERE r.repo_id = ? AND (? IS NULL OR r.branch = ?) AND r.event IN (SELECT value FROM json_each(?))
       ORDER BY r.number DESC LIMIT 1`,
    ),
  };

  function insertJob(runId: number, idx: number, job: PlannedJob, status: Status, now: number): void {
    const ready = status === 'queued' && job.needs.length === 0 && !job.approval;
    const { lastInsertRowid } = stmt.insertJob.run({
      runId, idx, name: job.name, status, now,
      needs: JSON.stringify(job.needs), plan: JSON.stringify(job), runsOn: JSON.stringify(requiredLabels(job)),
      concurrency: job.concurrency, allowFailure: job.allowFailure ? 1 : 0, approval: job.approval ? 1 : 0,
      retriesLeft: job.retry, readyAt: ready ? now : null, finishedAt: status === 'skipped' ? now : null,
    });
    const stepStatus: Status = status === 'skipped' ? 'skipped' : 'queued';
    job.steps.forEach((step, i) => {
      stmt.insertStep.run(Number(lastInsertRowid), i, step.name, stepStatus, status === 'skipped' ? now : null);
    });
  }

  function initialStatus(run: NewRun, job: PlannedJob): Status {
    const given = run.jobStatuses?.[job.name];
    if (given) return given;
    return job.approval && job.needs.length === 0 ? 'blocked' : 'queued';
  }

  const create = db.transaction((run: NewRun): number => {
    const now = clock.now();
    const counter = stmt.nextNumber.get(run.repoId);
    if (!counter) throw notFound(`repo ${run.repoId} not found`);
    if (run.plan === null && !run.error) throw badInput('a run without a plan needs an error');
    const { lastInsertRowid } = stmt.insertRun.run({
      repoId: run.repoId, number: counter.n, status: run.plan ? 'queued' : 'error', event: run.event,
      ref: run.ref, branch: run.branch, tag: run.tag, sha: run.sha, message: run.message,
      plan: run.plan ? JSON.stringify(run.plan) : null, error: run.error ?? null,
      env: JSON.stringify(run.env ?? {}), inputs: JSON.stringify(run.inputs ?? {}), changedPaths: run.changedPaths ? JSON.stringify(run.changedPaths) : null,
      rerunOf: run.rerunOf ?? null, now, finishedAt: run.plan ? null : now,
      prNumber: run.pullRequest?.number ?? null, prSource: run.pullRequest?.sourceBranch ?? null,
      prTarget: run.pullRequest?.targetBranch ?? null, prFork: run.pullRequest ? (run.pullRequest.fromFork ? 1 : 0) : null,
      triggeredBy: run.triggeredBy ?? null,
    });
    const runId = Number(lastInsertRowid);
    if (run.plan) {
      run.plan.jobs.forEach((job, idx) => insertJob(runId, idx, job, initialStatus(run, job), now));
      effects.syncRun(runId, now);
    }
    return runId;
  });

  function detail(row: RunRow | undefined): RunDetail | null {
    if (!row) return null;
    const stepsByJob = new Map<number, Step[]>();
    for (const s of stmt.steps.all(row.id)) {
      const list = stepsByJob.get(s.job_id) ?? [];
      list.push(toStep(s));
      stepsByJob.set(s.job_id, list);
    }
    const jobs = stmt.jobs.all(row.id).map((j) => ({ ...toJob(j), steps: stepsByJob.get(j.id) ?? [] }));
    // The plan (the biggest column, and immutable) is read and parsed only when asked for: the
    // API's views of a run do not show it.
    let plan: Plan | null | undefined;
    const detail = { ...toRun(row), jobs } as Omit<RunDetail, 'plan'> as RunDetail;
    return Object.defineProperty(detail, 'plan', { enumerable: true, get: () => (plan === undefined ? (plan = parseJsonOrNull<Plan>(stmt.plan.get(row.id)?.plan ?? null)) : plan) });
  }

  return {
    createRun: (run) => detail(stmt.byId.get(create.immediate(run)))!,
    addRun: (run) => toRun(stmt.byId.get(create.immediate(run))!),
    getRun: (id) => detail(stmt.byId.get(id)),
    getRunByNumber: (repoId, number) => detail(stmt.byNumber.get(repoId, number)),
    listRuns: (repoId, { limit = 50, before = Number.MAX_SAFE_INTEGER } = {}) =>
      stmt.list.all(repoId, before, limit).map(toRun),
    newestRunId: (repoId) => stmt.newest.get(repoId) ?? 0,
    listRunsAfter: (repoId, afterId, limit = 500) => stmt.after.all(repoId, afterId, limit).map(toRun),
    listLastRunsByBranch: (repoId) => stmt.lastByBranch.all(repoId).map(toRun),
    lastRunOf: (repoId, branch, events) => {
      const row = stmt.lastOf.get(repoId, branch, branch, JSON.stringify(events));
      return row ? toRun(row) : null;
    },
    getRunSummary: (id) => {
      const row = stmt.byId.get(id);
      return row ? toRun(row) : null;
    },
    listUnfinishedRuns: () => stmt.unfinished.all().map(toRun),
    listOpenRuns: (repoId) => stmt.open.all(repoId).map(toRun),
    triggeredBy: (id) => stmt.triggeredBy.get(id) ?? null,
    getPipelineName: (id) => {
      const name = stmt.pipelineName.get(id);
      return typeof name === 'string' ? name : null;
    },
  };
}
