// Sends the outbox's commit statuses to the forges: a run's change is written to the outbox
// (store.statuses) when it happens, and this sender posts them, oldest first and in order per
// run, retrying a failed one with back-off (2 s doubling to 5 minutes). A forge that is down
// gets every status once it is back; a restart resumes from the outbox, and a run that changed
// while no sender listened (as the server stopped or started) gets its status at start.
import type { Logger } from 'pino';
import { isFinal } from '../../shared/status.js';
import type { EventBus } from '../events.js';
import type { Run, Store } from '../store/index.js';
import { statusRequest } from './statuses.js';
import { createOutboxPump } from '../outbox-pump.js';

export interface StatusSenderOptions {
  store: Store;
  bus: EventBus;
  logger: Logger;
  /** The server's own URL, for the statuses' links to the run page. */
  serverUrl(): string;
  /** How long one request may take (default 10 s). */
  timeoutMs?: number;
  now?: () => number;
}

export interface StatusSender {
  start(): void;
  stop(): Promise<void>;
}

const MAX_BACKOFF_MS = 5 * 60_000;
const DESCRIPTIONS: Record<Run['status'], string> = {
  queued: 'queued', blocked: 'waiting for an approval', running: 'running', success: 'passed', failed: 'failed',
  cancelled: 'cancelled', skipped: 'skipped', error: 'could not run',
};

/** What the forge shows next to the state: "kiln run #3 passed", "kiln run #3 cancelled (superseded by run #4)". */
function describe(run: Run): string {
  const why = run.status === 'cancelled' && run.cancelReason && run.cancelReason !== 'cancelled' ? ` (${run.cancelReason})` : '';
  return `kiln run #${run.number} ${DESCRIPTIONS[run.status]}${why}`;
}

export function createStatusSender(options: StatusSenderOptions): StatusSender {
  const { store, bus, logger } = options;
  const now = options.now ?? Date.now;
  let unsubscribe = () => {};
  // Why the context is kept per open run: a run event comes with every job change, and the
  // pipeline's name never changes. (It was read with the whole run, jobs and steps: 14 ms for
  // a 250-job run, for each of its events.) The repo is read for every event: a lookup by id
  // (about 11 µs), so a PATCH or a kiln.yml change applies at the next event with no cache to
  // keep right.
  const contexts = new Map<number, string>();
  const contextOf = (run: Run, repoName: string): string => {
    let context = contexts.get(run.id);
    // A pull request's run has its own context, as GitHub Actions' "(pull_request)": the push
    // run of the same commit (a branch in the repo itself) would otherwise overwrite its status.
    const suffix = run.event === 'pull_request' ? ' (pull request)' : '';
    if (context === undefined) contexts.set(run.id, (context = `kiln/${store.runs.getPipelineName(run.id) ?? repoName}${suffix}`));
    if (isFinal(run.status)) contexts.delete(run.id);
    return context;
  };

  const enqueue = (run: Run) => {
    const repo = store.repos.getRepo(run.repoId);
    if (!repo?.forge || !repo.sealed.forgeToken || repo.url === null) return;
    const added = store.statuses.enqueue({
      repoId: repo.id, runId: run.id, sha: run.sha, status: run.status, context: contextOf(run, repo.name),
      targetUrl: `${options.serverUrl()}/runs/${run.id}`, description: describe(run),
    });
    if (added) pump.kick();
  };

  const sendDue = async (): Promise<void> => {
    for (;;) {
      const due = store.statuses.due(20);
      if (due.length === 0 || pump.stopped) return;
      await Promise.all(due.map(async (entry) => {
        const repo = store.repos.getRepo(entry.repoId);
        const forge = repo ? store.repos.getRemoteSettings(repo.id).forge : null;
        if (!repo || !forge || repo.url === null) return store.statuses.markSent(entry.id); // the forge was removed: nothing to send
        const request = statusRequest(forge, repo.url, entry);
        try {
          const response = await fetch(request.url, { method: request.method, headers: request.headers, body: request.body, signal: AbortSignal.timeout(options.timeoutMs ?? 10_000) });
          if (!response.ok) throw new Error(`${repo.forge!.kind} answered ${response.status} ${(await response.text()).slice(0, 200).replace(/\s+/g, ' ')}`);
          await response.body?.cancel().catch(() => {});
          store.statuses.markSent(entry.id);
        } catch (error) {
          const why = error instanceof Error ? (error.cause instanceof Error ? `${error.message}: ${error.cause.message}` : error.message) : String(error);
          const delay = Math.min(2000 * 2 ** entry.attempts, MAX_BACKOFF_MS);
          store.statuses.markFailed(entry.id, why, now() + delay);
          logger.warn({ repo: repo.name, run: entry.runId, status: entry.status, error: why }, 'commit status not sent; retrying');
        }
      }));
    }
  };

  const pump = createOutboxPump({ deliverDue: sendDue, nextDue: () => store.statuses.nextDue(), logger, name: 'status sender', now });

  return {
    start() {
      unsubscribe = bus.subscribe((event) => {
        if (event.type === 'run') enqueue(event.run);
      });
      for (const runId of store.statuses.staleRuns()) {
        const run = store.runs.getRunSummary(runId);
        if (run) enqueue(run);
      }
      pump.start();
    },
    async stop() {
      unsubscribe();
      await pump.stop();
    },
  };
}
