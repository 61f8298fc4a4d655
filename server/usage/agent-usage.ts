// The cost view (issue 13), as a pure function of what the store recorded: per UTC day and pool,
// agent-minutes busy and idle, cold starts, what a fixed pool of `max` would have used; and per
// day and label set, the queue wait. Times in ms since epoch; no clock, no I/O.
import type { AgentSpan, BusySpan, StartedJob } from '../store/index.js';

export const DAY_MS = 86_400_000;
const MINUTE_MS = 60_000;

/** A configured pool's upper bound: a fixed pool would keep `max` agents all day. */
export interface PoolBound { name: string; max: number }

export interface UsageInput {
  spans: readonly AgentSpan[];
  busy: readonly BusySpan[];
  started: readonly StartedJob[];
  pools: readonly PoolBound[];
  /** The first day's start (UTC midnight). */
  fromMs: number;
  /** Since when agents were watched (the first span): a fixed pool is counted from then on. */
  observedSinceMs: number;
  nowMs: number;
}

/** Nearest-rank percentiles of a set of durations, in seconds; null for an empty set. */
export interface Percentiles { count: number; p50Seconds: number | null; p95Seconds: number | null }

export interface PoolDay {
  day: string;
  /** null: agents that belong to no pool. */
  pool: string | null;
  agentMinutes: number;
  busyMinutes: number;
  idleMinutes: number;
  /** Jobs that waited for an agent that connected after they began to wait. */
  coldStarts: Percentiles;
  /** The pool's `max` (null: no pool, or one without a bound). */
  max: number | null;
  /** The part of the day inside the view and since agents were first watched (a whole day, or today until now). */
  observedMinutes: number;
  /** max × observedMinutes. */
  fixedPoolMinutes: number | null;
  /** fixedPoolMinutes − agentMinutes. */
  savedMinutes: number | null;
}

export interface LabelDay { day: string; labels: string[]; queueWait: Percentiles }

export interface AgentUsage { from: string; to: string; days: string[]; pools: PoolDay[]; queueWait: LabelDay[] }

/** The UTC midnight that starts the day `days - 1` days before the one holding `nowMs`. */
export function usageFrom(nowMs: number, days: number): number {
  return Math.floor(nowMs / DAY_MS) * DAY_MS - (days - 1) * DAY_MS;
}

export function percentiles(durationsMs: readonly number[]): Percentiles {
  const sorted = [...durationsMs].sort((a, b) => a - b);
  const rank = (p: number) => sorted.length === 0 ? null : Math.round(sorted[Math.ceil(p * sorted.length) - 1]! / 100) / 10;
  return { count: sorted.length, p50Seconds: rank(0.5), p95Seconds: rank(0.95) };
}

const minutes = (ms: number) => Math.round((ms / MINUTE_MS) * 100) / 100;
const dayOf = (ms: number) => new Date(Math.floor(ms / DAY_MS) * DAY_MS).toISOString().slice(0, 10);

/** Adds the length of [a, b) to `perDay`, split at UTC midnights. */
function addByDay(perDay: Map<string, number>, a: number, b: number): void {
  while (a < b) {
    const end = Math.min(b, (Math.floor(a / DAY_MS) + 1) * DAY_MS);
    perDay.set(dayOf(a), (perDay.get(dayOf(a)) ?? 0) + end - a);
    a = end;
  }
}

/** The union of intervals, sorted and merged. */
function merge(intervals: Array<[number, number]>): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  for (const [a, b] of intervals.sort((x, y) => x[0] - y[0])) {
    const last = out[out.length - 1];
    if (last && a <= last[1]) last[1] = Math.max(last[1], b);
    else if (a < b) out.push([a, b]);
  }
  return out;
}

interface Tally { spanMs: Map<string, number>; busyMs: Map<string, number>; cold: Map<string, number[]> }

