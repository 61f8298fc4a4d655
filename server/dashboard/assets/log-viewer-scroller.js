// The log viewer's virtual scroller (a plain ES module): it renders only the rows on screen. A
// spacer gives the scroll area the whole log's height, and a block of ~100 row elements is moved
// and refilled as the user scrolls. Also follow mode, folding clicks, and `#L<n>` line links.
import { foldRanges, lineToRow, markerOf, rowCount, rowToLine } from './log-viewer-folds.js';
import { PAGE } from './log-viewer-lines.js';
import { rowHtml } from './log-viewer-rows.js';

const OVERSCAN = 30;
const MAX_PX = 15000000; // browsers cap an element's height (Firefox near 17.9 M px)

/** `lines` from createLineStore; `view` the shared state (following, target, folded, matches…). */
export function createScroller(root, lines, view) {
  const scroller = root.querySelector('.log-scroll');
  const spacer = root.querySelector('.log-spacer');
  const block = root.querySelector('.log-rows');
  const followBox = root.querySelector('.log-follow');
  const info = root.querySelector('.log-info');

  // Measured once from the style sheet: every row has this height.
  const probe = document.createElement('div');
  probe.className = 'l';
  probe.textContent = 'x';
  block.appendChild(probe);
  const measured = Math.round(probe.getBoundingClientRect().height);
  const LH = measured >= 10 && measured <= 40 ? measured : 18;
  block.removeChild(probe);

  let scheduled = false;
  let lastScrollSet = -1;
  followBox.checked = view.following;

  function geometry() {
    const ranges = foldRanges(lines.markers, view.folded, lines.total);
    const rows = rowCount(lines.total, ranges);
    const full = rows * LH;
    const height = Math.min(full, MAX_PX);
    const viewPx = scroller.clientHeight;
    const visible = Math.ceil(viewPx / LH);
    const maxScroll = Math.max(0, height - viewPx);
    const maxFirst = Math.max(0, rows - viewPx / LH);
    return { ranges, rows, height, view: viewPx, visible, maxScroll, maxFirst };
  }
  function firstRowAt(g, top) {
    return g.maxScroll > 0 ? (top / g.maxScroll) * g.maxFirst : 0;
  }
  function scrollTopFor(g, row) {
    return g.maxFirst > 0 ? Math.round((Math.min(row, g.maxFirst) / g.maxFirst) * g.maxScroll) : 0;
  }
  function atBottom() {
    return scroller.scrollTop + scroller.clientHeight >= scroller.scrollHeight - LH * 1.5;
  }
  function setScroll(top) {
    const before = Math.round(scroller.scrollTop);
    scroller.scrollTop = top;
    // Only a change fires a scroll event: remember it as ours to tell it from the user's.
    lastScrollSet = Math.round(scroller.scrollTop) !== before ? Math.round(scroller.scrollTop) : -1;
  }

  function schedule() {
    if (scheduled) return;
    scheduled = true;
    requestAnimationFrame(() => { scheduled = false; render(); });
  }
  function render() {
    const g = geometry();
    spacer.style.height = g.height + 'px';
    block.style.setProperty('--lnw', (String(lines.total).length + 1) + 'ch');
    if (view.following) setScroll(g.maxScroll);
    const top = scroller.scrollTop;
    const first = firstRowAt(g, top);
    const startRow = Math.max(0, Math.floor(first) - OVERSCAN);
    const endRow = Math.min(g.rows, Math.floor(first) + g.visible + OVERSCAN + 1);
    block.style.transform = 'translateY(' + Math.max(0, top - (first - startRow) * LH) + 'px)';
    const html = [];
    const wanted = new Set();
    for (let row = startRow; row < endRow; row++) {
      const n = rowToLine(row, g.ranges);
      const line = lines.get(n);
      if (!line) wanted.add(Math.floor((n - 1) / PAGE));
      html.push(rowHtml(n, line, view));
    }
    block.innerHTML = html.join('');
    for (const p of wanted) lines.need(p);
    info.textContent = lines.total.toLocaleString() + ' lines' + (lines.attempt > 1 ? ' · attempt ' + lines.attempt : '');
  }

  /** Scrolls line `n` into view (unfolding its step), ends follow mode, and marks it if `highlight`. */
  function goTo(n, highlight) {
    if (!(n >= 1)) return;
    const m = markerOf(lines.markers, n);
    if (m && m.n !== n && view.folded.has(m.n)) view.folded.delete(m.n);
    if (highlight) view.target = n;
    view.following = false;
    followBox.checked = false;
    const g = geometry();
    spacer.style.height = g.height + 'px'; // before scrolling: the first time, the spacer is empty
    const row = lineToRow(Math.min(n, Math.max(lines.total, 1)), g.ranges);
    setScroll(scrollTopFor(g, Math.max(0, row - Math.floor(g.visible / 3))));
    lines.need(Math.floor((n - 1) / PAGE));
    schedule();
  }
  function fromHash() {
    const m = /^#L(\d+)$/.exec(location.hash);
    if (m) goTo(Number(m[1]), true);
  }
  function toggleFold(n) {
    const before = view.following;
    if (view.folded.has(n)) view.folded.delete(n); else view.folded.add(n);
    view.following = before && atBottom();
    schedule();
  }

  // Follow mode ends when the user scrolls up (wheel, keys, scrollbar) and starts again when
  // they scroll down to the end; the viewer's own scrolling changes nothing.
  let prevTop = 0;
  const setFollow = (on) => { if (view.following !== on) { view.following = on; followBox.checked = on; } };
  scroller.addEventListener('scroll', () => {
    const top = scroller.scrollTop;
    const ours = Math.round(top) === lastScrollSet;
    lastScrollSet = -1;
    if (!ours && top < prevTop - 1) setFollow(false);
    else if (!ours && top > prevTop && atBottom()) setFollow(true);
    prevTop = top;
    schedule();
  }, { passive: true });
  scroller.addEventListener('wheel', (e) => { if (e.deltaY < 0) setFollow(false); }, { passive: true });
  scroller.addEventListener('keydown', (e) => { if (['ArrowUp', 'PageUp', 'Home'].includes(e.key)) setFollow(false); });
  followBox.addEventListener('change', () => { view.following = followBox.checked; schedule(); });
  block.addEventListener('click', (e) => {
    const button = e.target.closest('[data-fold]');
    if (button) { e.preventDefault(); toggleFold(Number(button.dataset.fold)); }
  });
  window.addEventListener('hashchange', fromHash);
  // The log fills the window below the page's header: its last row is on screen when followed.
  function fit() {
    const top = scroller.getBoundingClientRect().top + window.scrollY;
    const want = Math.max(200, Math.floor(window.innerHeight - top - 12));
    if (Math.abs(scroller.clientHeight - want) > 1) scroller.style.height = want + 'px';
  }
  window.addEventListener('resize', () => { fit(); schedule(); });
  fit();
  root.querySelector('.log-fold-all').addEventListener('click', () => {
    if (view.folded.size) view.folded = new Set(); else view.folded = new Set(lines.markers.map((m) => m.n));
    schedule();
  });

  return {
    schedule, goTo, fromHash,
    /** After a new attempt: follow as the checkbox says. */
    followAsBox: () => { view.following = followBox.checked; },
  };
}
