// A sync's work: fetch a repo into its mirror and start a run for every branch head or tag
// that moved (with the files it changed, for `paths:` filters).
import { existsSync } from 'node:fs';
import type { Logger } from 'pino';
import type { MirrorSource, Mirrors } from '../git/mirror.js';
import { changedPaths } from '../git/read.js';
import type { RefTable } from '../git/ref-table.js';
import type { RefChange } from '../git/refs-watcher.js';
import { readHeadBranch } from '../git/source-refs.js';
import type { Repo } from '../store/index.js';
import type { RunStarter } from './run-starter.js';

export interface FetchRunsOptions {
  mirrors: Mirrors;
  starter: RunStarter;
  logger: Logger;
  mirrorDir(repo: Repo): string;
  source(repo: Repo): MirrorSource;
  /** The source's refs (ref → stored oid) when the repo was added, if not mirrored since (taken once). */
  baseline(repo: Repo): ReadonlyMap<string, string> | undefined;
  /** Called after a fetch that moved refs. */
  onChanged(repo: Repo): void;
  /** Called after every fetch, before any run starts, with the branch the source's HEAD names (which the mirror follows). */
  onHeadBranch(repo: Repo, branch: string): void;
}

/** Resolves once the runs are created; a run that cannot start is logged, the others go on. */
export function createFetchRuns(options: FetchRunsOptions): (repo: Repo) => Promise<void> {
  const { mirrors, starter, logger } = options;
  return async (repo) => {
    const dir = options.mirrorDir(repo);
    const existed = existsSync(dir);
    const baseline = options.baseline(repo);
    let changes = await mirrors.fetchMirror(options.source(repo), dir);
    const head = await mirrorHeadBranch(mirrors, dir);
    if (head !== null) options.onHeadBranch(repo, head);
    // A new mirror starts no run (registering starts none), except for what moved since the
    // repo was added.
    if (!existed) changes = baseline ? sinceBaseline(changes, baseline, await mirrors.view(dir).refs()) : [];
    for (const change of changes) {
      if (change.after === null) continue;
      const event = change.ref.startsWith('refs/tags/') ? 'tag' : 'push';
      try {
        const found = event === 'push' ? await changedPaths(dir, change.before, change.after, { ref: change.ref }) : null;
        // A branch made at a commit another branch has changed nothing; like GitLab, count its
        // files as unknown (so `paths:` filters pass) rather than skip its first run.
        const paths = found !== null && found.length === 0 && change.before === null ? null : found;
        await starter.startRun(repo, { event, ref: change.ref, sha: change.after, changedPaths: paths });
      } catch (error) {
        logger.error({ err: error, repo: repo.name, ref: change.ref }, 'could not start a run');
      }
    }
    if (changes.length > 0) options.onChanged(repo);
  };
}

/**
 * The default branch: the source's HEAD branch (a remote's too), which the mirror's HEAD
 * follows at every fetch. Null when the mirror has no such branch (a source with a detached
 * HEAD leaves the mirror's HEAD at git's own default).
 */
export async function mirrorHeadBranch(mirrors: Mirrors, dir: string): Promise<string | null> {
  const head = await readHeadBranch(dir);
  return head !== null && (await mirrors.view(dir).refs()).has(`refs/heads/${head}`) ? head : null;
}

/** The changes of a first fetch that differ from `baseline` (ref → stored oid), each moved from where the baseline had it. */
function sinceBaseline(changes: RefChange[], baseline: ReadonlyMap<string, string>, table: RefTable): RefChange[] {
  return changes
    .filter((c) => baseline.get(c.ref) !== table.get(c.ref)?.oid)
    .map((c) => (c.ref.startsWith('refs/heads/') && baseline.has(c.ref) ? { ...c, before: baseline.get(c.ref)! } : c));
}
