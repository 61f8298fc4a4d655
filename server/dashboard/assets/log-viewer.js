// The job log viewer (/assets/log-viewer.js, a plain ES module, no build step;
// styles in log-viewer.css). It renders only the rows on screen: a spacer gives the scroll area the whole log's
// height, and a block of ~100 row elements is moved and refilled as the user scrolls. Lines
// come from GET /api/jobs/:id/lines in pages of 1,000, fetched when a row needs them; new lines
// arrive over /api/events. Folding a step hides the lines between its `▶ name` marker and the
// next marker: rows are then mapped to line numbers by skipping the folded ranges.
const PAGE = 1000;
const OVERSCAN = 30;
const MAX_PAGES = 300;
const MAX_PX = 15000000; // browsers cap an element's height (Firefox near 17.9 M px)

const root = document.querySelector('[data-log-viewer]');
if (root) start(root);

function start(root) {
  const jobId = Number(root.dataset.job);
  const scroller = root.querySelector('.log-scroll');
  const spacer = root.querySelector('.log-spacer');
  const block = root.querySelector('.log-rows');
  const followBox = root.querySelector('.log-follow');
  const info = root.querySelector('.log-info');
  const searchForm = root.querySelector('.log-search');
  const searchInput = searchForm.querySelector('input');
  const searchInfo = root.querySelector('.log-search-info');
  const statusEl = document.querySelector('[data-job-status]');

  // Measured once from the style sheet: every row has this height.
  const probe = document.createElement('div');
  probe.className = 'l';
  probe.textContent = 'x';
  block.appendChild(probe);
  const measured = Math.round(probe.getBoundingClientRect().height);
  const LH = measured >= 10 && measured <= 40 ? measured : 18;
  block.removeChild(probe);

  let attempt = 0;
  let total = 0;
  let pages = new Map();        // page index -> sparse array of lines
  let inflight = new Set();
  let failedAt = new Map();
  let markers = [];             // [{ n, step, text }] in line order
  let folded = new Set();       // marker line numbers whose step is folded
  let following = !/^#L\d+$/.test(location.hash);
  let target = 0;               // the line from #L<n>
  let matches = [];
  let matchSet = new Set();
  let matchAt = -1;
  let ready = false;
  let pending = [];             // live messages that came before the first answer
  let scheduled = false;
  let lastScrollSet = -1;

  followBox.checked = following;

  // --- lines and pages ---------------------------------------------------------------
  function put(line) {
    const p = Math.floor((line.n - 1) / PAGE);
    let arr = pages.get(p);
    if (!arr) { arr = []; pages.set(p, arr); }
    arr[(line.n - 1) % PAGE] = line;
  }
  function get(n) {
    const arr = pages.get(Math.floor((n - 1) / PAGE));
    return arr ? arr[(n - 1) % PAGE] : undefined;
  }
  function api(params) {
    const url = new URL('/api/jobs/' + jobId + '/lines', location.origin);
    for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null) url.searchParams.set(k, String(v));
    return fetch(url, { credentials: 'same-origin', headers: { accept: 'application/json' } }).then((r) => {
      if (!r.ok) throw new Error('HTTP ' + r.status);
      return r.json();
    });
  }
  function need(p) {
    if (inflight.has(p) || Date.now() - (failedAt.get(p) || 0) < 2000) return;
    inflight.add(p);
    const forAttempt = attempt;
    api({ from: p * PAGE + 1, limit: PAGE, attempt }).then((answer) => {
      inflight.delete(p);
      if (forAttempt !== attempt) return;
      for (const line of answer.lines) put(line);
      if (answer.total > total) setTotal(answer.total);
      const arr = pages.get(p) || [];
      const want = Math.min(PAGE, total - p * PAGE);
      let complete = true;
      for (let i = 0; i < want; i++) if (!arr[i]) { complete = false; break; }
      if (!complete) failedAt.set(p, Date.now());
      evict(p);
      schedule();
    }, () => { inflight.delete(p); failedAt.set(p, Date.now()); });
  }
  function evict(keep) {
    if (pages.size <= MAX_PAGES) return;
    const last = Math.floor((total - 1) / PAGE);
    for (const p of pages.keys()) {
      if (pages.size <= MAX_PAGES) break;
      if (p !== keep && p !== last) pages.delete(p);
    }
  }

  // --- folding: rows <-> line numbers ---------------------------------------------------
  function foldRanges() {
    const ranges = [];
    for (let i = 0; i < markers.length; i++) {
      const m = markers[i];
      if (!folded.has(m.n)) continue;
      const end = i + 1 < markers.length ? markers[i + 1].n - 1 : total;
      if (end > m.n) ranges.push([m.n + 1, end]);
    }
    return ranges;
  }
  function rowCount(ranges) {
    let hidden = 0;
    for (const [a, b] of ranges) hidden += b - a + 1;
    return total - hidden;
  }
  function rowToLine(row, ranges) {
    let n = row + 1;
    for (const [a, b] of ranges) { if (n >= a) n += b - a + 1; else break; }
    return n;
  }
  function lineToRow(n, ranges) {
    let row = n - 1;
    for (const [a, b] of ranges) {
      if (b < n) row -= b - a + 1;
      else if (a <= n) return row - (n - a) - 1; // hidden: the marker's row
      else break;
    }
    return row;
  }
  function markerOf(n) {
    let found = null;
    for (const m of markers) { if (m.n <= n) found = m; else break; }
    return found;
  }
  function toggleFold(n) {
    const before = following;
    if (folded.has(n)) folded.delete(n); else folded.add(n);
    following = before && atBottom();
    schedule();
  }

  // --- geometry ---------------------------------------------------------------------------
  function geometry() {
    const ranges = foldRanges();
    const rows = rowCount(ranges);
    const full = rows * LH;
    const height = Math.min(full, MAX_PX);
    const view = scroller.clientHeight;
    const visible = Math.ceil(view / LH);
    const maxScroll = Math.max(0, height - view);
    const maxFirst = Math.max(0, rows - view / LH);
    return { ranges, rows, height, view, visible, maxScroll, maxFirst };
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

  // --- rendering --------------------------------------------------------------------------
  function schedule() {
    if (scheduled) return;
    scheduled = true;
    requestAnimationFrame(() => { scheduled = false; render(); });
  }
  function render() {
    const g = geometry();
    spacer.style.height = g.height + 'px';
    block.style.setProperty('--lnw', (String(total).length + 1) + 'ch');
    if (following) setScroll(g.maxScroll);
    const top = scroller.scrollTop;
    const first = firstRowAt(g, top);
    const startRow = Math.max(0, Math.floor(first) - OVERSCAN);
    const endRow = Math.min(g.rows, Math.floor(first) + g.visible + OVERSCAN + 1);
    block.style.transform = 'translateY(' + Math.max(0, top - (first - startRow) * LH) + 'px)';
    const html = [];
    const wanted = new Set();
    for (let row = startRow; row < endRow; row++) {
      const n = rowToLine(row, g.ranges);
      const line = get(n);
      if (!line) wanted.add(Math.floor((n - 1) / PAGE));
      html.push(rowHtml(n, line));
    }
    block.innerHTML = html.join('');
    for (const p of wanted) need(p);
    info.textContent = total.toLocaleString() + ' lines' + (attempt > 1 ? ' · attempt ' + attempt : '');
  }
  function rowHtml(n, line) {
    let cls = 'l';
    if (n === target) cls += ' hl';
    if (matchSet.has(n)) cls += matches[matchAt] === n ? ' hit current' : ' hit';
    let fold = '';
    const isMarker = line && line.stream === 'system' && line.text.startsWith('\u25b6 ');
    if (isMarker) {
      cls += ' marker' + (folded.has(n) ? ' folded' : '');
      fold = '<button class="fold" data-fold="' + n + '" aria-label="fold">' + (folded.has(n) ? '\u25b8' : '\u25be') + '</button>';
    }
    if (line && line.stream === 'stderr') cls += ' err';
    const text = line ? ansiToHtml(line.text) : '<span class="pending">\u2026</span>';
    // A row gets its id="L<n>" once its text is there (until then it is a placeholder).
    return '<div class="' + cls + (line ? '" id="L' + n : ' pending-row') + '" data-n="' + n + '"><a class="ln" href="#L' + n + '">' + n + '</a>' + fold + '<span class="t">' + text + '</span></div>';
  }

  // --- going to a line ---------------------------------------------------------------------
  function goTo(n, highlight) {
    if (!(n >= 1)) return;
    const m = markerOf(n);
    if (m && m.n !== n && folded.has(m.n)) folded.delete(m.n);
    if (highlight) target = n;
    following = false;
    followBox.checked = false;
    const g = geometry();
    spacer.style.height = g.height + 'px'; // before scrolling: the first time, the spacer is empty
    const row = lineToRow(Math.min(n, Math.max(total, 1)), g.ranges);
    setScroll(scrollTopFor(g, Math.max(0, row - Math.floor(g.visible / 3))));
    need(Math.floor((n - 1) / PAGE));
    schedule();
  }
  function fromHash() {
    const m = /^#L(\d+)$/.exec(location.hash);
    if (m) goTo(Number(m[1]), true);
  }

  // --- live lines ----------------------------------------------------------------------------
  function setTotal(n) {
    total = n;
  }
  function onLog(msg) {
    if (msg.job_id !== jobId) return;
    if (msg.attempt > attempt) return void reset(msg.attempt);
    if (msg.attempt !== attempt) return;
    for (const line of msg.lines) {
      put(line);
      if (line.stream === 'system' && line.text.startsWith('\u25b6 ') && !markers.some((m) => m.n === line.n)) {
        markers.push({ n: line.n, step: line.step, text: line.text });
        markers.sort((a, b) => a.n - b.n);
      }
    }
    const last = msg.lines.length ? msg.lines[msg.lines.length - 1].n : 0;
    if (last > total) setTotal(last);
    schedule();
  }
  function onJob(job) {
    if (job.id !== jobId) return;
    if (statusEl) {
      statusEl.textContent = job.status;
      statusEl.className = 'status ' + job.status;
    }
    const shown = job.shown_attempt; // the server's one rule (shownAttempt) for the attempt a log shows
    if (ready && shown > attempt && job.attempt > 0) reset(shown);
  }
  function onStep(jobIdOf, step) {
    if (jobIdOf !== jobId) return;
    for (const el of document.querySelectorAll('[data-step-name]')) {
      if (el.dataset.stepName !== step.name) continue;
      const pill = el.querySelector('.status');
      if (pill) { pill.textContent = step.status; pill.className = 'status ' + step.status; }
    }
  }
  function reset(newAttempt) {
    attempt = newAttempt;
    total = 0;
    pages = new Map();
    inflight = new Set();
    failedAt = new Map();
    markers = [];
    folded = new Set();
    following = followBox.checked;
    load(newAttempt);
  }

  function connect() {
    const ws = new WebSocket((location.protocol === 'https:' ? 'wss://' : 'ws://') + location.host + '/api/events');
    ws.onopen = () => ws.send(JSON.stringify({ subscribe: { job: jobId } }));
    ws.onmessage = (e) => {
      let msg;
      try { msg = JSON.parse(e.data); } catch { return; }
      if (!ready && msg.type === 'log') return void pending.push(msg);
      if (msg.type === 'log') onLog(msg);
      else if (msg.type === 'job') onJob(msg.job);
      else if (msg.type === 'step') onStep(msg.job_id, msg.step);
    };
    ws.onclose = () => setTimeout(() => { connect(); if (ready) refreshTail(); }, 2000);
  }
  function refreshTail() {
    api({ limit: PAGE, attempt }).then((answer) => {
      if (answer.attempt !== attempt) return;
      for (const line of answer.lines) put(line);
      if (answer.total > total) setTotal(answer.total);
      schedule();
    }, () => {});
  }

  // The step markers need a scan of the whole log: asked for after the first screen is drawn.
  function loadMarkers(forAttempt) {
    api({ limit: 0, markers: 1, attempt: forAttempt }).then((answer) => {
      if (forAttempt !== attempt) return;
      const known = new Set(markers.map((m) => m.n));
      for (const m of answer.markers || []) if (!known.has(m.n)) markers.push(m);
      markers.sort((a, b) => a.n - b.n);
      schedule();
    }, () => setTimeout(() => { if (forAttempt === attempt) loadMarkers(forAttempt); }, 3000));
  }
  function load(asked) {
    ready = false;
    return api({ limit: PAGE, attempt: asked || undefined }).then((answer) => {
      attempt = answer.attempt;
      for (const line of answer.lines) put(line);
      total = answer.total;
      ready = true;
      loadMarkers(answer.attempt);
      for (const msg of pending.splice(0)) onLog(msg);
      if (/^#L\d+$/.test(location.hash) && !asked) fromHash();
      schedule();
      root.classList.add('ready');
    }, (error) => {
      info.textContent = 'could not load the log: ' + error.message;
      setTimeout(() => load(asked), 3000);
    });
  }

  // --- search ---------------------------------------------------------------------------------
  function showMatch(i) {
    if (!matches.length) return;
    matchAt = (i + matches.length) % matches.length;
    searchInfo.textContent = (matchAt + 1) + ' of ' + matches.length + (searchInfo.dataset.more ? '+' : '');
    goTo(matches[matchAt], false);
  }
  searchForm.addEventListener('submit', (e) => {
    e.preventDefault();
    const q = searchInput.value;
    if (!q) { matches = []; matchSet = new Set(); matchAt = -1; searchInfo.textContent = ''; schedule(); return; }
    if (q === searchForm.dataset.q && matches.length) return void showMatch(matchAt + 1);
    searchForm.dataset.q = q;
    searchInfo.textContent = 'searching\u2026';
    api({ q, limit: 0, attempt }).then((answer) => {
      matches = answer.matches || [];
      matchSet = new Set(matches);
      searchInfo.dataset.more = answer.matches_truncated ? '1' : '';
      if (!matches.length) { searchInfo.textContent = 'no match'; schedule(); return; }
      showMatch(0);
    }, (error) => { searchInfo.textContent = error.message; });
  });
  root.querySelector('.log-prev').addEventListener('click', () => showMatch(matchAt - 1));
  root.querySelector('.log-next').addEventListener('click', () => showMatch(matchAt + 1));

  // --- events -----------------------------------------------------------------------------------
  // Follow mode ends when the user scrolls up (wheel, keys, scrollbar) and starts again when
  // they scroll down to the end; the viewer's own scrolling changes nothing.
  let prevTop = 0;
  const setFollow = (on) => { if (following !== on) { following = on; followBox.checked = on; } };
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
  followBox.addEventListener('change', () => { following = followBox.checked; schedule(); });
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
    if (folded.size) folded = new Set(); else folded = new Set(markers.map((m) => m.n));
    schedule();
  });

  connect();
  load(0);
}

