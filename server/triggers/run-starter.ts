// Turns an event on a commit into a run: reads pipeline.yml at that exact commit from the
// mirror, validates it, applies `on:` and creates the run with its jobs.
import type { Logger } from 'pino';
import { KilnError } from '../../shared/errors.js';
import { formatProblem, triggerMatches, validatePipeline } from '../../shared/pipeline/index.js';
import type { Plan } from '../../shared/pipeline/types.js';
import { commitInfo, readFileAtCommit } from '../git/read.js';
import type { Repo, RunDetail, RunEvent, Store } from '../store/index.js';

export const PIPELINE_FILE = 'pipeline.yml';

export interface RunRequest {
  event: RunEvent;
  ref: string | null;          // refs/heads/main, refs/tags/v1, or null
  sha: string;
  changedPaths: string[] | null;
  env?: Record<string, string>;
  rerunOf?: number | null;
  /** Apply the pipeline's `on:` (push, tag, cron); manual and API runs check `on.manual` only. */
  plan?: Plan;                 // re-runs reuse the first run's plan
}

export interface RunStarterOptions {
  store: Store;
  logger: Logger;
  mirrorDir(repo: Repo): string;
  /** Called with every run created, so the scheduler and the dispatcher can move it on. */
  onRunCreated(run: RunDetail): void;
}

export interface RunStarter {
  /**
   * Creates the run, or resolves null when the pipeline's `on:` does not take this push, tag
   * or schedule (or the commit has no pipeline.yml). A pipeline that does not validate gives a
   * run with status `error` whose error holds every problem. Manual and API requests that the
   * pipeline refuses throw `conflict`.
   */
  startRun(repo: Repo, request: RunRequest): Promise<RunDetail | null>;
}

export function createRunStarter({ store, logger, mirrorDir, onRunCreated }: RunStarterOptions): RunStarter {
  return {
    async startRun(repo, request) {
      const mirror = mirrorDir(repo);
      const branch = request.ref?.startsWith('refs/heads/') ? request.ref.slice('refs/heads/'.length) : null;
      const tag = request.ref?.startsWith('refs/tags/') ? request.ref.slice('refs/tags/'.length) : null;
      const base = {
        repoId: repo.id, event: request.event, ref: request.ref, branch, tag, sha: request.sha,
        message: (await commitInfo(mirror, request.sha)).message, env: request.env ?? {}, changedPaths: request.changedPaths,
        rerunOf: request.rerunOf ?? null,
      };
      const userAsked = request.event === 'manual' || request.event === 'api';
      let plan = request.plan ?? null;
      if (!plan) {
        let text: string | null;
        try {
          text = await readFileAtCommit(mirror, request.sha, PIPELINE_FILE);
        } catch (error) {
          if (!(error instanceof KilnError && error.code === 'too_large')) throw error;
          return create({ ...base, plan: null, error: `${PIPELINE_FILE}: ${error.message}` });
        }
        if (text === null) {
          if (userAsked) throw new KilnError('conflict', `${repo.name} has no ${PIPELINE_FILE} at ${request.sha.slice(0, 12)}`);
          return null;
        }
        const result = validatePipeline(text);
        if (!result.ok) {
          return create({ ...base, plan: null, error: result.problems.map((p) => formatProblem(PIPELINE_FILE, p)).join('\n') });
        }
        plan = result.plan;
      }
      const facts = { event: request.event, branch, tag, changedPaths: request.changedPaths };
      if (!request.rerunOf && !triggerMatches(plan.triggers, facts)) {
        if (userAsked) throw new KilnError('conflict', `the pipeline of ${repo.name} does not allow ${request.event} runs (on.manual is false)`);
        logger.debug({ repo: repo.name, ref: request.ref, event: request.event }, 'on: does not take this event; no run');
        return null;
      }
      return create({ ...base, plan });
    },
  };

  function create(run: Parameters<Store['runs']['createRun']>[0]): RunDetail {
    const created = store.runs.createRun(run);
    logger.info({ repo: created.repo, runId: created.id, number: created.number, event: created.event, ref: created.ref, status: created.status }, 'run created');
    onRunCreated(created);
    return created;
  }
}
