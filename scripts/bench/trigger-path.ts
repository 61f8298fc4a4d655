// The trigger hot path: `POST /api/repos/:repo/runs` on a real server whose mirror is current,
// with no agents (runs stay queued). Prints ms per trigger one at a time, runs/s for a burst
// triggered at once, and the git processes the server started per trigger (a `git` wrapper
// first in PATH counts them). BENCH_TRIGGERS (default 300) and BENCH_BURST (default 2000).
import { chmodSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
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

runBench(async () => {
  const git = gitCounter();
  process.env.PATH = `${git.bin}:${process.env.PATH ?? ''}`; // inherited by the server process
  const repo = makeRepo('jobs:\n  hello:\n    steps: [{ run: echo hello }]\n');
  const server = await startServer({ bench: repo });
  const trigger = () => server.api<{ id: number }>('POST', '/api/repos/bench/runs', {});
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
