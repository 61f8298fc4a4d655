// Evaluating the plan's conditions: does an event start a run (`on`), does a job or step
// run (`when`)? Pure functions of the plan and the facts of the run.
import { anyMatchesGlobs, matchesGlobs } from '../glob.js';
import type { Triggers, When } from './types.js';

export type EventKind = 'push' | 'tag' | 'pull_request' | 'cron' | 'manual' | 'api';

export interface RunFacts {
  event: EventKind;
  /** The branch built: a pull request's source branch. */
  branch: string | null;
  tag: string | null;
  /** A pull request's target branch (what `on.pull_request.branches` matches); null for other events. */
  targetBranch?: string | null;
  /** Files the push changed; null when unknown (manual, cron, api, a new repo). */
  changedPaths: readonly string[] | null;
}

/** Whether `on:` lets this event start a run. Paths filters pass when the changes are unknown. */
export function triggerMatches(triggers: Triggers, facts: RunFacts): boolean {
  switch (facts.event) {
    case 'push': {
      const push = triggers.push;
      if (!push || facts.branch === null) return false;
      if (push.branches && !matchesGlobs(facts.branch, push.branches)) return false;
      return !push.paths || facts.changedPaths === null || anyMatchesGlobs(facts.changedPaths, push.paths);
    }
    case 'tag':
      return triggers.tags !== null && facts.tag !== null && matchesGlobs(facts.tag, triggers.tags);
    case 'pull_request': {
      const pr = triggers.pullRequest ?? null;
      if (!pr || !facts.targetBranch) return false;
      if (pr.branches && !matchesGlobs(facts.targetBranch, pr.branches)) return false;
      return !pr.paths || facts.changedPaths === null || anyMatchesGlobs(facts.changedPaths, pr.paths);
    }
    case 'cron':
      return triggers.cron.length > 0;
    case 'manual':
    case 'api':
      return triggers.manual;
  }
}

const SKIP_CI = /\[(?:skip ci|ci skip|no ci)\]/i;

/**
 * The marker (`[skip ci]`, `[ci skip]` or `[no ci]`, any case) in a commit message that asks
 * for no push or pull-request run, or null. Tags, cron, manual and API runs ignore it.
 */
export function skipCiMarker(message: string): string | null {
  return SKIP_CI.exec(message)?.[0] ?? null;
}

/** Whether a commit message's skip marker applies to runs of this event. */
export function skipsEvent(event: EventKind): boolean {
  return event === 'push' || event === 'pull_request';
}

/** How the jobs (or steps) before this one ended. */
export type Outcome = 'success' | 'failure';

/**
 * Whether a `when` matches. Without `status`, a job runs only after success; `failure` runs
 * only after a failure; `always` runs either way. `paths` passes when the changes are unknown.
 * `matrix` was decided when planning (`matrixMatches`).
 */
export function whenMatches(when: When | null, facts: RunFacts, before: Outcome): boolean {
  const statuses = when?.status ?? ['success'];
  const statusOk = statuses.includes('always') || statuses.includes(before);
  if (!statusOk || !when) return statusOk;
  if (when.matrixMatches === false) return false;
  if (when.branch && (facts.branch === null || !matchesGlobs(facts.branch, when.branch))) return false;
  if (when.event && !when.event.includes(facts.event)) return false;
  if (when.paths && facts.changedPaths !== null && !anyMatchesGlobs(facts.changedPaths, when.paths)) return false;
  return true;
}
