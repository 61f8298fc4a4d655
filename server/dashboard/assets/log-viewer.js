// The job log viewer (/assets/log-viewer.js, the entry of plain ES modules served as they are,
// no build step; styles in log-viewer.css). It ties the parts together: the lines and their
// fetching (log-viewer-lines.js), the virtual scroller with follow mode, folding and `#L<n>`
// links (log-viewer-scroller.js, -rows.js, -folds.js, -ansi.js), search (log-viewer-search.js)
// and live lines over /api/events (log-viewer-live.js). A new attempt starts the log afresh.
import { createLineStore, isMarker, PAGE } from './log-viewer-lines.js';
import { showJobStatus, showStepStatus, subscribeToJob } from './log-viewer-live.js';
import { createScroller } from './log-viewer-scroller.js';
import { wireSearch } from './log-viewer-search.js';

const root = document.querySelector('[data-log-viewer]');
if (root) start(root);

function start(root) {
  const jobId = Number(root.dataset.job);
  // `data-attempt`: the page shows that attempt's log (?attempt=K), and stays on it.
  const pinned = Number(root.dataset.attempt) || 0;
  const info = root.querySelector('.log-info');
  // What the parts share: follow mode, the #L line, folded steps, search matches.
  const view = {
    following: !/^#L\d+$/.test(location.hash),
    target: 0,
    folded: new Set(),          // marker line numbers whose step is folded
    matches: [],
    matchSet: new Set(),
    matchAt: -1,
  };
  let ready = false;
  const pending = [];           // live messages that came before the first answer
  const lines = createLineStore(jobId, () => scroller.schedule());
  const scroller = createScroller(root, lines, view);
  wireSearch(root, lines, view, scroller);

  function onLog(msg) {
    if (msg.job_id !== jobId) return;
    if (msg.attempt > lines.attempt && !pinned) return void reset(msg.attempt);
    if (msg.attempt !== lines.attempt) return;
    for (const line of msg.lines) {
      lines.put(line);
      if (isMarker(line)) lines.addMarkers([{ n: line.n, step: line.step, text: line.text }]);
    }
    const last = msg.lines.length ? msg.lines[msg.lines.length - 1].n : 0;
    if (last > lines.total) lines.total = last;
    scroller.schedule();
  }
  function onJob(job) {
    if (job.id !== jobId || pinned) return; // a pinned attempt's header is that attempt's
    showJobStatus(job);
    const shown = job.shown_attempt; // the server's one rule (shownAttempt) for the attempt a log shows
    if (ready && shown > lines.attempt && job.attempt > 0) reset(shown);
  }
  function reset(newAttempt) {
    lines.reset(newAttempt);
    view.folded = new Set();
    scroller.followAsBox();
    load(newAttempt);
  }
  function load(asked) {
    ready = false;
    return lines.api({ limit: PAGE, attempt: asked || undefined }).then((answer) => {
      lines.attempt = answer.attempt;
      for (const line of answer.lines) lines.put(line);
      lines.total = answer.total;
      ready = true;
      lines.loadMarkers(answer.attempt);
      for (const msg of pending.splice(0)) onLog(msg);
      if (/^#L\d+$/.test(location.hash) && !asked) scroller.fromHash();
      scroller.schedule();
      root.classList.add('ready');
    }, (error) => {
      info.textContent = 'could not load the log: ' + error.message;
      setTimeout(() => load(asked), 3000);
    });
  }

  subscribeToJob(jobId, {
    onMessage(msg) {
      if (!ready && msg.type === 'log') return void pending.push(msg);
      if (msg.type === 'log') onLog(msg);
      else if (msg.type === 'job') onJob(msg.job);
      else if (msg.type === 'step' && msg.job_id === jobId && !pinned) showStepStatus(msg.step);
    },
    onReconnect() {
      if (ready) lines.refreshTail();
    },
  });
  load(pinned);
}
