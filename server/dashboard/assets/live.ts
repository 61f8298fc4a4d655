// The dashboard's live updates (served as /assets/live.js, no build step): listens on
// /api/events and, when something relevant changes, fetches the same page with ?partial=1
// and swaps <main>. Debounced so that a burst of events costs one fetch. On every page, while
// the socket is down, a banner says "disconnected, reconnecting…"; once it is back the page
// fetches itself once (catching up on what it missed) and the banner goes.
export const liveJs = String.raw`
(() => {
  const main = document.querySelector('main');
  if (!main) return;
  const kinds = new Set((main.dataset.live || '').split(' ').filter(Boolean));
  let timer = null;
  let inFlight = false;
  let again = false;
  // A form with values entered (a run's inputs) is not swapped away before it is sent.
  const edited = () => [...main.querySelectorAll('input, select, textarea')].some((el) =>
    el.type === 'checkbox' || el.type === 'radio' ? el.checked !== el.defaultChecked
      : el.tagName === 'SELECT' ? [...el.options].some((o) => o.selected !== o.defaultSelected)
      : el.value !== el.defaultValue);
  const refresh = async () => {
    if (inFlight) { again = true; return; }
    inFlight = true;
    try {
      const url = new URL(location.href);
      url.searchParams.set('partial', '1');
      const response = await fetch(url, { credentials: 'same-origin', headers: { accept: 'text/html' } });
      if (response.ok) {
        const html = await response.text();
        const active = document.activeElement;
        const typing = active && main.contains(active) && (active.tagName === 'INPUT' || active.tagName === 'TEXTAREA' || active.tagName === 'SELECT');
        if (!typing && !edited()) main.innerHTML = html;
      }
    } catch (e) {
      // the next event tries again
    } finally {
      inFlight = false;
      if (again) { again = false; schedule(); }
    }
  };
  const schedule = () => {
    clearTimeout(timer);
    timer = setTimeout(refresh, 300);
  };
  const banner = document.createElement('div');
  banner.className = 'disconnected';
  banner.setAttribute('role', 'status');
  banner.dataset.disconnected = '';
  banner.textContent = 'disconnected, reconnecting\u2026';
  banner.hidden = true;
  document.body.prepend(banner);
  let backoff = 1000;
  let lost = false;
  let opened = false;
  let leaving = false;
  addEventListener('pagehide', () => { leaving = true; });
  addEventListener('pageshow', (e) => { if (e.persisted) { leaving = false; connect(); } });
  const connect = () => {
    const ws = new WebSocket((location.protocol === 'https:' ? 'wss://' : 'ws://') + location.host + '/api/events');
    ws.onopen = () => {
      opened = true;
      backoff = 1000;
      if (!lost) return;
      lost = false;
      banner.hidden = true;
      if (kinds.size) schedule();
    };
    ws.onmessage = (message) => {
      let event;
      try { event = JSON.parse(message.data); } catch (e) { return; }
      if (!event || !kinds.has(event.type)) return;
      const run = main.dataset.run;
      if (run && event.type === 'run' && String(event.run.id) !== run) return;
      if (run && event.type === 'job' && String(event.job.run_id) !== run) return;
      if (main.dataset.jobs && event.type === 'step' && !main.dataset.jobs.split(' ').includes(String(event.job_id))) return;
      schedule();
    };
    ws.onclose = () => {
      if (leaving) return; // the browser closes it when the page goes: no banner for that
      // A socket that never opened was refused (a private server's dashboard has no token for it), not lost.
      if (opened) { lost = true; banner.hidden = false; }
      setTimeout(connect, backoff);
      backoff = Math.min(backoff * 2, 5000);
    };
  };
  connect();
  if (kinds.size && main.dataset.poll) setInterval(schedule, Number(main.dataset.poll));
})();
`;
