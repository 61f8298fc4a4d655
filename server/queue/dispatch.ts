// One dispatch pass: each claimable job, in claim order, finds the least loaded free agent
// whose labels cover it. The pass starts from the queued jobs, so its cost follows the work:
// with no job ready, or no slot free, it returns before touching the store.
import type { Claim, Store } from '../store/index.js';
import { hasFreeSlot, slotsTaken, type AgentSlot } from './agents.js';
import type { ReadyEntry, ReadyIndex } from './ready-index.js';

export interface DispatchContext {
  store: Pick<Store, 'leases' | 'jobs'>;
  ready: ReadyIndex;
  agents: Iterable<AgentSlot>;
  nowMs: number;
  leaseMs: number;
  /** Hands the claimed job to the agent; false when it could not be sent (the lease is then given back). */
  assign(slot: AgentSlot, claim: Claim): boolean;
}

/** Returns the number of jobs assigned. */
export function dispatchPass(ctx: DispatchContext): number {
  const { ready, nowMs } = ctx;
  if (ready.size === 0) return 0;
  // An agent silent past the lease deadline is losing its jobs: it gets no new ones.
  const free = [...ctx.agents].filter((s) => hasFreeSlot(s, nowMs) && nowMs - s.link.lastHeardMs <= ctx.leaseMs);
  if (free.length === 0) return 0;
  // Labels no free agent has, learnt during this pass: later jobs with them skip at once.
  const unservable = new Set<string>();
  let held: Set<string> | null = null;
  let assigned = 0;
  for (const job of [...ready]) {
    if (free.length === 0) break;
    if (unservable.has(job.labelsKey)) continue;
    if (job.concurrency !== null && (held ??= ctx.store.jobs.listHeldGroups()).has(job.concurrency)) continue;
    const slot = leastLoaded(free, job, nowMs);
    if (!slot) {
      unservable.add(job.labelsKey);
      continue;
    }
    ready.delete(job.id);
    const claim = ctx.store.leases.claimJob(job.id, slot.agentId, nowMs, ctx.leaseMs);
    if (!claim) continue; // not claimable any more (cancelled, or its group was taken): the index was stale
    if (job.concurrency !== null) held?.add(job.concurrency);
    slot.jobs.set(claim.job.id, claim.token);
    const sent = ctx.assign(slot, claim);
    if (sent) assigned++;
    // An agent whose connection just closed takes nothing more in this pass.
    if (!sent || !hasFreeSlot(slot, nowMs)) free.splice(free.indexOf(slot), 1);
  }
  return assigned;
}

function leastLoaded(free: readonly AgentSlot[], job: ReadyEntry, nowMs: number): AgentSlot | null {
  let best: AgentSlot | null = null;
  let bestLoad = Infinity;
  for (const slot of free) {
    if (!hasFreeSlot(slot, nowMs) || !job.runsOn.every((label) => slot.labels.includes(label))) continue;
    const load = slotsTaken(slot, nowMs) / slot.capacity;
    if (load < bestLoad) {
      best = slot;
      bestLoad = load;
    }
  }
  return best;
}
