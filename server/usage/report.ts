// The cost view over a store: reads the days asked for (bounded ranges) and aggregates them.
import { KilnError } from '../../shared/errors.js';
import type { Store } from '../store/index.js';
import { agentUsage, usageFrom, type AgentUsage, type PoolBound } from './agent-usage.js';

export const MAX_USAGE_DAYS = 90;

/** `?days=N`: a whole number from 1 to 90, 7 when absent; anything else is bad input. */
export function parseUsageDays(raw: string | undefined): number {
  if (raw === undefined || raw === '') return 7;
  const days = /^\d+$/.test(raw) ? Number(raw) : NaN;
  if (!(days >= 1 && days <= MAX_USAGE_DAYS)) throw new KilnError('bad_input', `days must be a whole number from 1 to ${MAX_USAGE_DAYS}, not ${JSON.stringify(raw)}`);
  return days;
}

/** The bounds of `service.pools()` entries (SPEC §3 pool shape) that have a numeric `max`. */
export function poolBounds(pools: unknown[]): PoolBound[] {
  return pools.flatMap((p) => {
    const { name, max } = (p ?? {}) as { name?: unknown; max?: unknown };
    return typeof name === 'string' && typeof max === 'number' ? [{ name, max }] : [];
  });
}

export function readAgentUsage(store: Store, pools: PoolBound[], nowMs: number, days: number): AgentUsage {
  const fromMs = usageFrom(nowMs, days);
  return agentUsage({
    spans: store.usage.listAgentSpans(fromMs, nowMs),
    busy: store.usage.listBusySpans(fromMs, nowMs),
    started: store.usage.listStartedJobs(fromMs, nowMs),
    pools, fromMs, nowMs, observedSinceMs: store.usage.firstSpanAt() ?? nowMs,
  });
}
