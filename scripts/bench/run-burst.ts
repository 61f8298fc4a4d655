// Run burst: 200 one-job `echo hello` runs triggered at once (all POSTs in flight together) on
// 4 idle agents (real `kiln agent` processes); prints runs/s from the first POST sent to the
// last run's finished_at, and the POST answer times. BENCH_RUNS (200), BENCH_AGENTS (4),
// BENCH_CONCURRENCY (default: all at once).
import { cpuSeconds, cpuSecondsWithChildren, memoryMiB, percentile, report, runBench, startAgents, startServer, makeRepo, waitFor } from './harness.js';
import { triggerRuns, watchRuns } from './runs.js';

const RUNS = Number(process.env.BENCH_RUNS ?? 200);
const AGENTS = Number(process.env.BENCH_AGENTS ?? 4);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? RUNS);

runBench(async () => {
  const server = await startServer({ bench: makeRepo('jobs:\n  hello:\n    steps: [{ run: echo hello }]\n') });
  const agents = startAgents(server, AGENTS);
  const agentCpu = () => agents.reduce((sum, a) => sum + cpuSecondsWithChildren(a.pid!), 0);
  await waitFor(async () => (await server.api<Array<{ status: string }>>('GET', '/api/agents')).filter((a) => a.status === 'idle').length === AGENTS, 30_000, 'the agents');
  // A warm-up run per agent (an agent's first job clones the repo): the burst measures the steady path.
  const watch = await watchRuns(server);
  const warm = await triggerRuns(server, 'bench', AGENTS, AGENTS);
  await watch.waitAll(warm.map((r) => r.id), 60_000);
  let peak = 0;
  const sampler = setInterval(() => { peak = Math.max(peak, memoryMiB(server.pid).rss); }, 50);
  const cpuBefore = cpuSeconds(server.pid);
  const agentCpuBefore = agentCpu();
  try {
    const runs = await triggerRuns(server, 'bench', RUNS, CONCURRENCY);
    const ended = await watch.waitAll(runs.map((r) => r.id), 600_000);
    const cpu = cpuSeconds(server.pid) - cpuBefore;
    const agentsCpu = agentCpu() - agentCpuBefore;
    const failed = ended.filter((e) => e.status !== 'success').length;
    const first = Math.min(...runs.map((r) => r.sentMs));
    const lastFinished = Math.max(...ended.map((e) => e.finishedMs));
    const answers = runs.map((r) => r.answeredMs - r.sentMs);
    report(`run burst: ${RUNS} runs triggered at once (${Math.min(CONCURRENCY, RUNS)} POSTs in flight) on ${AGENTS} agents`, {
      failed, 'runs/s': RUNS / ((lastFinished - first) / 1000), 'first POST → last finished_at s': (lastFinished - first) / 1000,
      'last success event seen s': (Math.max(...ended.map((e) => e.seenMs)) - first) / 1000,
      'POST answered p50 ms': percentile(answers, 50), 'POST answered p99 ms': percentile(answers, 99),
      'server cpu s': cpu, 'agent cpu ms/job (with git, sh)': (agentsCpu * 1000) / RUNS, 'server rss MiB (peak sampled)': peak,
    });
    if (failed > 0) throw new Error(`${failed} runs did not succeed`);
  } finally {
    clearInterval(sampler);
    watch.close();
  }
});
