// Dispatch latency: a job queued → its first step started, with an idle agent connected.
// Prints p50/p99 over N jobs (default 500; BENCH_JOBS to change).
import { percentile, report, runBench, startAgents, startServer, makeRepo, waitFor } from './harness.js';

const JOBS = Number(process.env.BENCH_JOBS ?? 500);

runBench(async () => {
  const repo = makeRepo('jobs:\n  one:\n    steps: [{ run: "true" }]\n');
  const server = await startServer({ bench: repo });
  startAgents(server, 1);
  await waitFor(async () => (await server.api<Array<{ status: string }>>('GET', '/api/agents')).some((a) => a.status === 'idle'), 15_000, 'the agent');
  const latencies: number[] = [];
  const started = Date.now();
  for (let i = 0; i < JOBS; i++) {
    const run = await server.api<{ id: number }>('POST', '/api/repos/bench/runs', {});
    const done = await waitFor(async () => {
      const r = await server.api<{ status: string; jobs: Array<{ queued_at: string; steps: Array<{ started_at: string | null }> }> }>('GET', `/api/runs/${run.id}`);
      return r.status === 'success' ? r : null;
    }, 30_000, `run ${run.id}`);
    const job = done.jobs[0]!;
    latencies.push(Date.parse(job.steps[0]!.started_at!) - Date.parse(job.queued_at));
  }
  report('dispatch latency (queued → first step started, ms)', {
    jobs: JOBS, p50: percentile(latencies, 50), p99: percentile(latencies, 99), max: Math.max(...latencies), 'wall s': (Date.now() - started) / 1000,
  });
});
