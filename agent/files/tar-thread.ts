// Runs a tar job (tar-sync.ts) in a worker thread (tar-worker.ts), one thread per job.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { packageRoot } from '../../shared/package-root.js';
import type { TarJob, TarResult } from './tar-sync.js';

let workerFile: string | null | undefined;

/**
 * The worker's file: beside this module in the bundle (dist/bundle/) and in tsc's output; run
 * from the TypeScript source (tests), tsc's output of it. Null: none built, run on the event loop.
 */
function findWorkerFile(): string | null {
  const beside = fileURLToPath(new URL('./tar-worker.js', import.meta.url));
  const built = join(packageRoot(import.meta.url), 'dist', 'agent', 'files', 'tar-worker.js');
  return [beside, built].find((file) => existsSync(file)) ?? null;
}

export async function runTar(job: TarJob): Promise<TarResult> {
  workerFile ??= findWorkerFile();
  if (workerFile === null) return (await import('./tar-sync.js')).runTarJobAsync(job);
  const worker = new Worker(workerFile, { workerData: job });
  return new Promise((resolve, reject) => {
    worker.once('message', (m: { ok: true; result: TarResult } | { ok: false; error: string }) => (m.ok ? resolve(m.result) : reject(new Error(m.error))));
    worker.once('error', reject);
    worker.once('exit', (code) => reject(new Error(`the tar thread exited (${code})`)));
  });
}