// --- ANSI SGR to HTML ---------------------------------------------------------------------------
function escapeHtml(s) {
  return s.replace(/[&<>"]/g, (c) => (c === '&' ? '&amp;' : c === '<' ? '&lt;' : c === '>' ? '&gt;' : '&quot;'));
}
function colour256(i) {
  if (i < 16) return null;
  if (i >= 232) { const v = 8 + (i - 232) * 10; return 'rgb(' + v + ',' + v + ',' + v + ')'; }
  const c = i - 16;
  const f = (x) => (x === 0 ? 0 : 55 + x * 40);
  return 'rgb(' + f(Math.floor(c / 36)) + ',' + f(Math.floor(c / 6) % 6) + ',' + f(c % 6) + ')';
}
function ansiToHtml(raw) {
  let text = raw;
  if (text.indexOf('\r') !== -1) { const parts = text.split('\r').filter((p) => p !== ''); text = parts.length ? parts[parts.length - 1] : ''; }
  if (text.indexOf('\u001b') === -1) return escapeHtml(text);
  const st = { fg: null, bg: null, bold: false, dim: false, italic: false, underline: false, inverse: false };
  let out = '';
  const re = /\u001b\[([0-9;:]*)([A-Za-z])|\u001b\][^\u0007\u001b]*(?:\u0007|\u001b\\)|\u001b[()][0-9A-Za-z]|\u001b./g;
  let last = 0;
  let m;
  const emit = (s) => {
    if (!s) return;
    const cls = [];
    const style = [];
    let fg = st.fg, bg = st.bg;
    if (st.inverse) { const t = fg; fg = bg === null ? 'inv-bg' : bg; bg = t === null ? 'inv-fg' : t; }
    if (typeof fg === 'number') cls.push('a-fg' + fg); else if (fg === 'inv-bg') cls.push('a-fg-inv'); else if (fg) style.push('color:' + fg);
    if (typeof bg === 'number') cls.push('a-bg' + bg); else if (bg === 'inv-fg') cls.push('a-bg-inv'); else if (bg) style.push('background:' + bg);
    if (st.bold) cls.push('a-b');
    if (st.dim) cls.push('a-d');
    if (st.italic) cls.push('a-i');
    if (st.underline) cls.push('a-u');
    const body = escapeHtml(s);
    out += cls.length || style.length ? '<span' + (cls.length ? ' class="' + cls.join(' ') + '"' : '') + (style.length ? ' style="' + style.join(';') + '"' : '') + '>' + body + '</span>' : body;
  };
  while ((m = re.exec(text))) {
    emit(text.slice(last, m.index));
    last = re.lastIndex;
    if (m[2] !== 'm') continue;
    const codes = (m[1] || '0').split(/[;:]/).map((c) => (c === '' ? 0 : Number(c)));
    for (let i = 0; i < codes.length; i++) {
      const c = codes[i];
      if (c === 0) { st.fg = st.bg = null; st.bold = st.dim = st.italic = st.underline = st.inverse = false; }
      else if (c === 1) st.bold = true;
      else if (c === 2) st.dim = true;
      else if (c === 3) st.italic = true;
      else if (c === 4) st.underline = true;
      else if (c === 7) st.inverse = true;
      else if (c === 22) st.bold = st.dim = false;
      else if (c === 23) st.italic = false;
      else if (c === 24) st.underline = false;
      else if (c === 27) st.inverse = false;
      else if (c >= 30 && c <= 37) st.fg = c - 30;
      else if (c === 39) st.fg = null;
      else if (c >= 40 && c <= 47) st.bg = c - 40;
      else if (c === 49) st.bg = null;
      else if (c >= 90 && c <= 97) st.fg = c - 90 + 8;
      else if (c >= 100 && c <= 107) st.bg = c - 100 + 8;
      else if (c === 38 || c === 48) {
        let value = null;
        if (codes[i + 1] === 5 && i + 2 < codes.length) { const n = codes[i + 2]; value = n < 16 ? n : colour256(n); i += 2; }
        else if (codes[i + 1] === 2 && i + 4 < codes.length) { value = 'rgb(' + codes[i + 2] + ',' + codes[i + 3] + ',' + codes[i + 4] + ')'; i += 4; }
        if (c === 38) st.fg = value; else st.bg = value;
      }
    }
  }
  emit(text.slice(last));
  return out;
}
