// Notices when a local repository's branches or tags change, by watching its git dir's refs.
import { isAbsolute, relative, sep } from 'node:path';
import { atRepo } from './read.js';
import { runGit } from './run-git.js';

/** One ref that a push created (before null), moved, or deleted (after null). */
export interface RefChange {
  ref: string;
  before: string | null;
  after: string | null;
}

export interface RefsWatcher {
  /** Stops watching; no callback starts afterwards. Safe to call twice. */
  close(): Promise<void>;
}

export interface WatchRefsOptions {
  /** Quiet time after the last file event before `onChange` runs (default 150 ms). */
  debounceMs?: number;
  /** Gets watcher errors and errors thrown by `onChange` (default: ignored). */
  onError?: (error: unknown) => void;
}

/**
 * Calls `onChange` (debounced) whenever a file under the repository's `refs/` or its
 * `packed-refs` changes: commits, new or deleted branches and tags, `git pack-refs`, fetches.
 * Works for normal and bare repositories and linked worktrees (it watches the common git dir,
 * never the work tree). Calls never overlap: events during a running callback cause one more
 * call after it. Resolves once the watcher is ready, so a change made after that is seen.
 */
export async function watchRefs(
  repoPath: string, onChange: () => void | Promise<void>, options: WatchRefsOptions = {},
): Promise<RefsWatcher> {
  const out = await runGit(['rev-parse', '--path-format=absolute', '--git-common-dir'], atRepo(repoPath));
  const gitDir = out.stdout.toString('utf8').trim();
  const debounceMs = options.debounceMs ?? 150;
  const onError = options.onError ?? (() => {});

  // Everything else in the git dir (objects/, logs/, index, *.lock) is ignored, which also
  // keeps chokidar from descending into objects/ at all.
  const ignored = (path: string): boolean => {
    const rel = isAbsolute(path) ? relative(gitDir, path) : path;
    if (rel === '' || rel === 'packed-refs') return false;
    if (rel.endsWith('.lock')) return true;
    return !(rel === 'refs' || rel.startsWith(`refs${sep}`));
  };
  // chokidar loads with the first local repo watched.
  const { watch } = await import('chokidar');
  const watcher = watch(gitDir, { ignoreInitial: true, ignored });

  let timer: NodeJS.Timeout | undefined;
  let running = false;
  let pending = false;
  let closed = false;
  const fire = async (): Promise<void> => {
    if (closed) return;
    if (running) { pending = true; return; }
    running = true;
    try { await onChange(); } catch (error) { onError(error); }
    running = false;
    if (pending) { pending = false; void fire(); }
  };
  watcher.on('all', () => {
    clearTimeout(timer);
    timer = setTimeout(() => void fire(), debounceMs);
  });
  watcher.on('error', onError);
  await new Promise<void>((resolveReady) => watcher.once('ready', () => resolveReady()));

  return {
    async close() {
      closed = true;
      clearTimeout(timer);
      await watcher.close();
    },
  };
}

/**
 * What changed between two ref maps (from listRefs): one entry per created, moved or deleted
 * ref, sorted by ref name. Unchanged refs are left out. Pure.
 */
export function diffRefs(before: ReadonlyMap<string, string>, after: ReadonlyMap<string, string>): RefChange[] {
  const changes: RefChange[] = [];
  for (const [ref, sha] of after) {
    const old = before.get(ref);
    if (old !== sha) changes.push({ ref, before: old ?? null, after: sha });
  }
  for (const [ref, sha] of before) {
    if (!after.has(ref)) changes.push({ ref, before: sha, after: null });
  }
  return changes.sort((a, b) => (a.ref < b.ref ? -1 : a.ref > b.ref ? 1 : 0));
}
