// The scheduler: after anything in a run changes, decides which of its waiting jobs become
// ready (needs done, `when` matches), wait for approval, or are skipped.
//
//   job waits (queued, not ready) ──needs all final──▶ when matches? ──no──▶ skipped
//                                                          │ yes
//                                                          ├─ approval ─▶ blocked ─approve─▶ ready
//                                                          └──────────────────────────────▶ ready (claimable)
import { whenMatches, type Outcome, type RunFacts } from '../../shared/pipeline/conditions.js';
import { isFinal, type Status } from '../../shared/status.js';
import type { When } from '../../shared/pipeline/types.js';
import type { JobState, Run, Store } from '../store/index.js';

export interface Decision {
  jobId: number;
  name: string;
  to: 'ready' | 'blocked' | 'skipped';
  reason: string | null;
}

/**
 * Moves every job of the run whose needs have all ended. Jobs are in topological order, so
 * one pass carries skips down the graph. Returns what it decided, for events and logs.
 * `summary`: the run as the caller just read it, if it did (it is read otherwise).
 */
export function advanceRun(store: Store, runId: number, summary: Run | null = store.runs.getRunSummary(runId)): Decision[] {
  if (!summary || isFinal(summary.status)) return [];
  const jobs = store.jobs.listJobStates(runId);
  const status = new Map<string, Status>(jobs.map((j) => [j.name, j.status]));
  const byName = new Map<string, JobState>(jobs.map((j) => [j.name, j]));
  const facts = factsOf(summary);
  const decisions: Decision[] = [];
  for (const job of jobs) {
    // Jobs without needs are made ready when the run is created, before their `when` was
    // judged: they are judged here too.
    const waiting = (job.status === 'queued' && !job.ready) || job.status === 'blocked' || (job.status === 'queued' && job.needs.length === 0);
    if (!waiting || !job.needs.every((n) => isFinal(status.get(n) ?? 'success'))) continue;
    const decision = decide(job, job.when, facts, job.needs.map((n) => byName.get(n)!).map((n) => ({ status: status.get(n.name)!, allowFailure: n.allowFailure })));
    if (decision.to === 'skipped') {
      if (store.jobs.setJobStatus(job.id, 'skipped', { reason: decision.reason })) status.set(job.name, 'skipped');
      else continue;
    } else if (decision.to === 'blocked') {
      // A queued job that needs approval and is ready was approved: it must not be blocked again.
      if (job.status === 'blocked' || job.ready || !store.jobs.setJobStatus(job.id, 'blocked', { reason: 'waiting for approval' })) continue;
    } else if (job.ready || !store.jobs.markJobReady(job.id)) continue;
    decisions.push({ jobId: job.id, name: job.name, ...decision });
  }
  return decisions;
}

function decide(job: JobState, when: When | null, facts: RunFacts, needs: Array<{ status: Status; allowFailure: boolean }>): Omit<Decision, 'jobId' | 'name'> {
  const failed = needs.some((n) => n.status === 'error' || n.status === 'cancelled' || (n.status === 'failed' && !n.allowFailure));
  const outcome: Outcome = failed ? 'failure' : 'success';
  const statuses = when?.status ?? ['success'];
  if (needs.some((n) => n.status === 'skipped') && !statuses.includes('always')) {
    return { to: 'skipped', reason: 'a job it needs was skipped' };
  }
  if (!whenMatches(when, facts, outcome)) {
    return { to: 'skipped', reason: failed && !statuses.includes('failure') ? 'a job it needs did not succeed' : 'its `when` does not match' };
  }
  return job.approval ? { to: 'blocked', reason: 'waiting for approval' } : { to: 'ready', reason: null };
}

export function factsOf(run: Pick<Run, 'event' | 'branch' | 'tag' | 'changedPaths'>): RunFacts {
  return { event: run.event, branch: run.branch, tag: run.tag, changedPaths: run.changedPaths };
}
