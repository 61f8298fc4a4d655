// The agent's local copies of cache archives, `<dir>/<sha256>.tgz`: a restore on this host skips the download.
import { copyFile, readdir, rename, rm, stat, utimes } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * Copies are named by their digest, so a copy is right or broken, never stale; the caller
 * checks the digest before unpacking one (unpack.ts) and `forget`s a broken one. Kept to
 * `maxBytes` in total, least recently used (mtime, touched on use) removed first.
 */
export interface LocalCache {
  /** The path of the copy of `sha256`, touched as used, or null when there is none. */
  find(sha256: string): Promise<string | null>;
  /** Moves `file` (an archive whose digest is `sha256`) in as the copy, then trims to `maxBytes`. */
  keep(file: string, sha256: string): Promise<void>;
  /** Removes a copy that did not check out. */
  forget(sha256: string): Promise<void>;
}

export interface LocalCacheOptions {
  dir: string;
  maxBytes: number;
  now?: () => number;
}

const DIGEST = /^[0-9a-f]{64}$/;

export function createLocalCache(o: LocalCacheOptions): LocalCache {
  const now = o.now ?? Date.now;
  const pathOf = (sha256: string) => {
    if (!DIGEST.test(sha256)) throw new Error(`not a sha256 digest: ${sha256}`);
    return join(o.dir, `${sha256}.tgz`);
  };
  return {
    async find(sha256) {
      if (o.maxBytes === 0) return null;
      const path = pathOf(sha256);
      const seen = new Date(now());
      // Why touch and not only stat: the trim below goes by mtime, and a copy in use is the one to keep.
      return utimes(path, seen, seen).then(() => path, () => null);
    },
    async keep(file, sha256) {
      const size = (await stat(file)).size;
      if (size > o.maxBytes) {
        await rm(file, { force: true });
        return;
      }
      const path = pathOf(sha256);
      // A shared folder may sit on another file system than the agent's transfers/.
      await rename(file, path).catch(async (error: NodeJS.ErrnoException) => {
        if (error.code !== 'EXDEV') throw error;
        await copyFile(file, `${path}.${process.pid}.part`);
        await rename(`${path}.${process.pid}.part`, path);
        await rm(file, { force: true });
      });
      const seen = new Date(now());
      await utimes(path, seen, seen);
      await trim(o.dir, o.maxBytes, path);
    },
    forget: (sha256) => rm(pathOf(sha256), { force: true }),
  };
}

/** Removes the least recently used copies until the total is at most `maxBytes`; `newest` goes last. */
async function trim(dir: string, maxBytes: number, newest: string): Promise<void> {
  const copies: Array<{ path: string; size: number; mtimeMs: number }> = [];
  for (const name of await readdir(dir)) {
    if (!name.endsWith('.tgz')) continue;
    const path = join(dir, name);
    const s = await stat(path).catch(() => null);
    if (s) copies.push({ path, size: s.size, mtimeMs: path === newest ? Infinity : s.mtimeMs });
  }
  let total = copies.reduce((sum, c) => sum + c.size, 0);
  for (const copy of copies.sort((a, b) => a.mtimeMs - b.mtimeMs)) {
    if (total <= maxBytes) return;
    // A job unpacking this copy keeps reading it: on Linux an open file outlives its name.
    await rm(copy.path, { force: true });
    total -= copy.size;
  }
}
