// The trigger hot path, on a repo whose mirror is current and with no agents (runs stay queued):
// 1. in process: the server's trigger component alone (store, mirrors, run starter, API
//    trigger; no HTTP, no scheduler), ms per trigger and how much of it is the store's createRun;
// 2. a real server: the time from spawning it to its 'listening' line (then /healthz answers);
//    `POST /api/repos/:repo/runs`: ms per trigger one at a time, and runs/s
//    for a burst triggered at once.
// Each also prints the git processes started per trigger (a `git` wrapper first in PATH counts
// them). BENCH_TRIGGERS (default 300), BENCH_BURST (default 2000),
// BENCH_ONLY=in-process (part 1 only, e.g. to profile it with --cpu-prof).
import { chmodSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { Agent, request } from 'node:http';
import { pino } from 'pino';
import { createMirrors } from '../../server/git/mirror.js';
import { openDatabase } from '../../server/store/index.js';
import { createApiTrigger } from '../../server/triggers/api-trigger.js';
import { createRepoTriggers } from '../../server/triggers/repos.js';
import { createRunStarter } from '../../server/triggers/run-starter.js';
import { makeRepo, percentile, report, runBench, startServer, tempDir } from './harness.js';

const SEQUENTIAL = Number(process.env.BENCH_TRIGGERS ?? 300);
const BURST = Number(process.env.BENCH_BURST ?? 2000);

/** A folder with a `git` that logs each call to `log` and then runs the real git. */
function gitCounter(): { bin: string; count(): number } {
  const bin = tempDir('kiln-bench-gitbin-');
  const log = join(bin, 'calls.log');
  const real = execFileSync('sh', ['-c', 'command -v git'], { encoding: 'utf8' }).trim();
  writeFileSync(log, '');
  writeFileSync(join(bin, 'git'), `#!/bin/sh\necho "$*" >> '${log}'\nexec '${real}' "$@"\n`);
  chmodSync(join(bin, 'git'), 0o755);
  return { bin, count: () => readFileSync(log, 'utf8').split('\n').filter(Boolean).length };
}

async function inProcess(repo: string, git: { count(): number }): Promise<void> {
  const data = tempDir('kiln-bench-data-');
  const store = openDatabase(join(data, 'kiln.db'));
  const logger = pino({ level: 'silent' });
  const mirrors = createMirrors();
  const starter = createRunStarter({ store, logger, mirrors, mirrorDir: (r) => triggers.mirrorDir(r), onRunCreated: () => {} });
  const triggers = createRepoTriggers({ store, mirrors, starter, logger, dataDir: data });
  const repoRow = await triggers.register({ name: 'bench', path: repo });
  const api = createApiTrigger({ store, starter, triggers });
  const trigger = () => api.trigger('bench', { event: 'api' });
  for (let i = 0; i < 50; i++) await trigger();

  // The store's share, measured in turn with the triggers (the store grows alike for both):
  // createRun and getRun of the same plan, without the trigger path.
  const sha = (await triggers.mirror(repoRow).refs()).get('refs/heads/main')!.commit;
  const outcome = await starter.pipelineAt(repoRow, sha);
  if (!outcome?.ok) throw new Error('the bench pipeline does not validate');
  const storeOnly = () => {
    const run = store.runs.createRun({ repoId: repoRow.id, event: 'api', ref: 'refs/heads/main', branch: 'main', tag: null, sha, message: 'bench', env: {}, changedPaths: null, rerunOf: null, plan: outcome.plan });
    store.runs.getRun(run.id);
  };
  const before = git.count();
  const triggerMs: number[] = [];
  const storeMs: number[] = [];
  let triggerCpuMs = 0;
  for (let i = 0; i < SEQUENTIAL; i++) {
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    await trigger();
    const t1 = performance.now();
    const c1 = process.cpuUsage(c0);
    storeOnly();
    storeMs.push(performance.now() - t1);
    triggerMs.push(t1 - t0);
    triggerCpuMs += (c1.user + c1.system) / 1000; // this process's CPU, the libuv threads' fs reads included
  }
  const t1 = performance.now();
  await Promise.all(Array.from({ length: BURST }, () => trigger()));
  const burstSeconds = (performance.now() - t1) / 1000;
  const gitPer = (git.count() - before) / (SEQUENTIAL + BURST);
  report('trigger component in process (ms per trigger)', {
    'one at a time p50': percentile(triggerMs, 50), 'p99': percentile(triggerMs, 99), 'CPU mean': triggerCpuMs / SEQUENTIAL,
    'of which store createRun+getRun p50': percentile(storeMs, 50),
    [`${BURST} at once, runs/s`]: BURST / burstSeconds, 'git per trigger': gitPer,
  });
  await triggers.stop();
  store.close();
}

/** POST {} with the bench admin token (the harness's); resolves with the JSON answer. */
function post(base: string, path: string, agent: Agent): Promise<{ id: number }> {
  return new Promise((resolve, reject) => {
    const req = request(`${base}${path}`, { method: 'POST', agent, headers: { authorization: 'Bearer bench-admin-token', 'content-type': 'application/json' } }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (body += d));
      res.on('end', () => (res.statusCode === 201 ? resolve(JSON.parse(body) as { id: number }) : reject(new Error(`${res.statusCode} ${body}`))));
    });
    req.on('error', reject);
    req.end('{}');
  });
}

runBench(async () => {
  if (process.env.BENCH_ONLY === 'in-process') return inProcess(makeRepo('jobs:\n  hello:\n    steps: [{ run: echo hello }]\n'), gitCounter());
  const git = gitCounter();
  process.env.PATH = `${git.bin}:${process.env.PATH ?? ''}`; // inherited by the server process
  const repo = makeRepo('jobs:\n  hello:\n    steps: [{ run: echo hello }]\n');
  await inProcess(repo, git);
  const spawned = performance.now();
  const server = await startServer({ bench: repo });
  const startMs = performance.now() - spawned;
  const healthz = await fetch(`${server.url}/healthz`);
  report('server start (spawn → listening, fresh data folder, one repo)', { ms: startMs, '/healthz': healthz.status });
  // "At once": every request is made at once; they go through at most 64 connections, as a
  // proxy or a load balancer in front of the server would (2,000 sockets at once get refused).
  const agent = new Agent({ keepAlive: true, maxSockets: 64 });
  const trigger = () => post(server.url, '/api/repos/bench/runs', agent);
  for (let i = 0; i < 20; i++) await trigger(); // warm: mirror, refs, readers, caches, JIT

  const gitBefore = git.count();
  const times: number[] = [];
  for (let i = 0; i < SEQUENTIAL; i++) {
    const t0 = performance.now();
    await trigger();
    times.push(performance.now() - t0);
  }
  const sequentialGit = git.count() - gitBefore;
  report('trigger one at a time (HTTP round trip, ms)', {
    triggers: SEQUENTIAL, p50: percentile(times, 50), p99: percentile(times, 99), 'git per trigger': sequentialGit / SEQUENTIAL,
  });

  const burstBefore = git.count();
  const t0 = performance.now();
  const ids = await Promise.all(Array.from({ length: BURST }, () => trigger()));
  const seconds = (performance.now() - t0) / 1000;
  report('triggers at once', {
    triggers: BURST, 'runs/s': ids.length / seconds, 'wall s': seconds, 'distinct runs': new Set(ids.map((r) => r.id)).size,
    'git per trigger': (git.count() - burstBefore) / BURST,
  });
  await server.stop();
});
