// The orphan watch on a fake clock: it counts unreachable time, not wall time since the start.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { systemClock } from '../../../agent/connection/clock.js';
import { createOrphanWatch } from '../../../agent/connection/orphan-watch.js';

describe('orphan watch', () => {
  beforeEach(() => { vi.useFakeTimers(); });
  afterEach(() => { vi.useRealTimers(); });

  it('fires once the server was unreachable for the timeout since the start', () => {
    const orphaned = vi.fn();
    createOrphanWatch({ clock: systemClock, timeoutMs: 10 * 60_000, onOrphaned: orphaned });
    vi.advanceTimersByTime(10 * 60_000 - 1);
    expect(orphaned).not.toHaveBeenCalled();
    vi.advanceTimersByTime(1);
    expect(orphaned).toHaveBeenCalledExactlyOnceWith(10 * 60_000);
  });

  it('a welcome stops the count, and a lost session starts it again from zero', () => {
    const orphaned = vi.fn();
    const watch = createOrphanWatch({ clock: systemClock, timeoutMs: 60_000, onOrphaned: orphaned });
    vi.advanceTimersByTime(50_000);
    watch.reachable();
    vi.advanceTimersByTime(3_600_000);
    watch.unreachable();
    vi.advanceTimersByTime(59_999);
    expect(orphaned).not.toHaveBeenCalled();
    watch.unreachable(); // a second close in the same outage does not restart the count
    vi.advanceTimersByTime(1);
    expect(orphaned).toHaveBeenCalledTimes(1);
  });

  it('waits a timeout longer than Node timers allow (30 days) in full', () => {
    const orphaned = vi.fn();
    createOrphanWatch({ clock: systemClock, timeoutMs: 30 * 86_400_000, onOrphaned: orphaned });
    vi.advanceTimersByTime(25 * 86_400_000);
    expect(orphaned).not.toHaveBeenCalled();
    vi.advanceTimersByTime(5 * 86_400_000);
    expect(orphaned).toHaveBeenCalledTimes(1);
  });
});
