// Fleet: a real `kiln server` process, N simulated agents in a second process (fleet-agents.ts:
// the real protocol over WebSocket, no work) and this process as the trigger client, so the
// figures are the server's. Two phases, each on a fresh server:
//   burst:    2,000 one-job runs triggered on 200 agents → runs/s;
//   dispatch: 1,000 runs on 1,000 agents → runs/s and dispatch p50/p99.
// Triggers go out with at most BENCH_CONCURRENCY (64) POSTs in flight. runs/s is runs ÷ (first
// POST sent → last run's finished_at). Dispatch is the job's queued_at (API; the job is ready
// at once, it has no needs) → its `job` frame arriving at an agent (agent process clock, same
// machine; queued_at has ms resolution); queued → started (API, the lease) is printed too.
// Server RSS: idle (before agents), with the N agents connected (2 s after), peak (sampled
// every 50 ms during the runs, and VmHWM). Knobs: BENCH_FLEET_PHASES (burst,dispatch),
// BENCH_FLEET_BURST_RUNS (2000), BENCH_FLEET_BURST_AGENTS (200), BENCH_FLEET_RUNS (1000),
// BENCH_FLEET_AGENTS (1000), BENCH_CONCURRENCY (64).
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { AGENT_TOKEN, cpuSeconds, makeRepo, memoryMiB, percentile, report, runBench, startServer, waitFor, type BenchServer } from './harness.js';
import { triggerRuns, type TriggeredRun } from './runs.js';

const PHASES = (process.env.BENCH_FLEET_PHASES ?? 'burst,dispatch').split(',').filter(Boolean);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 64);
const SETTLE_MS = 2000;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

interface Collected { arrivals: Array<[number, number]>; acks: number; doneAcks: number; logsSent: number; donesSent: number; unexpectedFrames: number; closedAfterWelcome: number }

/** The simulated agents' process, once every agent was welcomed. */
async function startFleet(server: BenchServer, agents: number): Promise<{ child: ChildProcess; connectMs: number; collect(doneAcks: number): Promise<Collected> }> {
  const child = fork(fileURLToPath(new URL('./fleet-agents.js', import.meta.url)), [server.url, AGENT_TOKEN, String(agents)], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const connectMs = await new Promise<number>((resolve, reject) => {
    child.on('message', (m: { type: string; connectMs?: number; error?: string }) => {
      if (m.type === 'ready') resolve(m.connectMs!);
      if (m.type === 'failed') reject(new Error(`the simulated agents failed: ${m.error}`));
    });
    child.once('exit', (code) => reject(new Error(`the simulated agents exited with ${code}`)));
  });
  return {
    child, connectMs,
    collect: (doneAcks) => new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`the agents did not see ${doneAcks} jobs done within 15 min`)), 900_000);
      const onMessage = (m: { type: string } & Collected) => {
        if (m.type !== 'collected') return;
        clearTimeout(timer);
        child.off('message', onMessage);
        resolve(m);
      };
      child.on('message', onMessage);
      child.send({ type: 'collect', doneAcks });
    }),
  };
}

/** Every triggered run as the API has it now, fetched after the timed window (64 at a time). */
async function fetchRuns(server: BenchServer, runs: TriggeredRun[]) {
  type RunApi = { id: number; status: string; finished_at: string | null; jobs: Array<{ id: number; status: string; queued_at: string; started_at: string | null }> };
  const out: RunApi[] = [];
  let next = 0;
  await Promise.all(Array.from({ length: 64 }, async () => {
    while (next < runs.length) {
      const id = runs[next++]!.id;
      // done-ack comes before the run's own status moves on; wait for it to be final.
      out.push(await waitFor(async () => {
        const run = await server.api<RunApi>('GET', `/api/runs/${id}`);
        return run.finished_at ? run : null;
      }, 30_000, `run ${id} to end`, 20));
    }
  }));
  return out;
}

interface PhaseResult {
  name: string;
  agents: number;
  runs: TriggeredRun[];
  collected: Collected;
  cpuUsed: { server: number; agents: number; client: number };
  memory: { idle: number; connected: number; peak: number; hwm: number };
  connectMs: number;
}

