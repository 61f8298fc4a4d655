// Server start and idle memory: spawns `kiln server` (one repo, the default local pool, which
// starts no agent while idle) on a port known in advance and polls GET /healthz every
// BENCH_POLL_MS (2) from before the spawn; prints spawn → first 200 and spawn → the "listening"
// log line, then the resident memory after 3 s idle and the bare `kiln --version` process.
// A server that answers the early polls with anything but 200 is reported as such, and a second
// one is started whose polling begins only at its "listening" line (so idle memory still prints).
import { spawn } from 'node:child_process';
import { freePort, KILN, makeRepo, memoryMiB, report, runBench, startServer, tempDir, type BenchServer } from './harness.js';

const POLL_MS = Number(process.env.BENCH_POLL_MS ?? 2);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

interface Answer { status: number; atMs: number }

/** Polls `url` until it answers at all (connection refused is no answer), or `stop()`. */
async function firstAnswer(url: string, stop: () => boolean): Promise<Answer | null> {
  while (!stop()) {
    const at = performance.now();
    const status = await fetch(url, { signal: AbortSignal.timeout(1000) }).then((r) => r.status, () => null);
    if (status !== null) return { status, atMs: performance.now() };
    await sleep(Math.max(0, POLL_MS - (performance.now() - at)));
  }
  return null;
}

type Start = { server: BenchServer; answer: Answer; listeningMs: number } | { server: null; answer: Answer; error: unknown };

/** One start: spawn → first /healthz answer (polled from before the spawn unless `afterListening`) and → the listening line. */
async function start(repo: string, afterListening: boolean): Promise<Start> {
  const port = await freePort();
  let gaveUp = false;
  const url = `http://127.0.0.1:${port}/healthz`;
  const early = afterListening ? null : firstAnswer(url, () => gaveUp);
  const t0 = performance.now(); // startServer spawns before its first await
  const since = (answer: Answer) => ({ status: answer.status, atMs: answer.atMs - t0 });
  try {
    const server = await startServer({ bench: repo }, '', { port, startTimeoutMs: 20_000 });
    const listeningMs = performance.now() - t0;
    return { server, answer: since((await early) ?? (await firstAnswer(url, () => false))!), listeningMs };
  } catch (error) {
    gaveUp = true;
    const answer = await early;
    if (!answer) throw error;
    return { server: null, answer: since(answer), error };
  }
}

runBench(async () => {
  const repo = makeRepo('jobs:\n  one:\n    steps: [{ run: "true" }]\n');
  const figures: Record<string, string | number> = {};
  let started = await start(repo, false);
  if (started.server && started.answer.status === 200) {
    figures['spawn → /healthz 200 ms'] = started.answer.atMs;
  } else {
    // Seen on servers that listen before their routes are added: an early request builds the
    // router, adding the rest then throws, and the process stays up answering 404.
    figures['spawn → /healthz 200 ms'] = `none (first answer ${started.answer.status} at ${started.answer.atMs.toFixed(0)} ms${started.server ? '' : '; never logged listening'})`;
    console.error(`the server answered /healthz ${started.answer.status} while starting (polled from the spawn on)`);
    await started.server?.stop();
    started = await start(repo, true);
    if (!started.server) throw started.error;
    figures['polled after listening: spawn → /healthz 200 ms'] = started.answer.atMs;
  }
  figures['spawn → listening log line ms'] = started.listeningMs;
  await sleep(3000);
  const settled = memoryMiB(started.server.pid);
  const t1 = performance.now();
  await new Promise((resolve) => spawn(process.execPath, [KILN, '--version'], { stdio: 'ignore', cwd: tempDir('kiln-bench-') }).on('exit', resolve));
  report('server start and idle', { ...figures, 'kiln --version ms': performance.now() - t1, 'rss idle MiB': settled.rss, 'peak MiB': settled.peak });
});
