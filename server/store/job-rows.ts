// How job and step rows become domain objects; shared by runs, jobs and leases.

import type { PlannedJob } from '../../shared/pipeline/types.js';
import type { Status } from '../../shared/status.js';
import { bool, iso, isoAlways, parseJson } from './rows.js';
import type { Job, Step } from './types.js';

export interface JobRow {
  id: number;
  run_id: number;
  idx: number;
  name: string;
  status: Status;
  needs: string;
  plan: string;
  runs_on: string;
  concurrency: string | null;
  allow_failure: number;
  approval: number;
  agent: string | null;
  attempt: number;
  run_attempt: number;
  retries_left: number;
  exit_code: number | null;
  reason: string | null;
  queued_at: number;
  ready_at: number | null;
  started_at: number | null;
  finished_at: number | null;
}

export interface StepRow {
  job_id: number;
  idx: number;
  name: string;
  status: Status;
  exit_code: number | null;
  started_at: number | null;
  finished_at: number | null;
}

/** The plan (the biggest column) is parsed only when read: the scheduler and the queue rarely need it. */
export function toJob(row: JobRow): Job {
  let plan: PlannedJob | undefined;
  const job = {
    id: row.id,
    runId: row.run_id,
    idx: row.idx,
    name: row.name,
    status: row.status,
    needs: parseJson<string[]>(row.needs),
    runsOn: parseJson<string[]>(row.runs_on),
    concurrency: row.concurrency,
    allowFailure: bool(row.allow_failure),
    approval: bool(row.approval),
    agent: row.agent,
    attempt: row.attempt,
    runAttempt: row.run_attempt,
    retriesLeft: row.retries_left,
    exitCode: row.exit_code,
    reason: row.reason,
    queuedAt: isoAlways(row.queued_at),
    readyAt: iso(row.ready_at),
    startedAt: iso(row.started_at),
    finishedAt: iso(row.finished_at),
  } as Job;
  return Object.defineProperty(job, 'plan', { enumerable: true, get: () => (plan ??= parseJson<PlannedJob>(row.plan)) });
}

export function toStep(row: StepRow): Step {
  return {
    jobId: row.job_id,
    idx: row.idx,
    name: row.name,
    status: row.status,
    exitCode: row.exit_code,
    startedAt: iso(row.started_at),
    finishedAt: iso(row.finished_at),
  };
}
