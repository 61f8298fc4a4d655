// Packs checked workspace entries (collect.ts) into a .tar.gz file, hashing it as it is written.
import { createWriteStream } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import * as tar from 'tar';
import type { CollectedEntry } from './collect.js';
import { digesting, type Digest } from './digest.js';

/**
 * Writes `entries` (paths relative to `root`, parents first) to `archivePath` as gzipped tar and
 * returns its digest. Only the entries given go in (no folder recursion, symlinks kept as
 * symlinks, hard links within the set as links). Throws when an entry changed kind since it
 * was collected (a symlink put in a file's place after the check).
 */
export async function packEntries(root: string, entries: readonly CollectedEntry[], archivePath: string): Promise<Digest> {
  const expected = new Map(entries.map((e) => [e.path, e]));
  let changed: string | null = null;
  const pack = tar.c({
    cwd: root,
    gzip: true,
    portable: true,
    noDirRecurse: true,
    follow: false,
    filter: (path, stat) => {
      const entry = expected.get(path.startsWith('./') ? path.slice(2) : path);
      const ok = entry !== undefined && 'isFile' in stat && stat.ino === entry.ino && kindOf(stat) === entry.kind;
      if (!ok) changed ??= path;
      return ok;
    },
  // A name starting with `@` is an archive to append for tar; `./` makes it a plain path.
  }, entries.map((e) => (e.path.startsWith('@') ? `./${e.path}` : e.path)));
  const digest = digesting();
  await pipeline(pack, digest.pass, createWriteStream(archivePath));
  if (changed !== null) throw new Error(`${changed as string} changed while it was packed`);
  return digest.result();
}

function kindOf(stat: { isFile(): boolean; isDirectory(): boolean; isSymbolicLink(): boolean }): CollectedEntry['kind'] | null {
  return stat.isSymbolicLink() ? 'symlink' : stat.isDirectory() ? 'dir' : stat.isFile() ? 'file' : null;
}
