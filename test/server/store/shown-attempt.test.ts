// The one rule for which attempt a job's log shows.
import { describe, expect, it } from 'vitest';
import { shownAttempt } from '../../../server/store/index.js';
import type { Status as JobStatus } from '../../../shared/status.js';

describe('shownAttempt', () => {
  it.each<[string, JobStatus, number, number | undefined, number]>([
    ['a job not started yet shows its first attempt', 'queued', 0, undefined, 1],
    ['a job waiting for approval shows its first attempt', 'blocked', 0, undefined, 1],
    ['a running job shows the attempt it runs', 'running', 2, undefined, 2],
    ['a job queued again for a retry shows the attempt it will run', 'queued', 1, undefined, 2],
    ['a finished job shows its last attempt', 'failed', 3, undefined, 3],
    ['an attempt asked for wins', 'success', 3, 1, 1],
    ['attempt=0 (or none) means the default', 'success', 3, 0, 3],
  ])('%s', (_, status, attempt, requested, shown) => {
    expect(shownAttempt({ status, attempt }, requested)).toBe(shown);
  });

  it('answers 0, an attempt without lines, for no job', () => {
    expect(shownAttempt(null)).toBe(0);
    expect(shownAttempt(null, 2)).toBe(2);
  });
});
