// Deferred removal, as Jenkins' workspace cleanup does it ("deferred wipeout"): what a checkout
// cleans out of a reused workspace (the last job's node_modules, build output, restored caches)
// is moved aside at once, a rename into `<work-dir>/trash/`, and removed when no job runs.
// Why: removing thousands of files is slow where deletes are (ext4 with `discard`, most VM
// disks), and the file system stays slow for a while after: a cache restored right after the
// last job's files were removed took twice as long as one into a fresh workspace
// (scripts/bench/cache-npm.ts). The job's checkout and cache restore no longer wait for it.
//
// What the trash holds is never seen by a job (it is outside every workspace), and a start
// empties what a stopped agent left there.
import { lstat, mkdir, readdir, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from 'pino';

export interface Trash {
  /**
   * Takes `path` out of its place: moved into the trash, or removed where it is when it cannot
   * be moved (another file system, a permission). Resolves once `path` no longer exists.
   */
  put(path: string): Promise<void>;
  /**
   * Removes what the trash holds, unless `busy()` says a job runs and the trash holds fewer than
   * MAX_HELD moves (then the next call does). Never rejects; calls made while one runs share it.
   */
  empty(): Promise<void>;
}

/** Past this many moves held, the trash is emptied even while jobs run: its disk use stays bounded. */
const MAX_HELD = 16;

export function createTrash(dir: string, o: { busy(): boolean; logger: Logger }): Trash {
  let made: Promise<unknown> | null = null;
  let counter = 0;
  let held = 0;
  let emptying: Promise<void> | null = null;
  const stamp = Date.now().toString(36);

  const removeAll = async () => {
    const names = await readdir(dir).catch(() => [] as string[]);
    held = 0;
    for (const name of names) {
      await rm(join(dir, name), { recursive: true, force: true }).catch((err: unknown) => o.logger.warn({ err, path: join(dir, name) }, 'cannot empty the trash'));
    }
  };

  return {
    async put(path) {
      made ??= mkdir(dir, { recursive: true });
      const aside = join(dir, `${stamp}-${++counter}`);
      try {
        await made;
        await rename(path, aside);
        held++;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT' && !(await exists(path))) return;
        await rm(path, { recursive: true, force: true });
      }
    },
    empty() {
      if (emptying) return emptying;
      if (o.busy() && held < MAX_HELD) return Promise.resolve();
      emptying = removeAll().finally(() => {
        emptying = null;
      });
      return emptying;
    },
  };
}

function exists(path: string): Promise<boolean> {
  return lstat(path).then(() => true, () => false);
}
