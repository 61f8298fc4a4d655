// A pull request's delivery → at most one run of event `pull_request`. The payload's head sha is
// a hint: kiln fetches the head from the remote (the forge's pull-request ref, or the source
// branch), reads the commit git has there, and builds only when it is the one the payload named.
import type { Logger } from 'pino';
import { skipCiMarker, triggerMatches } from '../../shared/pipeline/conditions.js';
import { pullRequestPaths } from '../git/read.js';
import type { HookEvent } from '../hooks/payloads.js';
import type { Repo, Store } from '../store/index.js';
import type { RepoTriggers } from './repos.js';
import type { RunStarter } from './run-starter.js';

export type PullRequestEvent = Extract<HookEvent, { kind: 'pull_request' }>;

export interface PullRequestTriggerOptions {
  store: Store;
  starter: RunStarter;
  triggers: Pick<RepoTriggers, 'fetchPullRequest' | 'dropPullRequest' | 'mirror' | 'mirrorDir'>;
  logger: Logger;
}

/** What came of one pull-request event, for the delivery's record. */
export interface PullRequestOutcome {
  note: string;
  runId: number | null;
  /** The remote could not be read: the delivery failed (a redelivery may do better). */
  failed: boolean;
}

const short = (sha: string) => sha.slice(0, 12);

export function createPullRequestTrigger({ store, starter, triggers, logger }: PullRequestTriggerOptions) {
  // The forge's pull-request ref first; for a pull request of the repo itself, its source
  // branch next: a forge may update its ref a moment after the hook (or, as a plain git server,
  // have none). Either way the commit must be the payload's.
  type Fetched = { head: string; ref: string } | { missing: string } | { failed: string };
  const fetchHead = async (repo: Repo, e: PullRequestEvent): Promise<Fetched> => {
    const branch = `refs/heads/${e.sourceBranch}`;
    const tries = [{ headRef: e.headRef, headRepo: e.headRepo }];
    if (!e.fromFork && e.headRef !== branch) tries.push({ headRef: branch, headRepo: null });
    const seen: string[] = [];
    for (const t of tries) {
      let head: string | null;
      try {
        head = await triggers.fetchPullRequest(repo, { number: e.number, ...t });
      } catch (error) {
        logger.warn({ err: error, repo: repo.name, pr: e.number, ref: t.headRef }, 'cannot fetch a pull request head');
        return { failed: `${t.headRef}: ${error instanceof Error ? error.message : String(error)}` };
      }
      if (head?.startsWith(e.headSha)) return { head, ref: t.headRef };
      seen.push(head ? `${t.headRef} is at ${short(head)}` : `no ${t.headRef}`);
    }
    return { missing: seen.join(', ') };
  };

  // Why a fork's pull request must be taken by the target branch's pipeline too: the head's
  // pipeline.yml is the fork author's to write, so it alone cannot decide that their code runs
  // on this repo's agents. (What runs is still the head's: that is what is being tested.)
  const forkRefused = async (repo: Repo, e: PullRequestEvent): Promise<string | null> => {
    const target = (await triggers.mirror(repo).refs()).get(`refs/heads/${e.targetBranch}`);
    if (!target) return `kiln has no branch ${e.targetBranch} whose pipeline could take it`;
    const pipeline = await starter.pipelineAt(repo, target.commit).catch(() => null);
    const facts = { event: 'pull_request' as const, branch: e.sourceBranch, tag: null, targetBranch: e.targetBranch, changedPaths: null };
    return pipeline?.ok && triggerMatches(pipeline.plan.triggers, facts) ? null : `the pipeline of ${e.targetBranch} does not take pull requests to it`;
  };

  return async (repo: Repo, e: PullRequestEvent): Promise<PullRequestOutcome> => {
    const name = `pull request #${e.number}`;
    const outcome = (note: string, runId: number | null = null, failed = false): PullRequestOutcome => ({ note, runId, failed });
    if (e.action === 'closed') {
      await triggers.dropPullRequest(repo, e.number).catch((error: unknown) => logger.warn({ err: error, repo: repo.name, pr: e.number }, 'cannot drop a closed pull request head'));
      return outcome(`${name} closed: nothing to build`);
    }
    const found = await fetchHead(repo, e);
    if ('failed' in found) return outcome(`${name}: cannot fetch from the remote: ${found.failed}`, null, true);
    if ('missing' in found) return outcome(`${name} at ${short(e.headSha)} is not on the remote (${found.missing}): nothing started`);
    const { head, ref } = found;
    // A reopened pull request is built again, as forges do; an opened or updated one once per head.
    const built = store.runs.listRuns(repo.id, { limit: 200 })
      .find((r) => r.event === 'pull_request' && r.pullRequest?.number === e.number && r.sha === head && r.rerunOf === null);
    if (built && e.action !== 'reopened') return outcome(`${name} at ${short(head)}: already built by run #${built.number}`);
    if (e.fromFork) {
      const refused = await forkRefused(repo, e);
      if (refused) return outcome(`${name} from a fork: ${refused}: nothing started`);
    }
    const run = await starter.startRun(repo, {
      event: 'pull_request', ref, sha: head,
      changedPaths: await pullRequestPaths(triggers.mirrorDir(repo), `refs/heads/${e.targetBranch}`, head).catch(() => null),
      pullRequest: { number: e.number, sourceBranch: e.sourceBranch, targetBranch: e.targetBranch, fromFork: e.fromFork },
    });
    if (run) return outcome(`${name}: run #${run.number}`, run.id);
    const marker = skipCiMarker((await triggers.mirror(repo).commitInfo(head)).body);
    return outcome(marker
      ? `${name} at ${short(head)}: skipped, the commit message says ${marker}`
      : `${name} at ${short(head)}: no run (the pipeline's on: does not take pull requests to ${e.targetBranch}, or there is no pipeline.yml)`);
  };
}
