// The claimable jobs in claim order (ready time, then id), kept in memory so that dispatch
// starts from the work waiting, not from the fleet: with nothing ready it costs nothing.
import type { ReadyJob } from '../store/index.js';

export interface ReadyEntry extends ReadyJob {
  /** `runsOn` as one string: jobs with the same labels share one "no agent can take it" answer. */
  labelsKey: string;
}

/**
 * The index is a cache of SQL (`status = 'queued' AND ready_at IS NOT NULL`): the queue adds
 * every job it makes ready and removes every job it claims, cancels or ends. A stale entry is
 * harmless (the claim refuses it); a missing one is found by `reset` at the next reconcile.
 */
export interface ReadyIndex extends Iterable<ReadyEntry> {
  readonly size: number;
  add(job: ReadyJob): void;
  delete(jobId: number): void;
  has(jobId: number): boolean;
  /** Replaces the contents with `jobs` (in claim order); returns how many were missing before. */
  reset(jobs: readonly ReadyJob[]): number;
}

const before = (a: ReadyJob, b: ReadyJob) => a.readyAtMs < b.readyAtMs || (a.readyAtMs === b.readyAtMs && a.id < b.id);

export function createReadyIndex(): ReadyIndex {
  // Why a Map: it iterates in insertion order and deletes in O(1). Jobs nearly always become
  // ready in time order, so an add is an append; the rare earlier one (a job given back
  // unstarted keeps its place) rebuilds the order.
  let entries = new Map<number, ReadyEntry>();
  let last: ReadyEntry | null = null;

  const entry = (job: ReadyJob): ReadyEntry => ({ ...job, labelsKey: JSON.stringify([...job.runsOn].sort()) });

  return {
    get size() {
      return entries.size;
    },
    add(job) {
      if (entries.has(job.id)) return;
      const e = entry(job);
      if (last === null || entries.size === 0 || !before(e, last)) {
        entries.set(e.id, e);
        last = e;
        return;
      }
      const sorted = [...entries.values(), e].sort((a, b) => (before(a, b) ? -1 : before(b, a) ? 1 : 0));
      entries = new Map(sorted.map((x) => [x.id, x]));
      last = sorted.at(-1)!;
    },
    delete(jobId) {
      entries.delete(jobId);
      if (entries.size === 0) last = null;
    },
    has: (jobId) => entries.has(jobId),
    reset(jobs) {
      const missing = jobs.filter((j) => !entries.has(j.id)).length;
      entries = new Map(jobs.map((j) => [j.id, entry(j)]));
      last = jobs.length > 0 ? entries.get(jobs.at(-1)!.id)! : null;
      return missing;
    },
    [Symbol.iterator]: () => entries.values(),
  };
}
