// Trigger → success: `POST /api/repos/:repo/runs` of a one-job `echo hello` pipeline until the
// run's `success` event arrives on /api/events, with 4 idle agents (real `kiln agent` processes,
// shell executor). One run at a time, alternating a 1-step and an 11-step job, so the cost of
// each extra step is (11-step p50 − 1-step p50) / 10. The first BENCH_WARMUP runs of each (the
// agents' first clones) are not counted. BENCH_RUNS (default 30 of each), BENCH_AGENTS (4).
import { percentile, report, runBench, startAgents, startServer, makeRepo, waitFor } from './harness.js';
import { triggerRuns, watchRuns } from './runs.js';

const RUNS = Number(process.env.BENCH_RUNS ?? 30);
const WARMUP = Number(process.env.BENCH_WARMUP ?? 3);
const AGENTS = Number(process.env.BENCH_AGENTS ?? 4);
const EXTRA_STEPS = 10;

const pipeline = (steps: number) => `jobs:\n  hello:\n    steps:\n${'      - run: echo hello\n'.repeat(steps)}`;

interface Sample { toEvent: number; toFinished: number; answered: number }

runBench(async () => {
  const repos = { one: makeRepo(pipeline(1)), eleven: makeRepo(pipeline(1 + EXTRA_STEPS)) };
  const server = await startServer(repos);
  startAgents(server, AGENTS);
  await waitFor(async () => (await server.api<Array<{ status: string }>>('GET', '/api/agents')).filter((a) => a.status === 'idle').length === AGENTS, 30_000, 'the agents');
  const watch = await watchRuns(server);
  const samples: Record<keyof typeof repos, Sample[]> = { one: [], eleven: [] };
  try {
    for (let i = 0; i < WARMUP + RUNS; i++) {
      for (const repo of ['one', 'eleven'] as const) {
        const [run] = await triggerRuns(server, repo, 1, 1);
        const [ended] = await watch.waitAll([run!.id], 60_000);
        if (ended!.status !== 'success') throw new Error(`run ${run!.id} of ${repo} ended ${ended!.status}`);
        if (i < WARMUP) continue;
        samples[repo].push({ toEvent: ended!.seenMs - run!.sentMs, toFinished: ended!.finishedMs - run!.sentMs, answered: run!.answeredMs - run!.sentMs });
      }
    }
  } finally {
    watch.close();
  }
  const p50 = (repo: keyof typeof repos, key: keyof Sample) => percentile(samples[repo].map((s) => s[key]), 50);
  report(`trigger → run success, 1 step (echo hello), ${AGENTS} idle agents (ms; POST sent → success event seen)`, {
    runs: RUNS, p50: p50('one', 'toEvent'), p90: percentile(samples.one.map((s) => s.toEvent), 90),
    'p50 to run finished_at': p50('one', 'toFinished'), 'POST answered p50': p50('one', 'answered'),
  });
  report(`each extra step (ms; 1-step vs ${1 + EXTRA_STEPS}-step job, p50 of POST → success event)`, {
    '1-step p50': p50('one', 'toEvent'), [`${1 + EXTRA_STEPS}-step p50`]: p50('eleven', 'toEvent'),
    'ms per extra step': (p50('eleven', 'toEvent') - p50('one', 'toEvent')) / EXTRA_STEPS,
  });
});