/** Prints a phase's figures from the runs as the API has them afterwards; throws if anything was lost. */
async function reportPhase(server: BenchServer, { name, agents, runs, collected, cpuUsed, memory, connectMs }: PhaseResult): Promise<void> {
  const count = runs.length;
  const finished = await fetchRuns(server, runs);
  const failed = finished.filter((r) => r.status !== 'success').length;
  const first = Math.min(...runs.map((r) => r.sentMs));
  const last = Math.max(...finished.map((r) => Date.parse(r.finished_at!)));
  const answers = runs.map((r) => r.answeredMs - r.sentMs);
  const queuedAt = new Map(runs.flatMap((r) => r.jobs.map((j) => [j.id, Date.parse(j.queued_at)] as const)));
  const dispatch = collected.arrivals.map(([jobId, at]) => at - queuedAt.get(jobId)!);
  const leased = finished.flatMap((r) => r.jobs).map((j) => Date.parse(j.started_at!) - Date.parse(j.queued_at));
  report(`fleet ${name}: ${count} runs on ${agents} simulated agents (${CONCURRENCY} POSTs in flight)`, {
    failed, 'runs/s': count / ((last - first) / 1000), 'first POST → last finished_at s': (last - first) / 1000,
    'POST answered p50 ms': percentile(answers, 50), 'POST answered p99 ms': percentile(answers, 99),
    'agents connect s': connectMs / 1000, 'server cpu s': cpuUsed.server, 'agents cpu s': cpuUsed.agents, 'client cpu s': cpuUsed.client,
  });
  report(`fleet ${name}: dispatch with ${agents} agents connected (ms)`, {
    'queued_at → job frame at agent p50': percentile(dispatch, 50), p99: percentile(dispatch, 99), max: Math.max(...dispatch),
    'queued → started (API) p50': percentile(leased, 50), 'queued → started p99': percentile(leased, 99),
  });
  report(`fleet ${name}: server memory (MiB)`, { 'rss idle': memory.idle, [`rss with ${agents} agents`]: memory.connected, 'rss peak sampled': memory.peak, VmHWM: memory.hwm });
  const lost = collected.donesSent - collected.doneAcks + collected.logsSent - collected.acks;
  if (failed > 0 || collected.arrivals.length !== count || lost !== 0 || collected.unexpectedFrames > 0 || collected.closedAfterWelcome > 0) {
    throw new Error(`fleet ${name}: ${failed} runs failed, ${collected.arrivals.length}/${count} jobs reached agents, ${lost} frames unacknowledged, ${collected.unexpectedFrames} unexpected frames, ${collected.closedAfterWelcome} agents disconnected`);
  }
}

async function phase(name: string, agents: number, count: number): Promise<void> {
  const server = await startServer({ bench: makeRepo('jobs:\n  hello:\n    steps: [{ run: echo hello }]\n') });
  let fleet: Awaited<ReturnType<typeof startFleet>> | null = null;
  try {
    await sleep(SETTLE_MS);
    const idle = memoryMiB(server.pid).rss;
    fleet = await startFleet(server, agents);
    await sleep(SETTLE_MS);
    const connected = memoryMiB(server.pid).rss;
    let peak = connected;
    const sampler = setInterval(() => { peak = Math.max(peak, memoryMiB(server.pid).rss); }, 50);
    const cpu = { server: cpuSeconds(server.pid), agents: cpuSeconds(fleet.child.pid!), client: process.cpuUsage() };
    const runs = await triggerRuns(server, 'bench', count, CONCURRENCY);
    const collected = await fleet.collect(count);
    clearInterval(sampler);
    const cpuUsed = {
      server: cpuSeconds(server.pid) - cpu.server, agents: cpuSeconds(fleet.child.pid!) - cpu.agents,
      client: (() => { const u = process.cpuUsage(cpu.client); return (u.user + u.system) / 1e6; })(),
    };
    const memory = { idle, connected, peak, hwm: memoryMiB(server.pid).peak };
    await reportPhase(server, { name, agents, runs, collected, cpuUsed, memory, connectMs: fleet.connectMs });
  } finally {
    fleet?.child.kill('SIGKILL');
    await server.stop();
  }
}

runBench(async () => {
  for (const name of PHASES) {
    if (name === 'burst') await phase(name, Number(process.env.BENCH_FLEET_BURST_AGENTS ?? 200), Number(process.env.BENCH_FLEET_BURST_RUNS ?? 2000));
    else if (name === 'dispatch') await phase(name, Number(process.env.BENCH_FLEET_AGENTS ?? 1000), Number(process.env.BENCH_FLEET_RUNS ?? 1000));
    else throw new Error(`BENCH_FLEET_PHASES: unknown phase ${name} (burst, dispatch)`);
  }
});
