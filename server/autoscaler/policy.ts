// The scaling decision: a pure function of one pool, its agents, the jobs it could take and
// its provider's health at one instant. The loop in autoscaler.ts only applies what it says.
import type { PoolConfig } from '../config.js';
import { formatMs, isBackingOff, type ProviderHealth } from './health.js';

/**
 * One agent of the pool as the policy sees it. `starting`: the provider made it, it never
 * said hello; `offline`: it said hello once, its process lives, its connection does not.
 */
export interface PoolAgent {
  name: string;
  /** The hub's id while connected; null when starting or offline. */
  agentId: number | null;
  state: 'starting' | 'idle' | 'busy' | 'draining' | 'offline';
  /** Jobs it runs now. */
  jobs: number;
  capacity: number;
  /** When it last became idle (idle agents only). */
  idleSinceMs: number | null;
  /** Since when it should have (re)connected (starting and offline agents only). */
  unseenSinceMs: number | null;
}

export interface PolicyInput {
  pool: Pick<PoolConfig, 'name' | 'min' | 'max' | 'capacity' | 'idleTimeoutMs'>;
  /** The floor in force: `min`, or what the last `schedule` entry set. */
  floor: number;
  agents: readonly PoolAgent[];
  /** Claimable queued jobs this pool should serve. */
  demand: number;
  health: ProviderHealth;
  nowMs: number;
  /** How long a started or disconnected agent may take to connect (default 60 s). */
  startDeadlineMs?: number;
}

export interface Decision {
  /** `cause`: the reason in one word (waiting jobs come first when both hold), for the metrics. */
  start: { count: number; reason: string; cause: 'jobs_waiting' | 'floor' } | null;
  drain: Array<{ agent: string; agentId: number; reason: string }>;
  remove: Array<{ agent: string; reason: string }>;
  /** How many agents the pool wants, draining ones not counted. */
  desired: number;
  /** Why the pool does not start all it needs (at max, backing off); null when nothing holds it. */
  held: string | null;
}

export const DEFAULT_START_DEADLINE_MS = 60_000;

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

export function decide(input: PolicyInput): Decision {
  const { pool, agents, demand, health, nowMs } = input;
  const deadlineMs = input.startDeadlineMs ?? DEFAULT_START_DEADLINE_MS;
  const floor = Math.min(Math.max(input.floor, 0), pool.max);

  const remove = agents
    .filter((a) => (a.state === 'starting' || a.state === 'offline') && nowMs - (a.unseenSinceMs ?? nowMs) >= deadlineMs)
    .map((a) => ({
      agent: a.name,
      reason: a.state === 'starting' ? `never connected within ${formatMs(deadlineMs)}` : `disconnected for over ${formatMs(deadlineMs)}`,
    }));
  const removed = new Set(remove.map((r) => r.agent));
  const live = agents.filter((a) => !removed.has(a.name));          // processes that stay: count toward max
  const active = live.filter((a) => a.state !== 'draining');        // agents that will serve jobs

  const connected = active.filter((a) => a.state === 'idle' || a.state === 'busy');
  const freeSlots = connected.reduce((sum, a) => sum + Math.max(0, a.capacity - a.jobs), 0);
  const pending = active.filter((a) => a.state === 'starting' || a.state === 'offline').length;
  const missingSlots = demand - freeSlots - pending * pool.capacity;
  const forJobs = missingSlots > 0 ? Math.ceil(missingSlots / pool.capacity) : 0;
  const forFloor = Math.max(0, floor - active.length);
  const wanted = Math.max(forJobs, forFloor);
  const room = Math.max(0, pool.max - live.length);

  const why: string[] = [];
  if (forJobs > 0) why.push(`${plural(demand, 'job')} waiting, ${plural(freeSlots, 'free slot')}${pending > 0 ? `, ${pending} starting` : ''}`);
  if (forFloor > 0) why.push(`below the floor of ${floor} (${plural(active.length, 'agent')})`);

  let count = Math.min(wanted, room);
  let held: string | null = wanted > room ? `at its max (${plural(pool.max, 'agent')})` : null;
  if (count > 0 && isBackingOff(health, nowMs)) {
    held = `provider failing, next try in ${formatMs(health.backoffUntilMs! - nowMs)}: ${health.error ?? 'unknown error'}`;
    count = 0;
  }

  // Why no drain while jobs wait: an idle agent beside waiting jobs is a dispatch in flight.
  const surplus = demand > 0 ? 0 : active.length - floor;
  const drain = connected
    .filter((a) => a.state === 'idle' && a.agentId !== null && a.idleSinceMs !== null && nowMs - a.idleSinceMs >= pool.idleTimeoutMs)
    .sort((a, b) => a.idleSinceMs! - b.idleSinceMs! || a.name.localeCompare(b.name))
    .slice(0, Math.max(0, surplus))
    .map((a) => ({
      agent: a.name,
      agentId: a.agentId!,
      reason: `idle for ${formatMs(nowMs - a.idleSinceMs!)} (idle timeout ${formatMs(pool.idleTimeoutMs)}), above the floor of ${floor}`,
    }));

  return {
    start: count > 0 ? { count, reason: why.join('; '), cause: forJobs > 0 ? 'jobs_waiting' : 'floor' } : null,
    drain,
    remove,
    desired: Math.min(pool.max, active.length + Math.min(wanted, room) - drain.length),
    held,
  };
}

/** Job slots the pool can still offer now: free and starting slots, and new agents up to max unless backing off. */
export function roomOf(input: Pick<PolicyInput, 'pool' | 'agents' | 'health' | 'nowMs'>): number {
  const { pool, agents, health, nowMs } = input;
  let slots = 0;
  for (const a of agents) {
    if (a.state === 'idle' || a.state === 'busy') slots += Math.max(0, a.capacity - a.jobs);
    else if (a.state === 'starting' || a.state === 'offline') slots += pool.capacity;
  }
  if (!isBackingOff(health, nowMs)) slots += Math.max(0, pool.max - agents.length) * pool.capacity;
  return slots;
}
