// The log viewer's lines (a plain ES module): one attempt's numbered lines in pages of 1,000
// from GET /api/jobs/:id/lines, fetched when a row needs them and dropped beyond MAX_PAGES,
// and the step markers (`▶ name` lines) that folding uses. `changed()` asks for a redraw.
export const PAGE = 1000;
const MAX_PAGES = 300;

/** A step's first line: `▶ name` on the system stream. */
export const isMarker = (line) => line.stream === 'system' && line.text.startsWith('\u25b6 ');

export function createLineStore(jobId, changed) {
  let pages = new Map();        // page index -> sparse array of lines
  let inflight = new Set();
  let failedAt = new Map();
  const lines = {
    attempt: 0,
    total: 0,
    markers: [],                // [{ n, step, text }] in line order
    put, get, api, need, reset, addMarkers, loadMarkers, refreshTail,
  };

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
  /** Fetches page `p` unless it is on its way or failed in the last 2 s. */
  function need(p) {
    if (inflight.has(p) || Date.now() - (failedAt.get(p) || 0) < 2000) return;
    inflight.add(p);
    const forAttempt = lines.attempt;
    api({ from: p * PAGE + 1, limit: PAGE, attempt: lines.attempt }).then((answer) => {
      inflight.delete(p);
      if (forAttempt !== lines.attempt) return;
      for (const line of answer.lines) put(line);
      if (answer.total > lines.total) lines.total = answer.total;
      const arr = pages.get(p) || [];
      const want = Math.min(PAGE, lines.total - p * PAGE);
      let complete = true;
      for (let i = 0; i < want; i++) if (!arr[i]) { complete = false; break; }
      if (!complete) failedAt.set(p, Date.now());
      evict(p);
      changed();
    }, () => { inflight.delete(p); failedAt.set(p, Date.now()); });
  }
  function evict(keep) {
    if (pages.size <= MAX_PAGES) return;
    const last = Math.floor((lines.total - 1) / PAGE);
    for (const p of pages.keys()) {
      if (pages.size <= MAX_PAGES) break;
      if (p !== keep && p !== last) pages.delete(p);
    }
  }
  /** Forgets everything: the lines of `attempt` come next. */
  function reset(attempt) {
    lines.attempt = attempt;
    lines.total = 0;
    pages = new Map();
    inflight = new Set();
    failedAt = new Map();
    lines.markers = [];
  }
  function addMarkers(found) {
    const known = new Set(lines.markers.map((m) => m.n));
    for (const m of found) if (!known.has(m.n)) lines.markers.push(m);
    lines.markers.sort((a, b) => a.n - b.n);
  }
  // The step markers need a scan of the whole log: asked for after the first screen is drawn.
  function loadMarkers(forAttempt) {
    api({ limit: 0, markers: 1, attempt: forAttempt }).then((answer) => {
      if (forAttempt !== lines.attempt) return;
      addMarkers(answer.markers || []);
      changed();
    }, () => setTimeout(() => { if (forAttempt === lines.attempt) loadMarkers(forAttempt); }, 3000));
  }
  /** After a lost connection: the last page again, for what was printed meanwhile. */
  function refreshTail() {
    api({ limit: PAGE, attempt: lines.attempt }).then((answer) => {
      if (answer.attempt !== lines.attempt) return;
      for (const line of answer.lines) put(line);
      if (answer.total > lines.total) lines.total = answer.total;
      changed();
    }, () => {});
  }
  return lines;
}
