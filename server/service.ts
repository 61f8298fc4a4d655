// What the API and the dashboard can ask of the server: start, cancel, re-run and approve
// runs, register repos, read the queue. A facade: the job queue owns the lifecycle, the
// triggers own repos and runs' creation.
import { badInput, conflict, KilnError, notFound } from '../shared/errors.js';
import { isFinal } from '../shared/status.js';
import type { Plan } from '../shared/pipeline/types.js';
import { resolveRef } from './git/read.js';
import type { JobQueue } from './queue/job-queue.js';
import type { Job, QueuedJob, Repo, Run, RunDetail, Store } from './store/index.js';
import type { RepoTriggers } from './triggers/repos.js';
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
}

export function createKilnService(options: KilnServiceOptions): KilnService {
  const { store, queue, starter, triggers } = options;

  const repoNamed = (name: string): Repo => {
    const repo = store.repos.getRepoByName(name);
    if (!repo) throw notFound(`no repo named ${name}`);
    return repo;
  };

  return {
    registerRepo: (input) => triggers.register(input),
    async triggerRun(repoName, request) {
      const repo = repoNamed(repoName);
      const mirror = triggers.mirrorDir(repo);
      await triggers.sync(repo).catch(() => undefined); // pick up the newest commits first
      const ref = request.ref ? (request.ref.startsWith('refs/') ? request.ref : await qualify(mirror, request.ref)) : `refs/heads/${repo.defaultBranch}`;
      const sha = request.sha ?? (await resolveRef(mirror, ref));
      if (request.sha) await resolveRef(mirror, request.sha);
      const run = await starter.startRun(repo, { event: request.event, ref, sha, changedPaths: null, env: request.env ?? {} });
      if (!run) throw conflict('the pipeline does not allow this run');
      return store.runs.getRun(run.id)!;
    },
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

/** `main` → `refs/heads/main`, or `refs/tags/main` when only a tag has that name. */
async function qualify(mirror: string, ref: string): Promise<string> {
  for (const full of [`refs/heads/${ref}`, `refs/tags/${ref}`]) {
    if (await resolveRef(mirror, full).then(() => true, () => false)) return full;
  }
  if (/^[0-9a-f]{7,40}$/.test(ref)) throw badInput(`give a commit as "sha", not "ref": ${ref}`);
  throw new KilnError('not_found', `no branch or tag named ${ref}`);
}

/** The failed, cancelled or errored jobs of a run and everything downstream of them. */
function failedPart(plan: Plan, run: RunDetail): Plan {
  const redo = new Set(run.jobs.filter((j) => ['failed', 'cancelled', 'error'].includes(j.status)).map((j) => j.name));
  for (const job of plan.jobs) if (job.needs.some((n) => redo.has(n))) redo.add(job.name);
  const jobs = plan.jobs.filter((j) => redo.has(j.name)).map((j) => ({ ...j, needs: j.needs.filter((n) => redo.has(n)) }));
  const stages = plan.stages.map((s) => s.filter((n) => redo.has(n))).filter((s) => s.length > 0);
  return { ...plan, jobs, stages };
}
