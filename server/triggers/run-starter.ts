// Turns an event on a commit into a run: reads pipeline.yml at that exact commit from the
// mirror (through its long-lived reader), validates it (once per blob), applies `on:` and
// creates the run with its jobs.
import type { Logger } from 'pino';
import { KilnError } from '../../shared/errors.js';
import { skipCiMarker, skipsEvent, triggerMatches } from '../../shared/pipeline/conditions.js';
import { defaultInputs, planWithInputs, resolveInputs } from '../../shared/pipeline/inputs.js';
import type { InputValue, Plan } from '../../shared/pipeline/types.js';
import type { Mirrors } from '../git/mirror.js';
import type { PullRequestInfo, Repo, Run, RunEvent, Store } from '../store/index.js';
import { createPlanCache, PIPELINE_FILE, type PlanCache, type PlanOutcome } from './plan-cache.js';

export { PIPELINE_FILE } from './plan-cache.js';

export interface RunRequest {
  event: RunEvent;
  ref: string | null;          // refs/heads/main, refs/tags/v1, a pull request's (refs/pull/3/head), or null
  sha: string;
  /** A `pull_request` run's number and branches; its `branch` is the source branch. */
  pullRequest?: PullRequestInfo | null;
  changedPaths: string[] | null;
  env?: Record<string, string>;
  /** Manual and API runs: the values given for `on.manual.inputs` (checked here). */
  inputs?: Record<string, InputValue>;
  rerunOf?: number | null;
  /** The user (or token kind) who asked for a manual or API run; recorded on the run. */
  triggeredBy?: string | null;
  /** Apply the pipeline's `on:` (push, tag, cron); manual and API runs check `on.manual` only. */
  plan?: Plan;                 // re-runs reuse the first run's plan
}

export interface RunStarterOptions {
  store: Store;
  logger: Logger;
  mirrors: Mirrors;
  mirrorDir(repo: Repo): string;
  /** Called with every run created, so the scheduler and the dispatcher can move it on. */
  onRunCreated(run: Run): void;
  /** Default: a new cache of 256 blobs. */
  plans?: PlanCache;
}

export interface RunStarter {
  /**
   * Creates the run, or resolves null when the pipeline's `on:` does not take this push, tag,
   * pull request or schedule, when a push's or pull request's head commit says `[skip ci]`
   * (see skipCiMarker; re-runs ignore it), or when the commit has no pipeline.yml. A pipeline
   * that does not validate gives a run with status `error` whose error holds every problem.
   * Manual and API requests that the pipeline refuses throw `conflict`; inputs that do not fit
   * its `on.manual.inputs` throw `bad_input` (and nothing is created). Other events get the defaults.
   */
  startRun(repo: Repo, request: RunRequest): Promise<Run | null>;
  /**
   * The pipeline at commit `sha`: null when it has no pipeline.yml. Throws `not_found` for a
   * commit the mirror lacks and `too_large` for a pipeline.yml over 1 MiB.
   */
  pipelineAt(repo: Repo, sha: string): Promise<PlanOutcome | null>;
}

export function createRunStarter({ store, logger, mirrors, mirrorDir, onRunCreated, plans = createPlanCache() }: RunStarterOptions): RunStarter {
  const pipelineAt = async (repo: Repo, sha: string): Promise<PlanOutcome | null> => {
    const view = mirrors.view(mirrorDir(repo));
    const file = await view.fileAt(sha, PIPELINE_FILE);
    return file === null ? null : plans.planOf(file.oid, () => view.blobText(file.oid));
  };

  return {
    pipelineAt,
    async startRun(repo, request) {
      const pr = request.pullRequest ?? null;
      const branch = pr ? pr.sourceBranch : request.ref?.startsWith('refs/heads/') ? request.ref.slice('refs/heads/'.length) : null;
      const tag = request.ref?.startsWith('refs/tags/') ? request.ref.slice('refs/tags/'.length) : null;
      // Both questions go down the reader's pipe at once; a warm commit answers from memory.
      const [info, pipeline] = await Promise.all([
        mirrors.view(mirrorDir(repo)).commitInfo(request.sha),
        request.plan ? null : pipelineAt(repo, request.sha).catch((error: unknown) => {
          if (error instanceof KilnError && error.code === 'too_large') return error;
          throw error;
        }),
      ]);
      const base = {
        repoId: repo.id, event: request.event, ref: request.ref, branch, tag, sha: request.sha,
        message: info.message, env: request.env ?? {}, changedPaths: request.changedPaths, rerunOf: request.rerunOf ?? null, pullRequest: pr,
        triggeredBy: request.triggeredBy ?? null,
      };
      if (!request.rerunOf && skipsEvent(request.event) && skipCiMarker(info.body) !== null) {
        logger.info({ repo: repo.name, ref: request.ref, sha: request.sha, marker: skipCiMarker(info.body) }, 'the commit message asks to skip ci; no run');
        return null;
      }
      const userAsked = request.event === 'manual' || request.event === 'api';
      let plan = request.plan ?? null;
      if (!plan) {
        if (pipeline instanceof KilnError) return create({ ...base, plan: null, error: `${PIPELINE_FILE}: ${pipeline.message}` });
        if (pipeline === null) {
          if (userAsked) throw new KilnError('conflict', `${repo.name} has no ${PIPELINE_FILE} at ${request.sha.slice(0, 12)}`);
          return null;
        }
        if (!pipeline.ok) return create({ ...base, plan: null, error: pipeline.error });
        plan = pipeline.plan;
      }
      const facts = { event: request.event, branch, tag, targetBranch: pr?.targetBranch ?? null, changedPaths: request.changedPaths };
      if (!request.rerunOf && !triggerMatches(plan.triggers, facts)) {
        if (userAsked) throw new KilnError('conflict', `the pipeline of ${repo.name} does not allow ${request.event} runs (on.manual is false)`);
        logger.debug({ repo: repo.name, ref: request.ref, event: request.event }, 'on: does not take this event; no run');
        return null;
      }
      const inputs = runInputs(plan, request);
      return create({ ...base, plan: planWithInputs(plan, inputs), inputs });
    },
  };

  function runInputs(plan: Plan, request: RunRequest): Record<string, InputValue> {
    const declared = plan.inputs ?? [];
    return request.event === 'manual' || request.event === 'api' ? resolveInputs(declared, request.inputs ?? {}) : defaultInputs(declared);
  }

  function create(run: Parameters<Store['runs']['addRun']>[0]): Run {
    // One commit for the run and what the queue does with it at once (its first jobs leased).
    return store.transaction(() => {
      const created = store.runs.addRun(run);
      logger.info({ repo: created.repo, runId: created.id, number: created.number, event: created.event, ref: created.ref, status: created.status }, 'run created');
      onRunCreated(created);
      return created;
    });
  }
}
