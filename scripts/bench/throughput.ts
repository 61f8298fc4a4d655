// Throughput: 2,000 one-step jobs (8 runs of a 250-job matrix) over 8 agents; prints jobs/s
// from the first job queued to the last job finished. BENCH_RUNS / BENCH_AGENTS to change.
import { cpuSeconds, report, runBench, startAgents, startServer, makeRepo, waitFor, memoryMiB } from './harness.js';

const RUNS = Number(process.env.BENCH_RUNS ?? 8);
const AGENTS = Number(process.env.BENCH_AGENTS ?? 8);
const axis = Array.from({ length: 250 }, (_, i) => i + 1).join(', ');

runBench(async () => {
  const repo = makeRepo(`jobs:\n  one:\n    matrix: { n: [${axis}] }\n    steps: [{ run: "true" }]\n`);
  const server = await startServer({ bench: repo });
  startAgents(server, AGENTS);
  await waitFor(async () => (await server.api<Array<{ status: string }>>('GET', '/api/agents')).filter((a) => a.status === 'idle').length === AGENTS, 30_000, 'the agents');
  const started = Date.now();
  const cpuBefore = cpuSeconds(server.pid);
  const runs = await Promise.all(Array.from({ length: RUNS }, () => server.api<{ id: number }>('POST', '/api/repos/bench/runs', {})));
  let peak = 0;
  // Poll the run list (small), not each run's 250 jobs: the benchmark must not be the load.
  const ids = new Set(runs.map((r) => r.id));
  await waitFor(async () => {
    peak = Math.max(peak, memoryMiB(server.pid).rss);
    const list = await server.api<Array<{ id: number; status: string }>>('GET', `/api/repos/bench/runs?limit=${RUNS + 5}`);
    return list.filter((r) => ids.has(r.id) && ['success', 'failed', 'error', 'cancelled'].includes(r.status)).length === ids.size;
  }, 600_000, 'the runs', 250);
  const cpu = cpuSeconds(server.pid) - cpuBefore;
  const finished = await Promise.all(runs.map((run) => server.api<{ status: string; jobs: Array<{ status: string; queued_at: string; finished_at: string }> }>('GET', `/api/runs/${run.id}`)));
  const jobs = finished.flatMap((r) => r.jobs);
  const failed = jobs.filter((j) => j.status !== 'success').length;
  const first = Math.min(...jobs.map((j) => Date.parse(j.queued_at)));
  const last = Math.max(...jobs.map((j) => Date.parse(j.finished_at)));
  report('throughput', {
    jobs: jobs.length, agents: AGENTS, failed, 'jobs/s': jobs.length / ((last - first) / 1000), 'wall s': (Date.now() - started) / 1000,
    'server rss MiB (peak sampled)': peak, 'server cpu s': cpu,
  });
  if (failed > 0) throw new Error(`${failed} jobs did not succeed`);
});
