// Server idle memory and start time: a server with one repo and the default local pool, no
// jobs; prints the time until it answers /healthz and its resident memory after settling.
import { spawn } from 'node:child_process';
import { KILN, makeRepo, memoryMiB, report, runBench, startServer, tempDir } from './harness.js';

runBench(async () => {
  const repo = makeRepo('jobs:\n  one:\n    steps: [{ run: "true" }]\n');
  const t0 = Date.now();
  const server = await startServer({ bench: repo }, '');
  const ready = Date.now() - t0;
  await new Promise((resolve) => setTimeout(resolve, 3000));
  const settled = memoryMiB(server.pid);
  // the bare process start, for comparison: `kiln --version`
  const t1 = Date.now();
  await new Promise((resolve) => spawn(process.execPath, [KILN, '--version'], { stdio: 'ignore', cwd: tempDir('kiln-bench-') }).on('exit', resolve));
  report('server idle', { 'start to listening ms': ready, 'kiln --version ms': Date.now() - t1, 'rss MiB': settled.rss, 'peak MiB': settled.peak });
});
