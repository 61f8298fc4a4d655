// The pools chart's sampler on a real store: no samples before start(), one per period while
// started, none after stop(); and the dashboard's /pools page showing what it took.
import pino from 'pino';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createDashboard } from '../../server/dashboard/index.js';
import { createSampler, type Repeat } from '../../server/dashboard/sampler.js';
import type { KilnService } from '../../server/service.js';
import { newRun, seeded, T0 } from './store/fixtures.js';
import { testAccess } from '../helpers/access.js';

const logger = pino({ level: 'silent' });

/** A hand-driven timer: `tick()` is one period passing. */
function manualRepeat() {
  const timer = { ticks: [] as Array<() => void>, periods: [] as number[], cancelled: 0 };
  const repeat: Repeat = (tick, ms) => {
    timer.ticks.push(tick);
    timer.periods.push(ms);
    let live = true;
    return () => {
      if (live) timer.cancelled++;
      live = false;
    };
  };
  return { timer, repeat, tick: () => timer.ticks.forEach((t) => t()) };
}

afterEach(() => void vi.useRealTimers());

describe('the pools sampler', () => {
  it('takes no sample before start(), one at start and one per period, none after stop()', () => {
    const { store, repo } = seeded([['linux'], ['linux']]);
    store.runs.createRun(newRun(repo.id));
    let now = T0;
    const { timer, repeat, tick } = manualRepeat();
    const sampler = createSampler({ store, logger, everyMs: 2000, now: () => now, repeat });
    expect(sampler.samples()).toEqual([]);
    expect(timer.ticks).toEqual([]);

    sampler.start();
    expect(timer.periods).toEqual([2000]);
    now += 2000;
    tick();
    expect(sampler.samples()).toEqual([
      { atMs: T0, queued: 1, agents: 2, busy: 0 },
      { atMs: T0 + 2000, queued: 1, agents: 2, busy: 0 },
    ]);
    sampler.start(); // a second start changes nothing
    expect(timer.ticks).toHaveLength(1);

    sampler.stop();
    sampler.stop();
    expect(timer.cancelled).toBe(1);
    expect(sampler.samples()).toHaveLength(2);
  });

  it('with the real timer, samples only between start() and stop()', () => {
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] });
    const { store } = seeded();
    let now = T0;
    const sampler = createSampler({ store, logger, everyMs: 1000, now: () => now });
    vi.advanceTimersByTime(10_000);
    expect(sampler.samples()).toEqual([]);
    sampler.start();
    for (let i = 0; i < 3; i++) {
      now += 1000;
      vi.advanceTimersByTime(1000);
    }
    expect(sampler.samples().map((s) => s.atMs)).toEqual([T0, T0 + 1000, T0 + 2000, T0 + 3000]);
    sampler.stop();
    vi.advanceTimersByTime(60_000);
    expect(sampler.samples()).toHaveLength(4);
    expect(vi.getTimerCount()).toBe(0);
  });
});

describe("the dashboard's lifecycle", () => {
  it('draws no chart before start(), a chart once started, and nothing new after stop()', async () => {
    const { store } = seeded();
    const { timer, repeat } = manualRepeat();
    const service = { pools: () => [] } as unknown as KilnService;
    const dashboard = createDashboard({ store, service, logger, access: testAccess(store, { private: false }), now: () => T0, repeat });
    const pools = async () => (await dashboard.app.request('/pools')).text();
    expect(await pools()).toContain('No samples yet.');
    dashboard.start();
    const started = await pools();
    expect(started).toContain('<svg class="chart"');
    dashboard.stop();
    expect(timer.cancelled).toBe(1);
    expect(await pools()).toBe(started);
    expect(timer.ticks).toHaveLength(1);
  });
});
