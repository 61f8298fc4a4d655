// Whether a step runs: its `when` (status, branch, event, matrix) against how the job is going so far.
import type { When } from '../../shared/pipeline/types.js';
import { matchesGlobs } from '../../shared/glob.js';

export interface StepWhenState {
  /** A step before this one failed the job (or the executor failed). */
  failed: boolean;
  /** The step's env: `KILN_BRANCH` and `KILN_EVENT` come from it. */
  env: Record<string, string>;
}

/**
 * Why the step is skipped, or null when it runs. `status` defaults to `success` (run while
 * nothing failed); `failure` runs only after a failure; `always` runs either way. `branch` and
 * `event` are checked against KILN_BRANCH / KILN_EVENT; `matrix` was decided when planning.
 * `paths` is not checked here: the agent does not know which files the push changed.
 */
export function stepSkipReason(when: When | null, state: StepWhenState): string | null {
  const statuses = when?.status?.length ? when.status : ['success'];
  if (!statuses.includes('always') && !statuses.includes(state.failed ? 'failure' : 'success')) {
    return state.failed ? 'a step before it failed' : 'its `when: {status: failure}` needs a failure before it';
  }
  if (when?.matrixMatches === false) return 'its `when: {matrix}` does not match this combination';
  if (when?.branch?.length && !matchesGlobs(state.env.KILN_BRANCH ?? '', when.branch)) return 'its `when: {branch}` does not match';
  if (when?.event?.length && !when.event.includes(state.env.KILN_EVENT ?? '')) return 'its `when: {event}` does not match';
  return null;
}
