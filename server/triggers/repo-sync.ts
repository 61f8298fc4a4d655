// One sync in flight per repo, shared by everyone who asks meanwhile, and the cheap question
// the trigger path asks first: is the mirror already current? (then no sync, no git at all).
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Mirrors } from '../git/mirror.js';
import { sameRefs } from '../git/ref-table.js';
import { findGitDirs, readSourceRefs, type GitDirs } from '../git/source-refs.js';
import type { Repo } from '../store/index.js';

export interface RepoSyncOptions {
  mirrors: Mirrors;
  mirrorDir(repo: Repo): string;
  /** The sync itself: fetch into the mirror and start the runs of what moved. */
  fetch(repo: Repo): Promise<void>;
  /** A remote repo fetched less than this long ago counts as current (default 2 s). */
  remoteFreshMs?: number;
  now?: () => number;
}

export interface RepoSync {
  /**
   * Runs `fetch` for the repo. Why callers that arrive while one runs wait for one more
   * after it, shared by all of them: the running one may have read the source before their
   * commit existed. So a caller's sync always starts after it asked, and at most two run per repo.
   */
  sync(repo: Repo): Promise<void>;
  /**
   * Resolves once the mirror has what the source had when this was called (and `sha`, if
   * given), syncing only when needed:
   * - a `sha` the mirror already has needs nothing newer;
   * - a local repo: its ref files (read without git, one read shared by the callers of one
   *   moment) are compared with the mirror's ref table; a sync runs only when they differ, so
   *   `git commit && kiln trigger` builds the new commit;
   * - a remote repo cannot be asked cheaply: a sync that finished less than `remoteFreshMs`
   *   ago counts as current, otherwise the caller joins the shared sync.
   * A mirror that does not exist yet is made by a first sync.
   */
  ensureCurrent(repo: Repo, wanted?: { sha?: string }): Promise<void>;
}

interface Slot {
  running: Promise<void> | null;
  queued: Promise<void> | null;
  finishedAt: number;
  dirs?: GitDirs;
  /** The source read under way, and the one after it that callers arriving now share. */
  reading: Promise<Map<string, string> | null> | null;
  nextRead: Promise<Map<string, string> | null> | null;
}

export function createRepoSync(options: RepoSyncOptions): RepoSync {
  const { mirrors } = options;
  const now = options.now ?? Date.now;
  const freshMs = options.remoteFreshMs ?? 2000;
  const slots = new Map<number, Slot>();
  const slotOf = (repo: Repo): Slot => {
    let slot = slots.get(repo.id);
    if (!slot) slots.set(repo.id, (slot = { running: null, queued: null, finishedAt: 0, reading: null, nextRead: null }));
    return slot;
  };

  const run = (slot: Slot, repo: Repo): Promise<void> => {
    slot.running = options.fetch(repo).finally(() => {
      slot.running = null;
      slot.finishedAt = now();
    });
    return slot.running;
  };

  const sync = (repo: Repo): Promise<void> => {
    const slot = slotOf(repo);
    if (slot.queued) return slot.queued;
    if (!slot.running) return run(slot, repo);
    slot.queued = slot.running.catch(() => {}).then(() => {
      slot.queued = null;
      return run(slot, repo);
    });
    return slot.queued;
  };

  // Found once per repo; not found (the repository is gone, say) is asked again next time.
  const gitDirs = async (slot: Slot, path: string): Promise<GitDirs | null> => {
    slot.dirs ??= await findGitDirs(path) ?? undefined;
    return slot.dirs ?? null;
  };

  // Why a caller waits for the next read rather than joining one under way: every caller that
  // joins a read arrived before it began, so the read sees each caller's commits. Reads of one
  // repo run one after the other, so a burst of triggers costs a few reads, not one each.
  const sourceRefs = (slot: Slot, path: string): Promise<Map<string, string> | null> => {
    if (slot.nextRead) return slot.nextRead;
    const next = (slot.reading ?? Promise.resolve(null)).catch(() => null)
      .then(() => new Promise<void>((go) => setImmediate(go)))
      .then(() => {
        slot.nextRead = null;
        const reading = gitDirs(slot, path).then((dirs) => (dirs ? readSourceRefs(dirs.commonDir) : null));
        slot.reading = reading;
        void reading.finally(() => {
          if (slot.reading === reading) slot.reading = null;
        }).catch(() => {});
        return reading;
      });
    slot.nextRead = next;
    return next;
  };

  return {
    sync,
    async ensureCurrent(repo, wanted = {}) {
      const view = mirrors.view(resolve(options.mirrorDir(repo)));
      if (!view.hasRefs() && !existsSync(options.mirrorDir(repo))) await sync(repo); // the first sync makes it
      if (wanted.sha && (await view.findCommit(wanted.sha).catch(() => null))) return;
      const slot = slotOf(repo);
      if (repo.path !== null) {
        const [source, table] = await Promise.all([sourceRefs(slot, repo.path), view.refs()]);
        if (source && sameRefs(source, table)) return;
        // A sync under way (the watcher's, say) may bring exactly what the source had after this
        // caller arrived: then it needs no sync of its own.
        if (source && slot.running) {
          await slot.running.catch(() => {});
          if (sameRefs(source, await view.refs())) return;
        }
      } else if (!slot.running && !slot.queued && slot.finishedAt > 0 && now() - slot.finishedAt < freshMs) {
        return;
      }
      await sync(repo);
    },
  };
}
