// Agent memory: one real agent process against a real server; prints its resident memory idle
// (connected, no job yet) and after N one-step `true` jobs (default 1000; BENCH_JOBS to change),
// with a figure every tenth of the way so that growth per job shows. The agent runs with the
// Node flags agents are meant to run with (AGENT_NODE_FLAGS); BENCH_AGENT_NODE_ARGS replaces
// them ("" for none, or e.g. "--heapsnapshot-signal=SIGUSR2" to look inside).
import { spawn } from 'node:child_process';
import { AGENT_NODE_FLAGS } from '../../shared/node-flags.js';
import { KILN, makeRepo, memoryMiB, report, runBench, startServer, tempDir, waitFor } from './harness.js';

const JOBS = Number(process.env.BENCH_JOBS ?? 1000);
const JOBS_PER_RUN = 10;
const RUNS_IN_FLIGHT = 4;
const SETTLE_MS = 3000; // let the agent's start-up garbage be collected before reading RSS

const pipeline = `jobs:\n${Array.from({ length: JOBS_PER_RUN }, (_, i) => `  j${i}:\n    steps: [{ run: "true" }]\n`).join('')}`;

runBench(async () => {
  const server = await startServer({ bench: makeRepo(pipeline) });
  const nodeArgs = process.env.BENCH_AGENT_NODE_ARGS === undefined ? [...AGENT_NODE_FLAGS] : process.env.BENCH_AGENT_NODE_ARGS.split(' ').filter(Boolean);
  const agent = spawn(process.execPath, [...nodeArgs, KILN, 'agent', '--server', server.url, '--name', 'bench-memory', '--work-dir', tempDir('kiln-bench-agent-')], {
    stdio: ['ignore', 'ignore', process.env.BENCH_DEBUG ? 'inherit' : 'ignore'],
    env: { ...process.env, KILN_AGENT_TOKEN: 'bench-agent-token', KILN_LOG_LEVEL: 'warn' },
  });
  const stopAgent = () => agent.kill('SIGKILL');
  try {
    const idle = async () => (await server.api<Array<{ status: string }>>('GET', '/api/agents')).some((a) => a.status === 'idle');
    await waitFor(idle, 30_000, 'the agent');
    await new Promise((resolve) => setTimeout(resolve, SETTLE_MS));
    const before = memoryMiB(agent.pid!);
    const tenths: number[] = [];
    const runs = Math.ceil(JOBS / JOBS_PER_RUN);
    const started = Date.now();
    const pending: number[] = [];
    let finished = 0;
    const awaitOldest = async () => {
      const id = pending.shift()!;
      await waitFor(async () => {
        const run = await server.api<{ status: string }>('GET', `/api/runs/${id}`);
        if (['failed', 'cancelled', 'skipped', 'error'].includes(run.status)) throw new Error(`run ${id} ended ${run.status}`);
        return run.status === 'success';
      }, 120_000, `run ${id}`, 50);
      if (++finished % Math.max(1, Math.round(runs / 10)) === 0) tenths.push(memoryMiB(agent.pid!).rss);
    };
    for (let i = 0; i < runs; i++) {
      pending.push((await server.api<{ id: number }>('POST', '/api/repos/bench/runs', {})).id);
      if (pending.length >= RUNS_IN_FLIGHT) await awaitOldest();
    }
    while (pending.length > 0) await awaitOldest();
    const wall = (Date.now() - started) / 1000;
    await waitFor(idle, 30_000, 'the agent idle again');
    const afterBusy = memoryMiB(agent.pid!);
    await new Promise((resolve) => setTimeout(resolve, SETTLE_MS));
    const after = memoryMiB(agent.pid!);
    report('agent memory (MiB)', {
      jobs: runs * JOBS_PER_RUN, 'idle rss': before.rss, 'rss after jobs': afterBusy.rss, [`rss ${SETTLE_MS / 1000} s later`]: after.rss,
      peak: after.peak, 'wall s': wall, 'node flags': nodeArgs.join(' ') || 'none',
    });
    report('agent rss every tenth of the jobs (MiB)', { rss: tenths.map((v) => v.toFixed(1)).join(' ') });
  } finally {
    stopAgent();
  }
});
