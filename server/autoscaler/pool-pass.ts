// One reconcile pass of one pool: list → observe → decide → apply (remove, drain, deploy), each
// action recorded as a scaling event with its reason. Passes of one pool never overlap.
import type { Logger } from 'pino';
import type { PoolConfig } from '../config.js';
import type { Store } from '../store/index.js';
import { HEALTHY, isBackingOff, recordFailure, recordSuccess, type BackoffOptions, type ProviderHealth } from './health.js';
import { observePool, type ConnectedAgent, type Track } from './observe.js';
import { decide, type PoolAgent } from './policy.js';
import type { AgentProvider, AgentSpec } from './provider.js';
import type { PoolSchedule } from './schedule.js';

/** A recorded scaling decision (or failure), newest kept. */
export interface ScalingEvent {
  at: string;               // ISO 8601 UTC
  action: 'start' | 'drain' | 'remove' | 'error';
  count?: number;
  agent?: string;
  reason: string;
}

/** Why a pool scaled, in one word: start for waiting jobs or its floor, drain an idle agent, remove one that never connected or stayed away. */
export type ScalingCause = 'jobs_waiting' | 'floor' | 'idle' | 'never_connected' | 'disconnected';
/** What failed at a provider (each failure extends the pool's back-off). */
export type ProviderFailure = 'unavailable' | 'list' | 'deploy' | 'remove' | 'exited_before_connecting' | 'never_connected';

/** Told of every scaling action and provider failure (the server's metrics); must be cheap and never throw. */
export interface PoolObserver {
  scaled(pool: PoolConfig, action: 'start' | 'drain' | 'remove', cause: ScalingCause): void;
  providerFailed(pool: PoolConfig, failure: ProviderFailure): void;
}

/** Everything the loop keeps of one pool between passes. */
export interface PoolState {
  config: PoolConfig;
  log: Logger;
  schedule: PoolSchedule;
  health: ProviderHealth;
  tracks: Map<string, Track>;
  agents: PoolAgent[];
  floor: number;
  desired: number;
  held: string | null;
  events: ScalingEvent[];
}

export interface PassContext {
  provider: AgentProvider | undefined;
  store: Pick<Store, 'agents'>;
  hub: { sessions(): readonly ConnectedAgent[]; drain(agentId: number): boolean };
  spec: AgentSpec;
  nowMs: number;
  startDeadlineMs: number | undefined;
  backoff: BackoffOptions | undefined;
  maxEvents: number;
  /** The claimable jobs this pool should scale for, given its fresh agents. */
  demand(agents: readonly PoolAgent[]): number;
  observer?: PoolObserver | undefined;
}

export function newPoolState(config: PoolConfig, log: Logger, schedule: PoolSchedule): PoolState {
  return { config, log, schedule, health: HEALTHY, tracks: new Map(), agents: [], floor: config.min, desired: config.min, held: null, events: [] };
}

const message = (error: unknown) => (error instanceof Error ? error.message : String(error)).split('\n')[0]!;

export async function runPass(state: PoolState, ctx: PassContext): Promise<void> {
  const { config: pool, log } = state;
  const { provider, store, hub, nowMs } = ctx;
  const record = (event: Omit<ScalingEvent, 'at'>) => {
    state.events.push({ at: new Date(nowMs).toISOString(), ...event });
    if (state.events.length > ctx.maxEvents) state.events.splice(0, state.events.length - ctx.maxEvents);
  };
  const fail = (reason: string, failure: ProviderFailure) => {
    ctx.observer?.providerFailed(pool, failure);
    const counts = !isBackingOff(state.health, nowMs);
    state.health = recordFailure(state.health, reason, nowMs, ctx.backoff);
    if (counts) {
      record({ action: 'error', reason });
      log.warn({ reason, failures: state.health.failures, backoffUntil: new Date(state.health.backoffUntilMs!).toISOString() }, 'provider failing; backing off');
    }
  };

  if (!provider) return fail(`the ${pool.provider} provider is not available in this kiln`, 'unavailable');
  let instances;
  try {
    instances = await provider.list(pool);
  } catch (error) {
    return fail(`listing agents failed: ${message(error)}`, 'list');
  }
  const seen = observePool({
    pool: pool.name, instances, sessions: hub.sessions(), tracks: state.tracks, nowMs,
    connectedBefore: (name) => store.agents.getAgentByName(name) !== null,
  });
  state.tracks = seen.tracks;
  state.agents = seen.agents;
  if (seen.firstConnected.length > 0 && state.health.failures > 0) {
    state.health = recordSuccess();
    log.info({ agent: seen.firstConnected[0] }, 'provider recovered: an agent connected');
  }
  for (const { name, track } of seen.vanished) {
    if (track.instance && !track.connectedOnce) fail(`agent ${name} exited before connecting${track.instance.log ? ` (see ${track.instance.log})` : ''}`, 'exited_before_connecting');
  }
  // Pool agents come and go by the hundred: rows of ones with neither a process nor a session
  // are deleted, so /api/agents lists what exists (removeAgent keeps rows that still hold leases).
  for (const row of store.agents.listAgents()) {
    if (row.pool === pool.name && row.status === 'offline' && !seen.tracks.has(row.name)) store.agents.removeAgent(row.id);
  }

  state.floor = state.schedule.floor(nowMs);
  const decision = decide({ pool, floor: state.floor, agents: seen.agents, demand: ctx.demand(seen.agents), health: state.health, nowMs, startDeadlineMs: ctx.startDeadlineMs });
  state.desired = decision.desired;
  state.held = decision.held;

  for (const { agent, reason } of decision.remove) {
    const instance = instances.find((i) => i.name === agent)!;
    const wasStarting = seen.agents.find((a) => a.name === agent)?.state === 'starting';
    try {
      log.info({ agent, reason }, 'removing agent');
      await provider.remove(instance);
      state.tracks.delete(agent);
      state.agents = state.agents.filter((a) => a.name !== agent);
      record({ action: 'remove', agent, reason });
      ctx.observer?.scaled(pool, 'remove', wasStarting ? 'never_connected' : 'disconnected');
      if (wasStarting) fail(`agent ${agent} ${reason}${instance.log ? ` (see ${instance.log})` : ''}`, 'never_connected');
    } catch (error) {
      fail(`removing agent ${agent} failed: ${message(error)}`, 'remove');
    }
  }
  for (const { agent, agentId, reason } of decision.drain) {
    if (!hub.drain(agentId)) continue; // it left meanwhile: the next pass sees it gone
    log.info({ agent, reason }, 'draining agent');
    record({ action: 'drain', agent, reason });
    ctx.observer?.scaled(pool, 'drain', 'idle');
    const drained = state.agents.find((a) => a.name === agent);
    if (drained) drained.state = 'draining';
  }
  if (decision.start && !isBackingOff(state.health, nowMs)) {
    const { count, reason, cause } = decision.start;
    try {
      log.info({ count, reason }, 'starting agents');
      const made = await provider.deploy(pool, count, ctx.spec);
      for (const instance of made) {
        state.tracks.set(instance.name, { firstSeenMs: nowMs, connectedOnce: false, lastConnectedMs: null, idleSinceMs: null, drainingOnce: false, instance: { log: instance.log } });
        state.agents.push({ name: instance.name, agentId: null, state: 'starting', jobs: 0, capacity: 0, idleSinceMs: null, unseenSinceMs: nowMs });
      }
      record({ action: 'start', count: made.length, reason });
      ctx.observer?.scaled(pool, 'start', cause);
    } catch (error) {
      fail(message(error), 'deploy');
    }
  }
}
