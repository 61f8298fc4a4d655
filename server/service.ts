// What the API and the dashboard can ask of the server: start, cancel, re-run and approve
// runs, register repos, read the queue. One place that keeps the scheduler, the event bus
// and the dispatcher in step after every change.
import { conflict, notFound } from '../shared/errors.js';
import { isFinal } from '../shared/status.js';
import type { Plan } from '../shared/pipeline/types.js';
import type { EventBus } from './events.js';
import type { Hub } from './hub/hub.js';
import { advanceRun } from './queue/scheduler.js';
import type { Job, QueuedJob, Repo, RunDetail, Store } from './store/index.js';
import { createApiTrigger } from './triggers/api-trigger.js';
import type { RepoTriggers } from './triggers/repos.js';
import type { RunStarter } from './triggers/run-starter.js';

export interface PoolsView {
  pools(): unknown[];
  waitReason(job: QueuedJob): string | null;
}

export interface KilnServiceOptions {
  store: Store;
  bus: EventBus;
  hub: Hub;
  starter: RunStarter;
  triggers: RepoTriggers;
  pools?: PoolsView;
}

export interface QueueEntry {
  job: QueuedJob;
  repo: string;
  runNumber: number;
  reason: string;
}

export interface KilnService {
  registerRepo(input: { name: string; path?: string; url?: string }): Promise<Repo>;
  triggerRun(repoName: string, request: { ref?: string; sha?: string; env?: Record<string, string>; event: 'api' | 'manual' }): Promise<RunDetail>;
  cancelRun(runId: number): RunDetail;
  rerun(runId: number, failedOnly: boolean): Promise<RunDetail>;
  approveJob(jobId: number): Job;
  queue(): QueueEntry[];
  pools(): unknown[];
  /**
   * After any change to a run: schedule what can go on, tell watchers, hand out work.
   * `jobIds` are the jobs that changed (default: all of them, e.g. for a new run).
   */
  runChanged(runId: number, jobIds?: readonly number[]): void;
}

export function createKilnService(options: KilnServiceOptions): KilnService {
  const { store, bus, hub, starter, triggers } = options;
  const apiTrigger = createApiTrigger({ store, starter, triggers });

  // Why only the changed jobs are published: a 250-job run would otherwise send 250 events
  // for each of its jobs that ends.
  const runChanged = (runId: number, jobIds?: readonly number[]) => {
    const decisions = advanceRun(store, runId);
    const run = store.runs.getRunSummary(runId);
    if (!run) return;
    bus.publish({ type: 'run', run });
    const changed = jobIds === undefined ? store.jobs.listJobs(runId) : [...new Set([...jobIds, ...decisions.map((d) => d.jobId)])].map((id) => store.jobs.getJob(id));
    for (const job of changed) if (job) bus.publish({ type: 'job', job });
    bus.publish({ type: 'queue' });
    hub.dispatch();
  };

  const repoNamed = (name: string): Repo => {
    const repo = store.repos.getRepoByName(name);
    if (!repo) throw notFound(`no repo named ${name}`);
    return repo;
  };

  const waitReason = (job: QueuedJob, byId: Map<number, Job[]>): string => {
    if (job.status === 'blocked') return 'waiting for approval';
    if (job.waiting === 'needs') {
      const jobs = byId.get(job.runId) ?? store.jobs.listJobs(job.runId);
      byId.set(job.runId, jobs);
      const open = jobs.filter((j) => job.needs.includes(j.name) && !isFinal(j.status)).map((j) => j.name);
      return `waiting for ${open.length === 1 ? 'a job it needs' : 'jobs it needs'}: ${open.join(', ')}`;
    }
    if (job.waiting === 'approval') return 'waiting for approval';
    if (job.waiting === 'concurrency') return `waiting for concurrency group "${job.concurrency}": another job holds it`;
    const fromPools = options.pools?.waitReason(job);
    if (fromPools) return fromPools;
    const matching = hub.sessions().filter((s) => job.runsOn.every((l) => s.labels.includes(l)));
    if (matching.length === 0) return `no connected agent has the labels [${job.runsOn.join(', ')}]`;
    return `all ${matching.length} agent${matching.length === 1 ? '' : 's'} with these labels are busy`;
  };

  return {
    runChanged,
    registerRepo: (input) => triggers.register(input),
    triggerRun: (repoName, request) => apiTrigger.trigger(repoName, request),
    cancelRun(runId) {
      const run = store.runs.getRun(runId);
      if (!run) throw notFound(`no run ${runId}`);
      if (isFinal(run.status)) throw conflict(`run ${runId} has already ended (${run.status})`);
      hub.cancel(store.jobs.cancelRun(runId, 'cancelled'));
      runChanged(runId, undefined);
      return store.runs.getRun(runId)!;
    },
    async rerun(runId, failedOnly) {
      const run = store.runs.getRun(runId);
      if (!run) throw notFound(`no run ${runId}`);
      if (!run.plan) throw conflict(`run ${runId} has no valid pipeline to re-run`);
      if (failedOnly && !isFinal(run.status)) throw conflict(`run ${runId} has not ended yet`);
      const plan = failedOnly ? failedPart(run.plan, run) : run.plan;
      if (plan.jobs.length === 0) throw conflict(`run ${runId} has no failed jobs`);
      const repo = store.repos.getRepo(run.repoId)!;
      const created = await starter.startRun(repo, {
        event: run.event, ref: run.ref, sha: run.sha, changedPaths: run.changedPaths, env: run.env, rerunOf: run.id, plan,
      });
      return store.runs.getRun(created!.id)!;
    },
    approveJob(jobId) {
      const job = store.jobs.getJob(jobId);
      if (!job) throw notFound(`no job ${jobId}`);
      if (!store.jobs.approveJob(jobId)) throw conflict(`job ${jobId} is ${job.status}, not blocked`);
      runChanged(job.runId, [jobId]);
      return store.jobs.getJob(jobId)!;
    },
    queue() {
      const byRun = new Map<number, Job[]>();
      const runs = new Map<number, RunDetail | null>();
      return store.jobs.listQueuedJobs().map((job) => {
        if (!runs.has(job.runId)) runs.set(job.runId, store.runs.getRun(job.runId));
        const run = runs.get(job.runId)!;
        return { job, repo: run?.repo ?? '', runNumber: run?.number ?? 0, reason: waitReason(job, byRun) };
      });
    },
    pools: () => options.pools?.pools() ?? [],
  };
}

/** The failed, cancelled or errored jobs of a run and everything downstream of them. */
function failedPart(plan: Plan, run: RunDetail): Plan {
  const redo = new Set(run.jobs.filter((j) => ['failed', 'cancelled', 'error'].includes(j.status)).map((j) => j.name));
  for (const job of plan.jobs) if (job.needs.some((n) => redo.has(n))) redo.add(job.name);
  const jobs = plan.jobs.filter((j) => redo.has(j.name)).map((j) => ({ ...j, needs: j.needs.filter((n) => redo.has(n)) }));
  const stages = plan.stages.map((s) => s.filter((n) => redo.has(n))).filter((s) => s.length > 0);
  return { ...plan, jobs, stages };
}
