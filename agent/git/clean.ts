// `git clean -ffdx` in Node: removes every file and folder of a work tree that its index does not track.
import { readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { readIndexPaths, type ParsedIndex } from './git-index.js';

/**
 * Removes untracked and ignored files, untracked folders (nested repositories too) and
 * anything in the way of a tracked path's folder, after a `git checkout --force` wrote the
 * index: what is left is exactly what the index tracks. `.git` at the top and the folders
 * of submodules (gitlinks) are kept whole. Symbolic links are removed, never followed.
 * Throws IndexUnreadable when the index cannot be trusted (nothing was removed then).
 * Resolves with the index it cleaned by.
 */
export async function cleanWorkTree(workTree: string, hashBytes: 20 | 32, remove: Remove = removeNow): Promise<ParsedIndex> {
  const index = await readIndexPaths(join(workTree, '.git', 'index'), hashBytes);
  await removeUntracked(workTree, index, remove);
  return index;
}

/** Takes a path (file, link or whole folder) out of the work tree: at once, or into a trash (agent/jobs/trash.ts). */
export type Remove = (path: string) => Promise<void>;

export const removeNow: Remove = (path) => rm(path, { recursive: true, force: true });

/**
 * cleanWorkTree with an index already read. `inTheWay`: something stood where a tracked path
 * or one of its folders belongs (a symbolic link or file for a folder, a folder for a file).
 */
export async function removeUntracked(workTree: string, { paths, gitlinks }: Pick<ParsedIndex, 'paths' | 'gitlinks'>, remove: Remove = removeNow): Promise<{ removed: number; inTheWay: boolean }> {
  const files = new Set(paths);
  const keepWhole = new Set(gitlinks);
  const folders = new Set<string>();
  for (const path of paths) {
    for (let slash = path.indexOf('/'); slash >= 0; slash = path.indexOf('/', slash + 1)) folders.add(path.slice(0, slash));
  }
  let removed = 0;
  let inTheWay = false;
  const walk = async (rel: string): Promise<void> => {
    const entries = await readdir(rel === '' ? workTree : join(workTree, rel), { withFileTypes: true });
    await Promise.all(entries.map(async (entry) => {
      const path = rel === '' ? entry.name : `${rel}/${entry.name}`;
      if (path === '.git' || keepWhole.has(path)) return;
      if (entry.isDirectory() && folders.has(path)) return walk(path);
      if (!entry.isDirectory() && files.has(path)) return;
      removed++;
      if (folders.has(path) || files.has(path)) inTheWay = true;
      await remove(join(workTree, path));
    }));
  };
  await walk('');
  return { removed, inTheWay };
}
