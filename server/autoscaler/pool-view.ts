// What the outside sees of a pool: the `GET /api/pools` view and the snapshot wait reasons use.
import type { ProviderKind } from '../config.js';
import { labelsCover } from './demand.js';
import { isBackingOff } from './health.js';
import type { PoolState, ScalingEvent } from './pool-pass.js';
import type { PoolSnapshot } from './wait-reason.js';

/** A pool for `GET /api/pools` (SPEC §3 `pool`, plus `labels`, `floor` and `error`). */
export interface PoolView {
  name: string;
  provider: ProviderKind;
  labels: string[];
  min: number;
  max: number;
  /** The floor in force (min, or what a schedule entry set). */
  floor: number;
  desired: number;
  agents: { idle: number; busy: number; draining: number; offline: number; starting: number };
  /** Claimable queued jobs whose labels this pool has. */
  queued: number;
  /** Newest first. */
  events: ScalingEvent[];
  /** Why the pool cannot start agents (its provider fails); null when it can. */
  error: string | null;
}

export function toPoolView(state: PoolState, claimable: ReadonlyArray<{ runsOn: readonly string[] }>): PoolView {
  const { config } = state;
  const count = (s: string) => state.agents.filter((a) => a.state === s).length;
  return {
    name: config.name, provider: config.provider, labels: [...config.labels], min: config.min, max: config.max,
    floor: state.floor, desired: state.desired,
    agents: { idle: count('idle'), busy: count('busy'), draining: count('draining'), offline: count('offline'), starting: count('starting') },
    queued: claimable.filter((j) => labelsCover(config.labels, j.runsOn)).length,
    events: [...state.events].reverse(),
    error: state.health.failures > 0 ? state.health.error : null,
  };
}

export function toSnapshot(state: PoolState, nowMs: number): PoolSnapshot {
  return {
    name: state.config.name, labels: state.config.labels, max: state.config.max, agents: state.agents,
    error: state.health.failures > 0 ? state.health.error : null, backingOff: isBackingOff(state.health, nowMs),
  };
}
