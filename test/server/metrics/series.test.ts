// The plain-number series behind GET /metrics: cumulative histogram buckets, and label sets
// that stay bounded whatever pipelines ask for.
import { describe, expect, it } from 'vitest';
import { createLabelSets, OTHER_LABEL_SET } from '../../../server/metrics/label-sets.js';
import { CounterSeries, HistogramSeries } from '../../../server/metrics/series.js';

describe('metrics series', () => {
  it('a histogram counts each value in every bucket at or above it, with sum and count', () => {
    const h = new HistogramSeries('wait_seconds', 'w', ['labels'], [1, 5]);
    for (const v of [0.5, 1, 3, 9]) h.observe(['linux'], v);
    expect(h.values().map((s) => [s.metricName, s.labels.le ?? '', s.value])).toEqual([
      ['wait_seconds_bucket', '1', 2], ['wait_seconds_bucket', '5', 3], ['wait_seconds_bucket', '+Inf', 4],
      ['wait_seconds_sum', '', 13.5], ['wait_seconds_count', '', 4],
    ]);
  });

  it('a counter adds up per label values', () => {
    const c = new CounterSeries('runs_total', 'r', ['event']);
    c.inc(['push']);
    c.inc(['push']);
    c.inc(['cron'], 3);
    expect(c.values()).toEqual([{ labels: { event: 'push' }, value: 2 }, { labels: { event: 'cron' }, value: 3 }]);
  });

  it('label sets: order and repeats do not matter, pools\' sets are always kept, others up to the cap, then "other"', () => {
    const sets = createLabelSets([['local', 'linux']], 2);
    expect(sets.of(['linux', 'local', 'linux'])).toBe('linux,local');
    expect(sets.of([])).toBe('-');
    expect(sets.of(['gpu'])).toBe('gpu');
    expect(sets.of(['arm', 'gpu'])).toBe(OTHER_LABEL_SET);
    expect(sets.of(['gpu'])).toBe('gpu');
    expect(sets.of(['local', 'linux'])).toBe('linux,local');
  });
});
