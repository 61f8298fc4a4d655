// A job's `runs_on` labels as one bounded metric label: sorted, joined with ",". The label
// sets of configured pools are always known; others are taken as seen up to `max`, then all
// count as "other", so a pipeline author cannot grow the series without end.

export const OTHER_LABEL_SET = 'other';
/** A job with no `runs_on` labels (any agent may take it). */
export const NO_LABELS = '-';

export interface LabelSets {
  /** The bounded label value of `labels` (same set, same value, whatever the order). */
  of(labels: readonly string[]): string;
}

export function createLabelSets(known: ReadonlyArray<readonly string[]>, max = 50): LabelSets {
  const seen = new Set<string>(known.map(join));
  const extra = { count: 0 };
  return {
    of(labels) {
      const value = join(labels);
      if (seen.has(value)) return value;
      if (extra.count >= max) return OTHER_LABEL_SET;
      extra.count++;
      seen.add(value);
      return value;
    },
  };
}

function join(labels: readonly string[]): string {
  return labels.length === 0 ? NO_LABELS : [...new Set(labels)].sort().join(',');
}
