// The log viewer's rows (a plain ES module, no DOM): one line as a row's HTML, with its
// `#L<n>` link, fold button on step markers, and the highlight and search-hit classes.
import { ansiToHtml } from './log-viewer-ansi.js';
import { isMarker } from './log-viewer-lines.js';

/** `view` is the viewer's state: target (the #L line), folded, matches, matchSet, matchAt. */
export function rowHtml(n, line, view) {
  let cls = 'l';
  if (n === view.target) cls += ' hl';
  if (view.matchSet.has(n)) cls += view.matches[view.matchAt] === n ? ' hit current' : ' hit';
  let fold = '';
  if (line && isMarker(line)) {
    cls += ' marker' + (view.folded.has(n) ? ' folded' : '');
    fold = '<button class="fold" data-fold="' + n + '" aria-label="fold">' + (view.folded.has(n) ? '\u25b8' : '\u25be') + '</button>';
  }
  if (line && line.stream === 'stderr') cls += ' err';
  const text = line ? ansiToHtml(line.text) : '<span class="pending">\u2026</span>';
  // A row gets its id="L<n>" once its text is there (until then it is a placeholder).
  return '<div class="' + cls + (line ? '" id="L' + n : ' pending-row') + '" data-n="' + n + '"><a class="ln" href="#L' + n + '">' + n + '</a>' + fold + '<span class="t">' + text + '</span></div>';
}
