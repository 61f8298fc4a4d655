// Checkout time on one agent for a 20,000-file repo (BENCH_FILES to change): the first job (fresh
// clone, fetched from the server), the second (a new commit: reused workspace, a small fetch) and
// a re-run of it (reused workspace, no fetch), as the job logs say. Target: second ≤ 0.5 s.
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { report, runBench, startAgents, startServer, tempDir, waitFor, type BenchServer } from './harness.js';

const FILES = Number(process.env.BENCH_FILES ?? 20_000);
const PER_DIR = 100;

runBench(async () => {
  const repo = tempDir('kiln-bench-checkout-');
  const git = (...args: string[]) => execFileSync('git', ['-c', 'user.name=bench', '-c', 'user.email=bench@kiln.invalid', ...args], { cwd: repo, encoding: 'utf8' }).trim();
  git('init', '-q', '-b', 'main');
  for (let i = 0; i < FILES; i++) {
    const dir = join(repo, 'src', `d${Math.floor(i / PER_DIR)}`);
    if (i % PER_DIR === 0) mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, `f${i}.ts`), `export const v${i} = ${i};\n`);
  }
  writeFileSync(join(repo, '.gitignore'), 'build/\n');
  writeFileSync(join(repo, 'pipeline.yml'), 'jobs:\n  build:\n    steps: [{ run: "mkdir -p build && echo out > build/a && echo x > untracked.txt" }]\n');
  git('add', '.');
  git('commit', '-qm', 'first');
  const server = await startServer({ bench: repo });
  startAgents(server, 1);
  await waitFor(async () => (await server.api<Array<{ status: string }>>('GET', '/api/agents')).some((a) => a.status === 'idle'), 30_000, 'the agent');

  const first = await checkoutOf(server, (await server.api<{ id: number }>('POST', '/api/repos/bench/runs', {})).id);
  for (let i = 0; i < 10; i++) writeFileSync(join(repo, 'src', 'd0', `f${i}.ts`), `export const v${i} = ${-i};\n`);
  git('commit', '-qam', 'second');
  const sha = git('rev-parse', 'HEAD');
  // The push starts its run (the server watches the repo).
  const pushed = await waitFor(async () => (await server.api<Array<{ id: number; sha: string }>>('GET', '/api/repos/bench/runs')).find((r) => r.sha === sha), 30_000, 'the run of the push', 100);
  const second = await checkoutOf(server, pushed.id);
  const rerun = await checkoutOf(server, (await server.api<{ id: number }>('POST', '/api/repos/bench/runs', { sha })).id);
  report(`checkout of a ${FILES}-file repo on one agent (s, from the job log)`, {
    'first (fresh clone, fetched)': first.seconds, 'second (a pushed commit, 10 files changed)': second.seconds, 'second says': second.how,
    're-run (same commit)': rerun.seconds, 're-run says': rerun.how, target: '≤ 0.5 s for the second',
  });
});

async function checkoutOf(server: BenchServer, runId: number): Promise<{ seconds: number; how: string }> {
  const run = { id: runId };
  const ended = await waitFor(async () => {
    const r = await server.api<{ status: string; jobs: Array<{ id: number }> }>('GET', `/api/runs/${run.id}`);
    return ['success', 'failed', 'error'].includes(r.status) ? r : null;
  }, 300_000, `run ${run.id}`, 100);
  if (ended.status !== 'success') throw new Error(`run ${run.id} ended ${ended.status}`);
  const log = await (await fetch(`${server.url}/api/jobs/${ended.jobs[0]!.id}/log`)).text();
  const line = /kiln: checked out [0-9a-f]{12} in ([\d.]+) s \(([^)]*)\)/.exec(log);
  if (!line) throw new Error(`no checkout line in the log of run ${run.id}`);
  return { seconds: Number(line[1]), how: line[2]!.replace(/ /g, '_') };
}
