// Packs checked workspace entries (collect.ts) into a .tar.gz file (tar-sync.ts, in a worker
// thread), and hashes it.
import type { CollectedEntry } from './collect.js';
import { digestFile, type Digest } from './digest.js';
import { runTar } from './tar-thread.js';

/**
 * Writes `entries` (paths relative to `root`, parents first) to `archivePath` as gzipped tar and
 * returns its digest. Only the entries given go in (no folder recursion, symlinks kept as
 * symlinks, hard links within the set as links). Throws when an entry changed kind since it
 * was collected (a symlink put in a file's place after the check). `gzipLevel`: 1 for caches
 * (saved after every miss, so time counts), the default 6 for artifacts.
 */
export async function packEntries(root: string, entries: readonly CollectedEntry[], archivePath: string, gzipLevel = 6): Promise<Digest> {
  const changed = await runTar({ op: 'pack', file: archivePath, cwd: root, entries: [...entries], gzipLevel });
  if (changed !== null) throw new Error(`${changed} changed while it was packed`);
  return digestFile(archivePath);
}
