// The log viewer's search (a plain ES module): the form asks the API for the matching line
// numbers; find / ↓ go to the next match, ↑ to the previous, and matches are marked in the rows.
export function wireSearch(root, lines, view, scroller) {
  const searchForm = root.querySelector('.log-search');
  const searchInput = searchForm.querySelector('input');
  const searchInfo = root.querySelector('.log-search-info');

  function showMatch(i) {
    if (!view.matches.length) return;
    view.matchAt = (i + view.matches.length) % view.matches.length;
    searchInfo.textContent = (view.matchAt + 1) + ' of ' + view.matches.length + (searchInfo.dataset.more ? '+' : '');
    scroller.goTo(view.matches[view.matchAt], false);
  }
  searchForm.addEventListener('submit', (e) => {
    e.preventDefault();
    const q = searchInput.value;
    if (!q) { view.matches = []; view.matchSet = new Set(); view.matchAt = -1; searchInfo.textContent = ''; scroller.schedule(); return; }
    if (q === searchForm.dataset.q && view.matches.length) return void showMatch(view.matchAt + 1);
    searchForm.dataset.q = q;
    searchInfo.textContent = 'searching\u2026';
    lines.api({ q, limit: 0, attempt: lines.attempt }).then((answer) => {
      view.matches = answer.matches || [];
      view.matchSet = new Set(view.matches);
      searchInfo.dataset.more = answer.matches_truncated ? '1' : '';
      if (!view.matches.length) { searchInfo.textContent = 'no match'; scroller.schedule(); return; }
      showMatch(0);
    }, (error) => { searchInfo.textContent = error.message; });
  });
  root.querySelector('.log-prev').addEventListener('click', () => showMatch(view.matchAt - 1));
  root.querySelector('.log-next').addEventListener('click', () => showMatch(view.matchAt + 1));
}
