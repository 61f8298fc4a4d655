// Scheduled floors: a pool's `schedule` entries raise (or lower) its floor from the moment their
// cron expression fires until the next entry fires. node-cron parses and matches the expressions.
import { createRequire } from 'node:module';
import type { ScheduledTask } from 'node-cron';
import { badInput } from '../../shared/errors.js';
import type { PoolConfig } from '../config.js';

/** How far back a restarted server looks for the entry in force (weekly schedules fit). */
const LOOKBACK_MS = 8 * 24 * 3600_000;
const MINUTE_MS = 60_000;

export interface PoolSchedule {
  /**
   * The floor at `nowMs`: the `min` of the entry that fired last (a later entry wins within
   * the same minute), or the pool's `min` when none fired in the last 8 days. Calls with a
   * clock that moves forward cost only the minutes in between.
   */
  floor(nowMs: number): number;
  /** Starts the timers that call `onFire` when an entry fires (so the pool reconciles at once). */
  start(onFire: () => void): void;
  stop(): void;
}

/** Throws a KilnError (bad_input) naming the pool and the expression when one does not parse. */
export function createPoolSchedule(pool: Pick<PoolConfig, 'name' | 'min' | 'schedule'>): PoolSchedule {
  const { min } = pool;
  let fire = () => {};
  // Tasks are made stopped: `match` works without timers; `start` arms them.
  const tasks: Array<{ task: ScheduledTask; min: number }> = [];
  // node-cron loads only for a pool that has a schedule (its CommonJS build: this runs at start, synchronously).
  const { createTask } = pool.schedule.length ? createRequire(import.meta.url)('node-cron') as typeof import('node-cron') : { createTask: null! };
  for (const [i, entry] of pool.schedule.entries()) {
    try {
      tasks.push({ task: createTask(entry.cron, () => fire(), { name: `pool-${pool.name}-floor-${i}`, noOverlap: false }), min: entry.min });
    } catch (error) {
      for (const made of tasks) void made.task.destroy();
      throw badInput(`pool ${pool.name}: schedule[${i}]: "${entry.cron}": ${error instanceof Error ? error.message : String(error)}`, error);
    }
  }
  // The last minute scanned and the floor in force at its end.
  let cache: { minuteMs: number; floor: number } | null = null;

  const firedAt = (minuteMs: number): number | null => {
    let found: number | null = null;
    for (const { task, min: m } of tasks) {
      const second = firstSecond(task.getPattern());
      if (task.match(new Date(minuteMs + second * 1000))) found = m;
    }
    return found;
  };

  return {
    floor(nowMs) {
      if (tasks.length === 0) return min;
      const minuteMs = Math.floor(nowMs / MINUTE_MS) * MINUTE_MS;
      if (!cache || minuteMs < cache.minuteMs || minuteMs - cache.minuteMs > LOOKBACK_MS) {
        cache = { minuteMs: minuteMs - LOOKBACK_MS - MINUTE_MS, floor: min };
      }
      for (let t = cache.minuteMs + MINUTE_MS; t <= minuteMs; t += MINUTE_MS) {
        const set = firedAt(t);
        if (set !== null) cache.floor = set;
      }
      cache.minuteMs = minuteMs;
      return cache.floor;
    },
    start(onFire) {
      fire = onFire;
      for (const { task } of tasks) void task.start();
    },
    stop() {
      for (const { task } of tasks) void task.destroy();
    },
  };
}

/** The first second an expression fires in (0 for five-field expressions). */
function firstSecond(pattern: string): number {
  const fields = pattern.trim().split(/\s+/);
  if (fields.length < 6) return 0;
  const first = /^(\d+)/.exec(fields[0]!);
  return first ? Number(first[1]) : 0;
}
