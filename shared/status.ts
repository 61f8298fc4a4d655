// Statuses of runs, jobs and steps, and the state machine that moves between them.
//
//   job lifecycle:
//
//              ┌──────────── approval ─────────────┐
//              │                                    ▼
//   (created) queued ──claim──▶ running ──▶ success | failed | error
//     │  ▲       │                 │
//     │  └─retry─┼─────────────────┘ (agent lost, attempts left)
//     │          ├──▶ cancelled            blocked ──approve──▶ queued
//     └──────────┴──▶ skipped (when did not match / a need did not succeed)
//
// `success`, `failed`, `cancelled`, `skipped` and `error` are final: nothing leaves them.

export const STATUSES = ['queued', 'blocked', 'running', 'success', 'failed', 'cancelled', 'skipped', 'error'] as const;
export type Status = (typeof STATUSES)[number];

export const FINAL_STATUSES: ReadonlySet<Status> = new Set(['success', 'failed', 'cancelled', 'skipped', 'error']);

export function isFinal(status: Status): boolean {
  return FINAL_STATUSES.has(status);
}

export function isStatus(value: unknown): value is Status {
  return typeof value === 'string' && (STATUSES as readonly string[]).includes(value);
}

const TRANSITIONS: Record<Status, readonly Status[]> = {
  queued: ['blocked', 'running', 'cancelled', 'skipped', 'error'],
  blocked: ['queued', 'cancelled', 'skipped', 'error'],
  // running → queued is a retry after a lost agent or a failed attempt with `retry` left.
  running: ['queued', 'success', 'failed', 'cancelled', 'error'],
  success: [],
  failed: [],
  cancelled: [],
  skipped: [],
  error: [],
};

/** Whether a job or step may move from `from` to `to`. Staying put is not a transition. */
export function canTransition(from: Status, to: Status): boolean {
  return TRANSITIONS[from].includes(to);
}

/** The statuses that `from` may move to. */
export function nextStatuses(from: Status): readonly Status[] {
  return TRANSITIONS[from];
}

/**
 * A run's status follows its jobs:
 * - any job not final → `running` if any job has started or ended, else `queued`
 *   (`blocked` when every unfinished job waits for approval);
 * - all final → `error` if any errored, else `failed` if any failed (and does not allow
 *   failure), else `cancelled` if any was cancelled, else `success` (skipped jobs count
 *   as success; a run of only skipped jobs is `skipped`).
 */
export function runStatusFromJobs(jobs: ReadonlyArray<{ status: Status; allowFailure?: boolean }>): Status {
  if (jobs.length === 0) return 'success';
  const open = jobs.filter((j) => !isFinal(j.status));
  if (open.length > 0) {
    if (open.every((j) => j.status === 'blocked') && !jobs.some((j) => j.status === 'running')) return 'blocked';
    // A skipped job has not begun anything: a run whose only movement is skips is still queued.
    const begun = jobs.some((j) => j.status !== 'queued' && j.status !== 'blocked' && j.status !== 'skipped');
    return begun ? 'running' : 'queued';
  }
  if (jobs.some((j) => j.status === 'error')) return 'error';
  if (jobs.some((j) => j.status === 'failed' && !j.allowFailure)) return 'failed';
  if (jobs.some((j) => j.status === 'cancelled')) return 'cancelled';
  if (jobs.every((j) => j.status === 'skipped')) return 'skipped';
  return 'success';
}
