// Timeouts longer than Node's timer limit (2^31-1 ms, about 24.8 days) wait their full length.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { MAX_TIMER_MS, setLongTimeout } from '../../../agent/executors/long-timeout.js';

const DAY_MS = 86_400_000;

describe('setLongTimeout', () => {
  beforeEach(() => { vi.useFakeTimers(); });
  afterEach(() => { vi.useRealTimers(); });

  it('a 30-day timeout does not fire at 1 ms, nor at 24.8 days, nor 1 ms before 30 days, and fires at 30 days', () => {
    const fired = vi.fn();
    setLongTimeout(fired, 30 * DAY_MS);
    vi.advanceTimersByTime(1);
    expect(fired).not.toHaveBeenCalled();
    vi.advanceTimersByTime(MAX_TIMER_MS);
    expect(fired).not.toHaveBeenCalled();
    vi.advanceTimersByTime(30 * DAY_MS - MAX_TIMER_MS - 2);
    expect(fired).not.toHaveBeenCalled();
    vi.advanceTimersByTime(1);
    expect(fired).toHaveBeenCalledTimes(1);
    vi.advanceTimersByTime(365 * DAY_MS);
    expect(fired).toHaveBeenCalledTimes(1);
  });

  it('a short timeout fires on time, once', () => {
    const fired = vi.fn();
    setLongTimeout(fired, 50);
    vi.advanceTimersByTime(49);
    expect(fired).not.toHaveBeenCalled();
    vi.advanceTimersByTime(1);
    expect(fired).toHaveBeenCalledTimes(1);
  });

  it('cancelled in its second leg, a 60-day timeout never fires', () => {
    const fired = vi.fn();
    const cancel = setLongTimeout(fired, 60 * DAY_MS);
    vi.advanceTimersByTime(30 * DAY_MS);
    cancel();
    cancel();
    vi.advanceTimersByTime(60 * DAY_MS);
    expect(fired).not.toHaveBeenCalled();
  });
});
