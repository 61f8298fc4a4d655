// What the API and the dashboard can ask of the server: start, cancel, re-run and approve
// runs, register repos, read the queue. A facade: the job queue owns the lifecycle, the
// triggers own repos and runs' creation.
import type { Logger } from 'pino';
import { conflict, KilnError, notFound } from '../shared/errors.js';
import { approvalRefusal } from './access/approval.js';
import { nameOf, type Principal } from './access/principal.js';
import { isFinal } from '../shared/status.js';
import type { PlannedInput } from '../shared/pipeline/types.js';
import type { JobQueue } from './queue/job-queue.js';
import type { Job, QueuedJob, Repo, Run, RunDetail, Store } from './store/index.js';
import { createApiTrigger, type TriggerRequest } from './triggers/api-trigger.js';
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
  /** `server.private`: whether anonymous callers count as readers (for approval checks). */
  private?: boolean;
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
  triggerRun(repoName: string, request: TriggerRequest): Promise<RunDetail>;
  /** What the run form asks for: the inputs declared at the head of the default branch. */
  runInputs(repoName: string): Promise<PlannedInput[]>;
  cancelRun(runId: number): RunDetail;
  /** A new attempt of the same run: every job, or the failed ones, with what needs them. */
  rerun(runId: number, failedOnly: boolean): RunDetail;
  /** A new attempt of the job's run with the job and what needs it. */
  retryJob(jobId: number): RunDetail;
  /** Lets a blocked job go on, when `by` may approve it (server/access/approval.ts); records who and when. */
  approveJob(jobId: number, by: Principal): Job;
  queue(): QueueEntry[];
  /** Why each waiting job of one run waits (the same words as queue()), explaining only that run's jobs. */
  waitReasons(runId: number): Map<number, string>;
  pools(): unknown[];
  /** The text of `path` at commit `sha` of the repo (read from its mirror), or null when there is no such file. */
  fileAt(repoName: string, sha: string, path: string): Promise<string | null>;
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
    runInputs: (repoName) => apiTrigger.inputsOf(repoName),
    cancelRun(runId) {
      const run = store.runs.getRun(runId);
      if (!run) throw notFound(`no run ${runId}`);
      if (isFinal(run.status)) throw conflict(`run ${runId} has already ended (${run.status})`);
      queue.cancelRun(runId);
      return store.runs.getRun(runId)!;
    },
    rerun(runId, failedOnly) {
      queue.rerun(runId, failedOnly ? { kind: 'failed' } : { kind: 'all' });
      return store.runs.getRun(runId)!;
    },
    retryJob(jobId) {
      const job = store.jobs.getJob(jobId);
      if (!job) throw notFound(`no job ${jobId}`);
      queue.rerun(job.runId, { kind: 'job', jobId });
      return store.runs.getRun(job.runId)!;
    },
    approveJob(jobId, by) {
      const job = store.jobs.getJob(jobId);
      if (!job) throw notFound(`no job ${jobId}`);
      const run = store.runs.getRunSummary(job.runId);
      const refused = approvalRefusal(by, job, run?.repo ?? '', store.runs.triggeredBy(job.runId), options.private ?? false);
      if (refused) throw new KilnError('forbidden', refused);
      return queue.approveJob(jobId, nameOf(by));
    },
    queue() {
      const runJobs = new Map<number, Job[]>();
      const runs = new Map<number, Run | null>();
      return queue.queued().map((job) => {
        if (!runs.has(job.runId)) runs.set(job.runId, store.runs.getRunSummary(job.runId));
        const run = runs.get(job.runId)!;
        return { job, repo: run?.repo ?? '', runNumber: run?.number ?? 0, reason: queue.explain(job, runJobs) };
      });
    },
    waitReasons(runId) {
      const runJobs = new Map<number, Job[]>();
      return new Map(queue.queued().filter((job) => job.runId === runId).map((job) => [job.id, queue.explain(job, runJobs)]));
    },
    pools: () => options.pools?.pools() ?? [],
    async fileAt(repoName, sha, path) {
      const repo = store.repos.getRepoByName(repoName);
      if (!repo) throw notFound(`no repo named ${repoName}`);
      const mirror = triggers.mirror(repo);
      const file = await mirror.fileAt(sha, path);
      return file ? mirror.blobText(file.oid) : null;
    },
  };
}