export function agentUsage({ spans, busy, started, pools, fromMs, observedSinceMs, nowMs }: UsageInput): AgentUsage {
  const days: string[] = [];
  for (let d = fromMs; d < nowMs; d += DAY_MS) days.push(dayOf(d));
  const tallies = new Map<string | null, Tally>();
  const tally = (pool: string | null) => {
    let t = tallies.get(pool);
    if (!t) tallies.set(pool, (t = { spanMs: new Map(), busyMs: new Map(), cold: new Map() }));
    return t;
  };
  for (const pool of pools) tally(pool.name);

  const busyByAgent = new Map<string, BusySpan[]>();
  const spansByAgent = new Map<string, AgentSpan[]>();
  for (const b of busy) busyByAgent.get(b.agent)?.push(b) ?? busyByAgent.set(b.agent, [b]);
  for (const s of spans) spansByAgent.get(s.agent)?.push(s) ?? spansByAgent.set(s.agent, [s]);
  for (const span of spans) {
    const a = Math.max(span.connectedMs, fromMs);
    const b = Math.min(span.disconnectedMs ?? nowMs, nowMs);
    if (a >= b) continue;
    const t = tally(span.pool);
    addByDay(t.spanMs, a, b);
    const held = (busyByAgent.get(span.agent) ?? []).map((j): [number, number] => [Math.max(j.startedMs, a), Math.min(j.finishedMs ?? nowMs, b)]);
    for (const [x, y] of merge(held)) addByDay(t.busyMs, x, y);
  }

  const waits = new Map<string, { day: string; labels: string[]; ms: number[] }>();
  for (const job of started) {
    const day = dayOf(job.startedMs);
    const labels = [...job.runsOn].sort();
    const key = `${day} ${JSON.stringify(labels)}`;
    const entry = waits.get(key) ?? { day, labels, ms: [] };
    entry.ms.push(Math.max(0, job.startedMs - job.waitingSinceMs));
    waits.set(key, entry);
    // A cold start: the agent that took the job connected after the job began to wait.
    const span = (job.agent === null ? [] : spansByAgent.get(job.agent) ?? []).find((s) => s.connectedMs <= job.startedMs && (s.disconnectedMs ?? Infinity) >= job.startedMs);
    if (span && span.connectedMs > job.waitingSinceMs) {
      const cold = tally(span.pool).cold;
      const coldDay = dayOf(span.connectedMs);
      cold.get(coldDay)?.push(span.connectedMs - job.waitingSinceMs) ?? cold.set(coldDay, [span.connectedMs - job.waitingSinceMs]);
    }
  }

  const maxOf = new Map(pools.map((p) => [p.name, p.max]));
  const rows: PoolDay[] = [];
  const names = [...tallies.keys()].sort((x, y) => (x === null ? 1 : y === null ? -1 : x.localeCompare(y)));
  for (const day of days) {
    const start = Date.parse(`${day}T00:00:00Z`);
    const observedMs = Math.max(0, Math.min(start + DAY_MS, nowMs) - Math.max(start, fromMs, observedSinceMs));
    for (const pool of names) {
      const t = tallies.get(pool)!;
      const spanMs = t.spanMs.get(day) ?? 0;
      const busyMs = t.busyMs.get(day) ?? 0;
      const max = pool === null ? null : maxOf.get(pool) ?? null;
      const fixedMs = max === null ? null : max * observedMs;
      rows.push({
        day, pool, agentMinutes: minutes(spanMs), busyMinutes: minutes(busyMs), idleMinutes: minutes(spanMs - busyMs),
        coldStarts: percentiles(t.cold.get(day) ?? []), max, observedMinutes: minutes(observedMs),
        fixedPoolMinutes: fixedMs === null ? null : minutes(fixedMs), savedMinutes: fixedMs === null ? null : minutes(fixedMs - spanMs),
      });
    }
  }
  const queueWait = [...waits.values()]
    .sort((x, y) => x.day.localeCompare(y.day) || x.labels.join(',').localeCompare(y.labels.join(',')))
    .map((w) => ({ day: w.day, labels: w.labels, queueWait: percentiles(w.ms) }));
  return { from: new Date(fromMs).toISOString(), to: new Date(nowMs).toISOString(), days, pools: rows, queueWait };
}
