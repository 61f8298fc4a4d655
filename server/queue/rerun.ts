// Which jobs a re-run puts back in the queue, as a new attempt of the same run (GitHub's
// "re-run all jobs" / "re-run failed jobs" / "re-run this job", GitLab's retry): the chosen
// jobs and every job downstream of them, since what they needed runs again.
import { conflict } from '../../shared/errors.js';
import { isFinal } from '../../shared/status.js';
import type { JobState, Run } from '../store/index.js';

export type RerunChoice = { kind: 'all' } | { kind: 'failed' } | { kind: 'job'; jobId: number };

const REDO = new Set(['failed', 'cancelled', 'error']);
const SUCCEEDED = new Set(['success', 'skipped']);

/**
 * The ids of the jobs to run again, in plan order. Throws `conflict` with the reason when the
 * run has not ended, nothing failed, or the job's needs did not succeed (a re-run of the job
 * alone would be skipped again: its needs must be re-run with it).
 */
export function jobsToRerun(run: Pick<Run, 'id' | 'number' | 'repo' | 'status'>, jobs: readonly JobState[], choice: RerunChoice): number[] {
  const label = `run ${run.repo}#${run.number}`;
  if (!isFinal(run.status)) throw conflict(`${label} has not ended yet (${run.status}): cancel it, or wait for it to end`);
  let chosen: Set<string>;
  if (choice.kind === 'all') chosen = new Set(jobs.map((j) => j.name));
  else if (choice.kind === 'failed') {
    chosen = new Set(jobs.filter((j) => REDO.has(j.status)).map((j) => j.name));
    if (chosen.size === 0) throw conflict(`${label} has no failed, cancelled or errored jobs to re-run`);
  } else {
    const job = jobs.find((j) => j.id === choice.jobId);
    if (!job) throw conflict(`job ${choice.jobId} is not a job of ${label}`);
    const byName = new Map(jobs.map((j) => [j.name, j]));
    const unmet = job.needs.map((n) => byName.get(n)!).find((n) => !SUCCEEDED.has(n.status) && !(n.status === 'failed' && n.allowFailure));
    if (unmet) throw conflict(`job "${job.name}" needs "${unmet.name}", which ended ${unmet.status}: re-run "${unmet.name}" (its dependents run again with it), or the failed jobs`);
    chosen = new Set([job.name]);
  }
  // Jobs are in topological order: one pass carries the choice downstream.
  for (const job of jobs) if (job.needs.some((n) => chosen.has(n))) chosen.add(job.name);
  return jobs.filter((j) => chosen.has(j.name)).map((j) => j.id);
}
