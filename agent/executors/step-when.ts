// Whether a step runs: its `when` (status, branch, event) against how the job is going so far.
import type { When } from '../../shared/pipeline/types.js';
import { matchesGlobs } from '../../shared/glob.js';

export interface StepWhenState {
  /** A step before this one failed the job (or the executor failed). */
  failed: boolean;
  /** The step's env: `KILN_BRANCH` and `KILN_EVENT` come from it. */
  env: Record<string, string>;
}

/**
 * `status` defaults to `success` (run while nothing failed); `failure` runs only after a failure;
 * `always` runs either way. `branch` and `event` are checked against KILN_BRANCH / KILN_EVENT.
 * `paths` is not checked here: the agent does not know which files the push changed.
 */
export function shouldRunStep(when: When | null, state: StepWhenState): boolean {
  const statuses = when?.status?.length ? when.status : ['success'];
  const statusOk =
    statuses.includes('always') || statuses.includes(state.failed ? 'failure' : 'success');
  if (!statusOk) return false;
  if (when?.branch?.length && !matchesGlobs(state.env.KILN_BRANCH ?? '', when.branch)) return false;
  if (when?.event?.length && !when.event.includes(state.env.KILN_EVENT ?? '')) return false;
  return true;
}
