// The log viewer's live subscription (a plain ES module): a WebSocket to /api/events that
// subscribes to one job's lines, reconnects 2 s after a close, and keeps the page's job and
// step status pills up to date from `job` and `step` events.

/** Calls `onMessage(msg)` for each event and `onReconnect()` after each reconnection is asked for. */
export function subscribeToJob(jobId, { onMessage, onReconnect }) {
  const connect = () => {
    const ws = new WebSocket((location.protocol === 'https:' ? 'wss://' : 'ws://') + location.host + '/api/events');
    ws.onopen = () => ws.send(JSON.stringify({ subscribe: { job: jobId } }));
    ws.onmessage = (e) => {
      let msg;
      try { msg = JSON.parse(e.data); } catch { return; }
      onMessage(msg);
    };
    ws.onclose = () => setTimeout(() => { connect(); onReconnect(); }, 2000);
  };
  connect();
}

export function showJobStatus(job) {
  const statusEl = document.querySelector('[data-job-status]');
  if (!statusEl) return;
  statusEl.textContent = job.status;
  statusEl.className = 'status ' + job.status;
}

export function showStepStatus(step) {
  for (const el of document.querySelectorAll('[data-step-name]')) {
    if (el.dataset.stepName !== step.name) continue;
    const pill = el.querySelector('.status');
    if (pill) { pill.textContent = step.status; pill.className = 'status ' + step.status; }
  }
}
