// Dispatch latency: a job queued → its first step started, with an idle agent connected.
// Prints p50/p99 over N jobs (default 500; BENCH_JOBS to change).
import { memoryMiB, percentile, report, runBench, startAgents, startServer, makeRepo, waitFor } from './harness.js';

const JOBS = Number(process.env.BENCH_JOBS ?? 500);

runBench(async () => {
  const repo = makeRepo('jobs:\n  one:\n    steps: [{ run: "true" }]\n');
  const server = await startServer({ bench: repo });
  const [agent] = startAgents(server, 1);
  await waitFor(async () => (await server.api<Array<{ status: string }>>('GET', '/api/agents')).some((a) => a.status === 'idle'), 15_000, 'the agent');
  const agentBefore = memoryMiB(agent!.pid!).rss;
  const latencies: number[] = [];
  const claims: number[] = [];
  const started = Date.now();
  for (let i = 0; i < JOBS; i++) {
    const run = await server.api<{ id: number }>('POST', '/api/repos/bench/runs', {});
    const done = await waitFor(async () => {
      const r = await server.api<{ status: string; jobs: Array<{ queued_at: string; started_at: string; steps: Array<{ started_at: string | null }> }> }>('GET', `/api/runs/${run.id}`);
      return r.status === 'success' ? r : null;
    }, 30_000, `run ${run.id}`);
    const job = done.jobs[0]!;
    latencies.push(Date.parse(job.steps[0]!.started_at!) - Date.parse(job.queued_at));
    claims.push(Date.parse(job.started_at) - Date.parse(job.queued_at));
  }
  report('dispatch latency (queued → first step started, ms)', {
    jobs: JOBS, p50: percentile(latencies, 50), p99: percentile(latencies, 99), max: Math.max(...latencies), 'wall s': (Date.now() - started) / 1000,
    // the first and last tenth: a growing figure would mean something accumulates per job
    'agent rss MiB before': agentBefore, 'agent rss MiB after': memoryMiB(agent!.pid!).rss,
    'queued → leased p50': percentile(claims, 50), 'queued → leased p99': percentile(claims, 99),
    'p50 first 10%': percentile(latencies.slice(0, Math.ceil(JOBS / 10)), 50), 'p50 last 10%': percentile(latencies.slice(-Math.ceil(JOBS / 10)), 50),
  });
});
