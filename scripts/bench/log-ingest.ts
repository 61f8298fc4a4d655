// Log ingest: one job printing 1,000,000 lines; prints lines/s (first step started → job
// finished) and the server's resident and peak memory. BENCH_LINES to change.
import { memoryMiB, report, runBench, startAgents, startServer, makeRepo, waitFor } from './harness.js';

const LINES = Number(process.env.BENCH_LINES ?? 1_000_000);

runBench(async () => {
  const repo = makeRepo(`jobs:\n  loud:\n    steps: [{ run: "seq 1 ${LINES}" }]\n`);
  const server = await startServer({ bench: repo });
  startAgents(server, 1);
  await waitFor(async () => (await server.api<Array<{ status: string }>>('GET', '/api/agents')).some((a) => a.status === 'idle'), 15_000, 'the agent');
  const before = memoryMiB(server.pid);
  const run = await server.api<{ id: number }>('POST', '/api/repos/bench/runs', {});
  let peakRss = 0;
  const done = await waitFor(async () => {
    peakRss = Math.max(peakRss, memoryMiB(server.pid).rss);
    const r = await server.api<{ status: string; jobs: Array<{ id: number; finished_at: string; steps: Array<{ started_at: string }> }> }>('GET', `/api/runs/${run.id}`);
    return r.status === 'success' ? r : r.status === 'failed' || r.status === 'error' ? Promise.reject(new Error(`run ${r.status}`)) : null;
  }, 600_000, 'the job', 100);
  const job = done.jobs[0]!;
  const seconds = (Date.parse(job.finished_at) - Date.parse(job.steps[0]!.started_at)) / 1000;
  const log = await fetch(`${server.url}/api/jobs/${job.id}/log`).then((r) => r.text());
  const lines = log.split('\n').filter((l) => /^\d+$/.test(l)).length;
  const after = memoryMiB(server.pid);
  report('log ingest', {
    lines, 'lines/s': lines / seconds, 'log MiB': Buffer.byteLength(log) / 1048576, 'server rss before MiB': before.rss,
    'server rss during MiB (peak sampled)': peakRss, 'server VmHWM MiB': after.peak,
  });
  if (lines !== LINES) throw new Error(`expected ${LINES} lines, the log has ${lines}`);
});
