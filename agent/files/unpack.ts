// Unpacks a downloaded .tar.gz into the workspace with tar's safe defaults, after its digest is checked.
import * as tar from 'tar';
import { digestFile, type Digest } from './digest.js';

const REFUSED_TYPES: Record<string, string> = { CharacterDevice: 'a character device', BlockDevice: 'a block device', FIFO: 'a FIFO' };

/**
 * Checks that `archivePath` hashes to `sha256` (hashing it unless `known` is given), then extracts it into `workspace`. tar refuses
 * absolute paths, `..`, and writing through symlinks (`preservePaths: false`); `strict` turns
 * each such warning into a failure; owners are not restored. Devices and FIFOs are refused.
 * Throws an Error with one line.
 */
export async function unpackArchive(archivePath: string, sha256: string, workspace: string, known?: Digest): Promise<void> {
  // `known`: the digest taken as the file was downloaded into a folder only the agent writes.
  const actual = known ?? await digestFile(archivePath);
  if (actual.sha256 !== sha256) throw new Error(`the download's sha256 is ${actual.sha256.slice(0, 12)}…, expected ${sha256.slice(0, 12)}…`);
  let refused: string | null = null;
  try {
    await tar.x({
      file: archivePath,
      cwd: workspace,
      preservePaths: false,
      preserveOwner: false,
      strict: true,
      filter: (path, entry) => {
        const kind = 'type' in entry ? REFUSED_TYPES[entry.type] : undefined;
        if (kind !== undefined) refused ??= `the archive holds ${kind}, ${path}`;
        return kind === undefined;
      },
    });
  } catch (err) {
    throw new Error(`unpacking failed: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
  }
  if (refused !== null) throw new Error(`${refused as string} (refused)`);
}
