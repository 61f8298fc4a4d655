// What the API and the dashboard can ask of the server: start, cancel, re-run and approve
// runs, register repos, read the queue. A facade: the job queue owns the lifecycle, the
// triggers own repos and runs' creation.
import type { Logger } from 'pino';
import { conflict, notFound } from '../shared/errors.js';
import { isFinal } from '../shared/status.js';
import type { Plan } from '../shared/pipeline/types.js';
import type { JobQueue } from './queue/job-queue.js';
import type { Job, QueuedJob, Repo, Run, RunDetail, Store } from './store/index.js';
import { createApiTrigger } from './triggers/api-trigger.js';
import type { RepoInput, RepoTriggers } from './triggers/repos.js';
import type { RepoSettingsInput } from './store/repos.js';
import type { HookEvent } from './hooks/payloads.js';
import { createHookTrigger } from './triggers/hook-trigger.js';
import type { RunStarter } from './triggers/run-starter.js';

export interface PoolsView {
  pools(): unknown[];
}

export interface KilnServiceOptions {
  store: Store;
  queue: JobQueue;
  starter: RunStarter;
  triggers: RepoTriggers;
  pools?: PoolsView;
  logger: Logger;
}

export interface QueueEntry {
  job: QueuedJob;
  repo: string;
  runNumber: number;
  reason: string;
}

export interface KilnService {
  registerRepo(input: RepoInput): Promise<Repo>;
  /** Acts on a recorded webhook delivery, in the background (the hook's answer does not wait). */
  receiveHook(repo: Repo, deliveryRow: number, events: HookEvent[]): void;
  /** Changes a remote repo's settings; a new poll interval applies at once. */
  updateRepo(repoId: number, settings: RepoSettingsInput): Repo;
  triggerRun(repoName: string, request: { ref?: string; sha?: string; env?: Record<string, string>; event: 'api' | 'manual' }): Promise<RunDetail>;
  cancelRun(runId: number): RunDetail;
  rerun(runId: number, failedOnly: boolean): Promise<RunDetail>;
  approveJob(jobId: number): Job;
  queue(): QueueEntry[];
  pools(): unknown[];
}

export function createKilnService(options: KilnServiceOptions): KilnService {
  const { store, queue, starter, triggers } = options;
  const apiTrigger = createApiTrigger({ store, starter, triggers });
  const hooks = createHookTrigger({ store, starter, triggers, logger: options.logger });

  return {
    registerRepo: (input) => triggers.register(input),
    receiveHook: (repo, deliveryRow, events) => void hooks.handle(repo, deliveryRow, events),
    updateRepo(repoId, settings) {
      const repo = store.repos.updateSettings(repoId, settings);
      // Its poller reads the interval and credentials before each poll: nothing to restart.
      if (!repo) throw notFound(`no repo ${repoId}`);
      return repo;
    },
    triggerRun: (repoName, request) => apiTrigger.trigger(repoName, request),
    cancelRun(runId) {
      const run = store.runs.getRun(runId);
      if (!run) throw notFound(`no run ${runId}`);
      if (isFinal(run.status)) throw conflict(`run ${runId} has already ended (${run.status})`);
      queue.cancelRun(runId);
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
        pullRequest: run.pullRequest, // a fork's re-run gets no secrets either
      });
      return store.runs.getRun(created!.id)!;
    },
    approveJob: (jobId) => queue.approveJob(jobId),
    queue() {
      const runJobs = new Map<number, Job[]>();
      const runs = new Map<number, Run | null>();
      return queue.queued().map((job) => {
        if (!runs.has(job.runId)) runs.set(job.runId, store.runs.getRunSummary(job.runId));
        const run = runs.get(job.runId)!;
        return { job, repo: run?.repo ?? '', runNumber: run?.number ?? 0, reason: queue.explain(job, runJobs) };
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
