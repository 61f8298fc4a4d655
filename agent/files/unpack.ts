// Unpacks a downloaded .tar.gz into the workspace with tar's safe defaults, after its digest is
// checked: in a worker thread (unpack-worker.ts), with tar's synchronous extractor.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { packageRoot } from '../../shared/package-root.js';
import { digestFile, type Digest } from './digest.js';
import type { ExtractRequest } from './extract.js';

/**
 * Checks that `archivePath` hashes to `sha256` (hashing it unless `known` is given), then
 * extracts it into `workspace`. Devices and FIFOs are refused. Throws an Error with one line.
 */
export async function unpackArchive(archivePath: string, sha256: string, workspace: string, known?: Digest): Promise<void> {
  // `known`: the digest taken as the file was downloaded into a folder only the agent writes.
  const actual = known ?? await digestFile(archivePath);
  if (actual.sha256 !== sha256) throw new Error(`the download's sha256 is ${actual.sha256.slice(0, 12)}…, expected ${sha256.slice(0, 12)}…`);
  let refused: string | null;
  try {
    refused = await extract({ file: archivePath, cwd: workspace });
  } catch (err) {
    throw new Error(`unpacking failed: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
  }
  if (refused !== null) throw new Error(`${refused} (refused)`);
}

let workerFile: string | null | undefined;

/**
 * The worker's file: beside this module in the bundle (dist/bundle/) and in tsc's output; run
 * from the TypeScript source (tests), tsc's output of it. Null: none built, extract in process.
 */
function findWorkerFile(): string | null {
  const beside = fileURLToPath(new URL('./unpack-worker.js', import.meta.url));
  const built = join(packageRoot(import.meta.url), 'dist', 'agent', 'files', 'unpack-worker.js');
  return [beside, built].find((file) => existsSync(file)) ?? null;
}

async function extract(request: ExtractRequest): Promise<string | null> {
  workerFile ??= findWorkerFile();
  if (workerFile === null) return (await import('./extract.js')).extractAsync(request);
  const worker = new Worker(workerFile, { workerData: request });
  return new Promise((resolve, reject) => {
    worker.once('message', (m: { ok: true; refused: string | null } | { ok: false; error: string }) => (m.ok ? resolve(m.refused) : reject(new Error(m.error))));
    worker.once('error', reject);
    worker.once('exit', (code) => reject(new Error(`the unpacking thread exited (${code})`)));
  });
}
