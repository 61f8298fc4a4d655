// The worker thread tar-thread.ts runs tar's synchronous packer and extractor in. Why a thread:
// tar's asynchronous side waits on the thread pool for every file system call (a folder's mkdir
// and lstat per path component, then open, write, close, utimes), which makes a cache of a few
// thousand files take seconds; the synchronous side is several times faster, and on this
// thread it never holds up the agent's own event loop (its pings, log chunks and other jobs).
import { parentPort, workerData } from 'node:worker_threads';
import { runTarJob, type TarJob } from './tar-sync.js';

try {
  parentPort!.postMessage({ ok: true, result: runTarJob(workerData as TarJob) });
} catch (err) {
  parentPort!.postMessage({ ok: false, error: err instanceof Error ? err.message : String(err) });
}
