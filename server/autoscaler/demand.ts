// Which pool serves which waiting job: labels match, and overlapping pools do not both scale
// up for the same job. Pure functions of the queue and the pools' room.

/** Whether an agent (or pool) with labels `have` may run a job that runs on `want`. */
export function labelsCover(have: readonly string[], want: readonly string[]): boolean {
  return want.every((label) => have.includes(label));
}

export interface PoolRoom {
  name: string;
  labels: readonly string[];
  /** Job slots the pool can still offer: free, starting, and (unless backing off) up to max. */
  room: number;
}

/**
 * Counts the jobs each pool should scale for. Jobs go, in queue order, to the first pool (in
 * configuration order) whose labels cover them and that has room left; a job no pool has room
 * for counts for the first pool that matches (which then reports itself held at its max).
 * Returns pool name → job count; pools that match nothing are absent.
 */
export function assignDemand(jobs: ReadonlyArray<{ runsOn: readonly string[] }>, pools: readonly PoolRoom[]): Map<string, number> {
  const room = new Map(pools.map((p) => [p.name, p.room]));
  const counts = new Map<string, number>();
  for (const job of jobs) {
    const matching = pools.filter((p) => labelsCover(p.labels, job.runsOn));
    const chosen = matching.find((p) => room.get(p.name)! > 0) ?? matching[0];
    if (!chosen) continue;
    room.set(chosen.name, room.get(chosen.name)! - 1);
    counts.set(chosen.name, (counts.get(chosen.name) ?? 0) + 1);
  }
  return counts;
}
