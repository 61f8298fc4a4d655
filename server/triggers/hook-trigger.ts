// What a verified webhook delivery leads to. The hook is a hint, never the truth: a push makes
// the repo sync (one fetch from the remote, shared with any sync in flight), and the runs come
// from what git then says moved, exactly as for a poll. So a push seen by a hook and by a poll
// starts one run, and a payload naming a commit the remote does not have starts nothing. A pull
// request fetches its head (pull-request-trigger.ts) and is built on the commit git read.
import type { Logger } from 'pino';
import { skipCiMarker } from '../../shared/pipeline/conditions.js';
import { createKeyedLock } from '../git/keyed-lock.js';
import type { HookEvent } from '../hooks/payloads.js';
import type { Repo, Store } from '../store/index.js';
import { createPullRequestTrigger, type PullRequestEvent } from './pull-request-trigger.js';
import type { RepoTriggers } from './repos.js';
import type { RunStarter } from './run-starter.js';

export interface HookTriggerOptions {
  store: Store;
  starter: RunStarter;
  triggers: Pick<RepoTriggers, 'sync' | 'mirror' | 'mirrorDir' | 'fetchPullRequest' | 'dropPullRequest'>;
  logger: Logger;
}

export interface HookTrigger {
  /** Syncs the repo for delivery `deliveryRow`'s events and records what came of them; never rejects. */
  handle(repo: Repo, deliveryRow: number, events: HookEvent[]): Promise<void>;
}

type RefEvent = Extract<HookEvent, { kind: 'push' | 'tag' }>;
interface Outcome { notes: string[]; runIds: number[]; failed: boolean }

const short = (sha: string) => sha.slice(0, 12);

export function createHookTrigger({ store, starter, triggers, logger }: HookTriggerOptions): HookTrigger {
  const pullRequest = createPullRequestTrigger({ store, starter, triggers, logger });
  // Why pull requests of a repo are taken one at a time: two deliveries of one head (an
  // `opened` and a `synchronize` a moment apart) must see each other's run, not both start one.
  const perRepo = createKeyedLock();

  const refRuns = async (repo: Repo, refEvents: RefEvent[], out: Outcome): Promise<void> => {
    const newestBefore = store.runs.newestRunId(repo.id);
    try {
      await triggers.sync(repo);
    } catch (error) {
      logger.warn({ err: error, repo: repo.name }, 'webhook sync failed');
      out.notes.push(`cannot fetch from the remote: ${error instanceof Error ? error.message : String(error)}`);
      out.failed = true;
      return;
    }
    const mirror = triggers.mirror(repo);
    const refs = await mirror.refs();
    const since = store.runs.listRunsAfter(repo.id, newestBefore);
    for (const event of refEvents) {
      const now = refs.get(event.ref);
      if (!now || (now.oid !== event.after && now.commit !== event.after)) {
        out.notes.push(`${event.ref} at ${short(event.after)} is not on the remote${now ? ` (it is at ${short(now.commit)})` : ''}: nothing started`);
        continue;
      }
      const run = since.find((r) => r.event === event.kind && r.ref === event.ref && r.sha === now.commit);
      if (run) {
        out.runIds.push(run.id);
        out.notes.push(`${event.ref}: run #${run.number}`);
        continue;
      }
      const marker = event.kind === 'push' ? skipCiMarker((await mirror.commitInfo(now.commit)).body) : null;
      out.notes.push(marker
        ? `${event.ref} at ${short(now.commit)}: skipped, the commit message says ${marker}`
        : `${event.ref} at ${short(now.commit)}: no new run (already built, or not a change the pipeline runs for)`);
    }
  };

  return {
    async handle(repo, deliveryRow, events) {
      const refEvents = events.filter((e): e is RefEvent => e.kind === 'push' || e.kind === 'tag');
      const pulls = events.filter((e): e is PullRequestEvent => e.kind === 'pull_request');
      const out: Outcome = { notes: events.filter((e) => e.kind === 'delete').map((e) => `${e.ref} deleted: nothing to build`), runIds: [], failed: false };
      if (refEvents.length === 0 && pulls.every((e) => e.action === 'closed')) {
        for (const e of pulls) {
          // Its head is not needed any more: the mirror would keep its commits for good.
          await triggers.dropPullRequest(repo, e.number).catch((error: unknown) => logger.warn({ err: error, repo: repo.name, pr: e.number }, 'cannot drop a closed pull request head'));
          out.notes.push(`pull request #${e.number} closed: nothing to build`);
        }
        store.hooks.finishDelivery(deliveryRow, 'ignored', out.notes.join('; ') || 'nothing to build');
        return;
      }
      try {
        if (refEvents.length > 0) await refRuns(repo, refEvents, out);
        for (const e of pulls) {
          const result = await perRepo.run(String(repo.id), () => pullRequest(repo, e));
          out.notes.push(result.note);
          if (result.runId !== null) out.runIds.push(result.runId);
          out.failed ||= result.failed;
        }
      } catch (error) {
        logger.error({ err: error, repo: repo.name }, 'webhook delivery failed');
        out.notes.push(`failed: ${error instanceof Error ? error.message : String(error)}`);
        out.failed = true;
      }
      store.hooks.finishDelivery(deliveryRow, out.failed ? 'failed' : 'done', out.notes.join('; ').slice(0, 1000), out.runIds);
    },
  };
}
