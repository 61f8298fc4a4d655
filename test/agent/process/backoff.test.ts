// Reconnect back-off and the silence watchdog, on injected randomness and a fake clock.
import { describe, expect, it } from 'vitest';
import { createBackoff } from '../../../agent/connection/backoff.js';
import type { Clock } from '../../../agent/connection/clock.js';
import { createSilenceWatchdog, silenceLimitMs } from '../../../agent/lease.js';

/** A clock whose time moves only through `advance`. */
function fakeClock(): Clock & { advance(ms: number): void } {
  let now = 0;
  let timers: Array<{ at: number; fn: () => void; id: number }> = [];
  let nextId = 1;
  return {
    now: () => now,
    setTimeout: (fn, ms) => {
      const id = nextId++;
      timers.push({ at: now + ms, fn, id });
      return id;
    },
    clearTimeout: (id) => { timers = timers.filter((t) => t.id !== id); },
    advance(ms) {
      const end = now + ms;
      for (;;) {
        const due = timers.filter((t) => t.at <= end).sort((a, b) => a.at - b.at)[0];
        if (!due) break;
        timers = timers.filter((t) => t !== due);
        now = due.at;
        due.fn();
      }
      now = end;
    },
  };
}

describe('reconnect back-off', () => {
  it('doubles from 0.5 s up to the 30 s cap, each delay between half and all of its ceiling', () => {
    const low = createBackoff({ random: () => 0 });
    const high = createBackoff({ random: () => 0.999999 });
    const lows = Array.from({ length: 9 }, () => low.next());
    const highs = Array.from({ length: 9 }, () => high.next());
    expect(lows).toEqual([250, 500, 1000, 2000, 4000, 8000, 15_000, 15_000, 15_000]);
    expect(highs).toEqual([500, 1000, 2000, 4000, 8000, 16_000, 30_000, 30_000, 30_000]);
  });

  it('starts over after reset (a healthy connection)', () => {
    const backoff = createBackoff({ random: () => 0.5 });
    backoff.next();
    backoff.next();
    backoff.next();
    expect(backoff.attempts).toBe(3);
    backoff.reset();
    expect(backoff.next()).toBe(375);
  });
});

describe('silence watchdog', () => {
  it('is twice the server ping interval (a quarter lease, 200 ms to 5 s)', () => {
    expect(silenceLimitMs(30_000)).toBe(10_000);
    expect(silenceLimitMs(8000)).toBe(4000);
    expect(silenceLimitMs(100)).toBe(400);
  });

  it('fires once after the limit without a touch, not while frames keep coming', () => {
    const clock = fakeClock();
    const fired: number[] = [];
    const watchdog = createSilenceWatchdog({ clock, limitMs: 1000, onSilent: (ms) => fired.push(ms) });
    for (let i = 0; i < 10; i++) {
      clock.advance(600);
      watchdog.touch();
    }
    expect(fired).toEqual([]);
    clock.advance(999);
    expect(fired).toEqual([]);
    clock.advance(1);
    expect(fired).toEqual([1000]);
    clock.advance(5000);
    expect(fired).toEqual([1000]);
  });

  it('follows a new limit from welcome, and stays quiet once stopped', () => {
    const clock = fakeClock();
    const fired: number[] = [];
    const watchdog = createSilenceWatchdog({ clock, limitMs: 10_000, onSilent: (ms) => fired.push(ms) });
    clock.advance(300);
    watchdog.setLimitMs(500);
    clock.advance(200);
    expect(fired).toEqual([500]);
    const other = createSilenceWatchdog({ clock, limitMs: 100, onSilent: () => fired.push(-1) });
    other.stop();
    clock.advance(1000);
    expect(fired).toEqual([500]);
  });
});
