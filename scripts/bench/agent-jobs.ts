// Agent job path: one real `kiln agent` process (shell executor) and a stub server that hands
// it the next one-step `echo hello` job the moment the last one's done arrives, acking every
// log and done at once. Prints the agent's CPU per job, its git and step processes included,
// and jobs/s: the agent's own cost, without the server's. BENCH_JOBS (300), BENCH_STEPS (1).
import { execFileSync, spawn } from 'node:child_process';
import { join } from 'node:path';
import { WebSocketServer } from 'ws';
import type { PlannedJob } from '../../shared/pipeline/types.js';
import { PROTOCOL_VERSION, encode, type JobAssignment, type ServerMessage } from '../../shared/protocol/messages.js';
import { decodeAgentMessage } from '../../shared/protocol/agent-schema.js';
import { AGENT_NODE_FLAGS } from '../../shared/node-flags.js';
import { AGENT_TOKEN, cpuSecondsSplit, KILN, makeRepo, report, runBench, tempDir } from './harness.js';

const JOBS = Number(process.env.BENCH_JOBS ?? 300);
const STEPS = Number(process.env.BENCH_STEPS ?? 1);
const WARM = 5;

runBench(async () => {
  const repo = makeRepo('jobs: {}\n');
  const sha = execFileSync('git', ['rev-parse', 'HEAD'], { cwd: repo, encoding: 'utf8' }).trim();
  // The agent's cache already holds the commit: no job fetches, and the stub serves no git.
  const cache = tempDir('kiln-bench-cache-');
  execFileSync('git', ['clone', '--quiet', '--bare', repo, join(cache, 'bench.git')]);
  const job: PlannedJob = {
    name: 'hello', key: 'hello', matrix: null, needs: [], runsOn: [], image: null, pull: 'if-not-present', user: null,
    services: [], docker: null, env: {}, secrets: [], cache: null, artifacts: null, retry: 0, timeoutMs: null,
    allowFailure: false, when: null, environment: null, approval: false, concurrency: null,
    steps: Array.from({ length: STEPS }, (_, i) => ({ name: `step ${i}`, run: 'echo hello', shell: 'sh -e', env: {}, timeoutMs: null, continueOnError: false, when: null })),
  };
  const assignment = (jobId: number): JobAssignment => ({
    jobId, runId: jobId, attempt: 1, token: `bench-lease-token-${jobId}`, repo: 'bench', gitUrl: '', sha, ref: 'refs/heads/main', job,
    env: { CI: 'true', KILN: 'true', KILN_JOB: 'hello', KILN_COMMIT_SHA: sha }, secrets: [], logCapBytes: 16 * 1024 * 1024,
  });

  const wss = new WebSocketServer({ port: 0, host: '127.0.0.1' });
  await new Promise<void>((resolve) => wss.once('listening', () => resolve()));
  const port = (wss.address() as { port: number }).port;
  let next = 1;
  let frames = 0;
  let cpuAtWarm = { self: 0, children: 0 };
  let startedAt = 0;
  let resolveDone!: () => void;
  const allDone = new Promise<void>((resolve) => { resolveDone = resolve; });
  wss.on('connection', (socket) => {
    const send = (m: ServerMessage) => socket.send(encode(m));
    socket.on('message', (data: Buffer) => {
      const decoded = decodeAgentMessage(data);
      if (!decoded.ok) throw new Error(`bad frame from the agent: ${decoded.error}`);
      const m = decoded.message;
      if (next > WARM + 1) frames++;
      if (m.type === 'hello') {
        send({ type: 'welcome', agentId: 1, protocol: PROTOCOL_VERSION, leaseMs: 30_000, keep: [], drop: [] });
        send({ type: 'job', assignment: assignment(next++) });
      } else if (m.type === 'log') send({ type: 'ack', jobId: m.jobId, attempt: m.attempt, seq: m.seq });
      else if (m.type === 'done') {
        if (m.status !== 'success') throw new Error(`job ${m.jobId} ended ${m.status}: ${m.reason}`);
        send({ type: 'done-ack', jobId: m.jobId, attempt: m.attempt });
        if (m.jobId === WARM) {
          cpuAtWarm = cpuSecondsSplit(agent.pid!);
          startedAt = performance.now();
        }
        if (m.jobId === WARM + JOBS) resolveDone();
        else send({ type: 'job', assignment: assignment(next++) });
      }
    });
  });
  const nodeArgs = [...AGENT_NODE_FLAGS, ...(process.env.BENCH_AGENT_NODE_ARGS ?? '').split(' ').filter(Boolean)];
  const agent = spawn(process.execPath, [...nodeArgs, KILN, 'agent', '--server', `http://127.0.0.1:${port}`, '--name', 'bench', '--work-dir', tempDir('kiln-bench-agent-'), '--git-cache', cache], {
    stdio: ['ignore', 'ignore', process.env.BENCH_DEBUG ? 'inherit' : 'ignore'], env: { ...process.env, KILN_AGENT_TOKEN: AGENT_TOKEN, KILN_LOG_LEVEL: 'warn' },
  });
  try {
    await allDone;
    const seconds = (performance.now() - startedAt) / 1000;
    const cpu = cpuSecondsSplit(agent.pid!);
    const ms = (s: number) => (s * 1000) / JOBS;
    report(`agent jobs: ${JOBS} one-job runs of ${STEPS} step(s), one after another, on one agent with a stub server`, {
      'jobs/s': JOBS / seconds, 'agent cpu ms/job': ms(cpu.self - cpuAtWarm.self), 'its children\'s (git, sh) ms/job': ms(cpu.children - cpuAtWarm.children), 'frames/job': frames / JOBS,
    });
  } finally {
    // SIGTERM drains (nothing runs by now) and exits, so that a --cpu-prof profile is written.
    const exited = new Promise((resolve) => agent.once('exit', resolve));
    agent.kill('SIGTERM');
    const timer = setTimeout(() => agent.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(timer);
    wss.close();
  }
});
