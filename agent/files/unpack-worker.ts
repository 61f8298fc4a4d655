// The worker thread unpack.ts runs tar's synchronous extractor in. Why a thread: tar's
// asynchronous extractor waits on the thread pool for every file system call (a folder's
// mkdir and lstat per path component, then open, write, close, utimes), which makes a cache of
// a few thousand files take seconds; the synchronous one is several times faster, and on this
// thread it never holds up the agent's own event loop (its pings, log chunks and other jobs).
import { parentPort, workerData } from 'node:worker_threads';
import { extractSync, type ExtractRequest } from './extract.js';

const request = workerData as ExtractRequest;
try {
  parentPort!.postMessage({ ok: true, refused: extractSync(request) });
} catch (err) {
  parentPort!.postMessage({ ok: false, error: err instanceof Error ? err.message : String(err) });
}
