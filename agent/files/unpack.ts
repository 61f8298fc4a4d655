// Unpacks a downloaded .tar.gz into the workspace with tar's safe defaults (tar-sync.ts), in a
// worker thread, after its digest is checked.
import { digestFile, type Digest } from './digest.js';
import { runTar } from './tar-thread.js';

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
    refused = await runTar({ op: 'extract', file: archivePath, cwd: workspace });
  } catch (err) {
    throw new Error(`unpacking failed: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
  }
  if (refused !== null) throw new Error(`${refused} (refused)`);
}
