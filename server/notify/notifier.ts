// The notifier: told by the queue when a run ends or a job waits for an approval, it writes a
// delivery to the outbox for each `notify:` rule (the pipeline's, then the repo's) that listens
// to what happened. The sender (sender.ts) delivers them.
import type { NotifyEvent, NotifyRule } from '../../shared/pipeline/notify.js';
import type { RunNotifier } from '../queue/job-queue.js';
import type { Job, Run, Store } from '../store/index.js';
import { endEvents, eventFor } from './events.js';
import { buildPayload } from './payload.js';

export interface NotifierOptions {
  store: Store;
  /** The server's own URL, for the payload's links. */
  serverUrl(): string;
  /** Something was enqueued (the sender looks at the outbox). */
  enqueued(): void;
  now?: () => number;
}

/** How many run attempts are remembered as told (a run is published with every job change). */
const REMEMBERED = 1000;

export function createNotifier(options: NotifierOptions): RunNotifier {
  const { store } = options;
  const now = options.now ?? Date.now;
  // Why remembered: the queue tells of a final run each time it is published, and the rules
  // are read from the run's plan. The outbox's dedupe key is what makes it once; this saves the reads.
  const told = new Set<string>();
  const remember = (key: string): boolean => {
    if (told.has(key)) return false;
    if (told.size >= REMEMBERED) told.clear();
    told.add(key);
    return true;
  };
  const rulesOf = (run: Run): Array<[string, NotifyRule]> => [
    ...store.notifications.runRules(run.id).map((rule, i): [string, NotifyRule] => [`pipeline.${i}`, rule]),
    ...store.notifications.repoRules(run.repoId).map((rule, i): [string, NotifyRule] => [`repo.${i}`, rule]),
  ];
  const enqueue = (run: Run, key: string, rules: Array<[string, NotifyRule]>, pick: (rule: NotifyRule) => NotifyEvent | null, job?: Job) => {
    let added = false;
    for (const [source, rule] of rules) {
      const event = pick(rule);
      if (event === null) continue;
      const payload = JSON.stringify(buildPayload(event, run, options.serverUrl(), now(), job));
      added = store.notifications.enqueue({ repoId: run.repoId, runId: run.id, dedupe: `${key}:${source}`, event, target: rule.target, payload }) || added;
    }
    if (added) options.enqueued();
  };

  return {
    runEnded(run) {
      if (!remember(`end:${run.id}:${run.attempt}`)) return;
      const rules = rulesOf(run);
      if (rules.length === 0) return;
      const fired = endEvents(run.status, store.notifications.previousOutcome(run));
      enqueue(run, `end:${run.id}:${run.attempt}`, rules, (rule) => eventFor(rule, fired));
    },
    approvalNeeded(run, job) {
      const key = `approval:${job.id}:${run.attempt}:${job.attempt}`;
      if (!remember(key)) return;
      enqueue(run, key, rulesOf(run), (rule) => (rule.on.includes('approval_needed') ? 'approval_needed' : null), job);
    },
  };
}
