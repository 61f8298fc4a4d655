// Which `notify:` events a run's end fires, and which event a rule is told about: pure.
import type { NotifyEvent, NotifyRule } from '../../shared/pipeline/notify.js';
import type { Status } from '../../shared/status.js';

/** A failure is a run that failed or could not run; a cancelled or skipped run fires only `always`. */
const isFailure = (status: Status) => status === 'failed' || status === 'error';

/**
 * The events a run's end fires, most specific first. `previous`: the outcome before it on the
 * same branch (null: none). fixed = a success after a failure, as Jenkins' `fixed`.
 */
export function endEvents(status: Status, previous: Status | null): NotifyEvent[] {
  const fired: NotifyEvent[] = [];
  if (status === 'success' && previous !== null && isFailure(previous)) fired.push('fixed');
  if (status === 'success') fired.push('success');
  if (isFailure(status)) fired.push('failure');
  fired.push('always');
  return fired;
}

/** The event a rule hears of among those fired (the most specific it listens to), or null. */
export function eventFor(rule: NotifyRule, fired: readonly NotifyEvent[]): NotifyEvent | null {
  return fired.find((event) => rule.on.includes(event)) ?? null;
}
