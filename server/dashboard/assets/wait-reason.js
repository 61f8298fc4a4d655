// The job page's wait reason, live (the page itself is not swapped: that would drop the log
// viewer). On queue, agent and job events, and every 2 s while the job waits (a pool's
// "starting agent … (2 s)" counts up), it reads /runs/:run/jobs/:job/wait and shows the line.
const box = document.querySelector('[data-wait-for]');
if (box) {
  const [runId, jobId] = box.dataset.waitFor.split('/');
  let waiting = true;
  const refresh = async () => {
    try {
      const response = await fetch(`/runs/${runId}/jobs/${jobId}/wait`, { credentials: 'same-origin' });
      if (!response.ok) return;
      const reason = await response.text();
      box.textContent = reason;
      box.hidden = reason === '';
      waiting = reason !== '';
    } catch {
      // the next event or tick tries again
    }
  };
  const connect = () => {
    const ws = new WebSocket(`${location.protocol === 'https:' ? 'wss://' : 'ws://'}${location.host}/api/events`);
    ws.onmessage = (message) => {
      let event;
      try { event = JSON.parse(message.data); } catch { return; }
      if (event.type === 'queue' || event.type === 'agent' || (event.type === 'job' && String(event.job.id) === jobId)) refresh();
    };
    ws.onclose = () => setTimeout(connect, 2000);
  };
  connect();
  setInterval(() => { if (waiting) refresh(); }, 2000);
}
