// The kiln series as plain numbers: counters and histograms keyed by their label values, kept
// without prom-client (it loads with the first scrape, see exposition.ts). Each series says
// what it exposes through `values()`, read at scrape time.

/** One exposed sample: prom-client's MetricValue shape (`metricName` for _bucket/_sum/_count). */
export interface Sample {
  labels: Record<string, string>;
  value: number;
  metricName?: string;
}

/**
 * A series of one name. `values()` is asked at every scrape; a series holds only what its
 * label values bound (callers pass values from fixed sets, never ids).
 */
export interface Series {
  readonly name: string;
  readonly help: string;
  readonly type: 'counter' | 'gauge' | 'histogram';
  values(): Sample[];
}

const KEY_SEPARATOR = '\u0000';

/** A counter over the label names `labelNames`, incremented with values in that order. */
export class CounterSeries implements Series {
  readonly type = 'counter';
  private readonly counts = new Map<string, number>();
  constructor(readonly name: string, readonly help: string, private readonly labelNames: readonly string[]) {}

  inc(labelValues: readonly string[], by = 1): void {
    const key = labelValues.join(KEY_SEPARATOR);
    this.counts.set(key, (this.counts.get(key) ?? 0) + by);
  }

  values(): Sample[] {
    return [...this.counts].map(([key, value]) => ({ labels: labelsOf(this.labelNames, key), value }));
  }
}

/** A histogram with fixed upper bounds (seconds), cumulative buckets as Prometheus has them. */
export class HistogramSeries implements Series {
  readonly type = 'histogram';
  private readonly cells = new Map<string, { buckets: number[]; sum: number; count: number }>();
  constructor(readonly name: string, readonly help: string, private readonly labelNames: readonly string[], private readonly bounds: readonly number[]) {}

  observe(labelValues: readonly string[], value: number): void {
    const key = labelValues.join(KEY_SEPARATOR);
    let cell = this.cells.get(key);
    if (!cell) this.cells.set(key, (cell = { buckets: new Array<number>(this.bounds.length).fill(0), sum: 0, count: 0 }));
    // Why not the first bound only: buckets are cumulative (le = "less or equal").
    for (let i = this.bounds.length - 1; i >= 0 && value <= this.bounds[i]!; i--) cell.buckets[i]!++;
    cell.sum += value;
    cell.count++;
  }

  values(): Sample[] {
    const out: Sample[] = [];
    for (const [key, cell] of this.cells) {
      const labels = labelsOf(this.labelNames, key);
      this.bounds.forEach((bound, i) => out.push({ metricName: `${this.name}_bucket`, labels: { ...labels, le: String(bound) }, value: cell.buckets[i]! }));
      out.push({ metricName: `${this.name}_bucket`, labels: { ...labels, le: '+Inf' }, value: cell.count });
      out.push({ metricName: `${this.name}_sum`, labels, value: cell.sum });
      out.push({ metricName: `${this.name}_count`, labels, value: cell.count });
    }
    return out;
  }
}

/** A gauge whose samples are computed when scraped (state: queue depth, agents), never kept. */
export class GaugeSeries implements Series {
  readonly type = 'gauge';
  constructor(readonly name: string, readonly help: string, private readonly compute: () => Sample[]) {}
  values(): Sample[] {
    return this.compute();
  }
}

/** How many items fall under each label set `keysOf(item)` names (an item may count under several). */
export function countBy<T>(items: Iterable<T>, keysOf: (item: T) => Record<string, string>[]): Sample[] {
  const counts = new Map<string, { labels: Record<string, string>; value: number }>();
  for (const item of items) {
    for (const labels of keysOf(item)) {
      const key = Object.values(labels).join(KEY_SEPARATOR);
      const entry = counts.get(key);
      if (entry) entry.value++;
      else counts.set(key, { labels, value: 1 });
    }
  }
  return [...counts.values()];
}

function labelsOf(names: readonly string[], key: string): Record<string, string> {
  const values = key.split(KEY_SEPARATOR);
  return Object.fromEntries(names.map((name, i) => [name, values[i] ?? '']));
}
