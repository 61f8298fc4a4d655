// What a verified webhook delivery leads to. The hook is a hint, never the truth: it makes
// the repo sync (one fetch from the remote, shared with any sync in flight), and the runs come
// from what git then says moved, exactly as for a poll. So a push seen by a hook and by a poll
// starts one run, and a payload naming a commit the remote does not have starts nothing.
import type { Logger } from 'pino';
import type { HookEvent } from '../hooks/payloads.js';
import type { Repo, Store } from '../store/index.js';
import type { RepoTriggers } from './repos.js';

export interface HookTriggerOptions {
  store: Store;
  triggers: Pick<RepoTriggers, 'sync' | 'mirror'>;
  logger: Logger;
}

export interface HookTrigger {
  /** Syncs the repo for delivery `deliveryRow`'s events and records what came of them; never rejects. */
  handle(repo: Repo, deliveryRow: number, events: HookEvent[]): Promise<void>;
}

const short = (sha: string) => sha.slice(0, 12);

export function createHookTrigger({ store, triggers, logger }: HookTriggerOptions): HookTrigger {
  return {
    async handle(repo, deliveryRow, events) {
      const refEvents = events.filter((e): e is Extract<HookEvent, { kind: 'push' | 'tag' }> => e.kind === 'push' || e.kind === 'tag');
      const notes: string[] = events.filter((e) => e.kind === 'delete').map((e) => `${e.ref} deleted: nothing to build`);
      for (const e of events) if (e.kind === 'pull_request') notes.push(`pull request #${e.number} ${e.action}: pull-request runs are not built yet`);
      if (refEvents.length === 0) {
        store.hooks.finishDelivery(deliveryRow, 'ignored', notes.join('; ') || 'nothing to build');
        return;
      }
      const newestBefore = store.runs.listRuns(repo.id, { limit: 1 })[0]?.id ?? 0;
      try {
        await triggers.sync(repo);
      } catch (error) {
        const why = error instanceof Error ? error.message : String(error);
        logger.warn({ err: error, repo: repo.name }, 'webhook sync failed');
        store.hooks.finishDelivery(deliveryRow, 'failed', `cannot fetch from the remote: ${why}`.slice(0, 1000));
        return;
      }
      const refs = await triggers.mirror(repo).refs();
      const since = store.runs.listRuns(repo.id, { limit: 200 }).filter((r) => r.id > newestBefore);
      const runIds: number[] = [];
      for (const event of refEvents) {
        const now = refs.get(event.ref);
        if (!now || (now.oid !== event.after && now.commit !== event.after)) {
          notes.push(`${event.ref} at ${short(event.after)} is not on the remote${now ? ` (it is at ${short(now.commit)})` : ''}: nothing started`);
          continue;
        }
        const run = since.find((r) => r.ref === event.ref && r.sha === now.commit);
        if (run) {
          runIds.push(run.id);
          notes.push(`${event.ref}: run #${run.number}`);
        } else {
          notes.push(`${event.ref} at ${short(now.commit)}: no new run (already built, or not a change the pipeline runs for)`);
        }
      }
      store.hooks.finishDelivery(deliveryRow, 'done', notes.join('; ').slice(0, 1000), runIds);
    },
  };
}
