// Why a claimable job still waits, as far as agents and pools go: one line for `GET /api/queue`.
import { labelsCover } from './demand.js';
import type { ConnectedAgent } from './observe.js';
import type { PoolAgent } from './policy.js';

/** A pool as its last pass left it. */
export interface PoolSnapshot {
  name: string;
  labels: readonly string[];
  max: number;
  agents: readonly PoolAgent[];
  /** The provider's last failure while it is failing; null when healthy. */
  error: string | null;
  /** True while the pool may not start agents (provider back-off). */
  backingOff: boolean;
}

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

/**
 * Returns null when the job waits for something else (needs, approval, concurrency) or
 * nothing holds it (a free slot will take it at the next dispatch). Pools are asked in
 * configuration order, a pool that is starting an agent first.
 */
export function explainWait(
  job: { runsOn: readonly string[]; waiting: string | null },
  sessions: readonly ConnectedAgent[],
  pools: readonly PoolSnapshot[],
  nowMs: number,
): string | null {
  if (job.waiting !== null) return null;
  const agents = sessions.filter((s) => labelsCover(s.labels, job.runsOn));
  const matching = pools.filter((p) => labelsCover(p.labels, job.runsOn));
  if (agents.length === 0 && matching.length === 0) return `no agent or pool has the labels [${job.runsOn.join(', ')}]`;
  if (agents.some((a) => !a.draining && a.jobs.size < a.capacity)) return null;

  const starting = matching.find((p) => p.agents.some((a) => a.state === 'starting' || a.state === 'offline'));
  if (starting) {
    const agent = starting.agents.find((a) => a.state === 'starting' || a.state === 'offline')!;
    const since = agent.unseenSinceMs === null ? '' : ` (${Math.max(0, Math.round((nowMs - agent.unseenSinceMs) / 1000))} s)`;
    return `pool ${starting.name} is starting agent ${agent.name}${since}`;
  }
  const canGrow = matching.find((p) => !p.backingOff && p.agents.length < p.max);
  if (canGrow) return `pool ${canGrow.name} is about to start an agent`;
  const failing = matching.find((p) => p.error !== null);
  if (failing) return `pool ${failing.name} cannot start agents: ${failing.error}`;
  const full = matching[0];
  if (full?.max === 0) return `pool ${full.name} has max 0`;
  if (full) {
    const busy = full.agents.filter((a) => a.state === 'busy').length;
    const detail = busy === full.agents.length ? 'all busy' : `${busy} busy, ${full.agents.length - busy} draining or idle`;
    return `pool ${full.name} is at its max (${plural(full.agents.length, 'agent')}, ${detail})`;
  }
  return agents.length === 1 ? 'the one agent with these labels is busy' : `all ${agents.length} agents with these labels are busy`;
}
