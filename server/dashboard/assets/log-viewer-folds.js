// The log viewer's folding (a plain ES module, no DOM): folding a step hides the lines between
// its `▶ name` marker and the next marker, so rows map to line numbers by skipping the folded
// ranges. `markers` are [{ n }] in line order; `folded` is the set of folded markers' n.

/** The hidden line ranges [first, last], in order. */
export function foldRanges(markers, folded, total) {
  const ranges = [];
  for (let i = 0; i < markers.length; i++) {
    const m = markers[i];
    if (!folded.has(m.n)) continue;
    const end = i + 1 < markers.length ? markers[i + 1].n - 1 : total;
    if (end > m.n) ranges.push([m.n + 1, end]);
  }
  return ranges;
}
export function rowCount(total, ranges) {
  let hidden = 0;
  for (const [a, b] of ranges) hidden += b - a + 1;
  return total - hidden;
}
/** Row (0-based) to line number (1-based). */
export function rowToLine(row, ranges) {
  let n = row + 1;
  for (const [a, b] of ranges) { if (n >= a) n += b - a + 1; else break; }
  return n;
}
/** Line number to row; a hidden line gives its marker's row. */
export function lineToRow(n, ranges) {
  let row = n - 1;
  for (const [a, b] of ranges) {
    if (b < n) row -= b - a + 1;
    else if (a <= n) return row - (n - a) - 1; // hidden: the marker's row
    else break;
  }
  return row;
}
/** The marker of the step that line `n` belongs to, or null. */
export function markerOf(markers, n) {
  let found = null;
  for (const m of markers) { if (m.n <= n) found = m; else break; }
  return found;
}
