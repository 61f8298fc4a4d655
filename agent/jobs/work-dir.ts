// The agent's folder: workspaces/ (kept for reuse), git/ (the mirror cache, unless shared), spool/,
// cache-blobs/ (local copies of caches), transfers/ (archives on their way), trash/ (what cleans
// took out of workspaces, removed when no job runs: trash.ts), and a lock so two agents never share it.
import { access, constants, mkdir, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { KilnError } from '../../shared/errors.js';
import type { PlannedCheckout } from '../../shared/pipeline/types.js';

/** The agent's folders, all made; the lock is held until `release`. */
export interface WorkDir {
  root: string;
  workspaces: string;
  gitCache: string;
  spool: string;
  /** Local copies of cache archives, `<sha256>.tgz` (agent/files/local-cache.ts). */
  cacheBlobs: string;
  /** Archives being packed, uploaded or downloaded; emptied at start. */
  transfers: string;
  /** What cleans moved out of workspaces (agent/jobs/trash.ts); emptied by the agent, not by this. */
  trash: string;
  /** Why the shared git cache given could not be used (then gitCache is the agent's own), or null. */
  gitCacheProblem: string | null;
  /** Broken workspaces removed at start (paths). */
  removed: string[];
  /** Removes the lock; call once, at exit. */
  release(): Promise<void>;
}

/** `1`, `1-shallow`, `1-blobless`: a workspace's folder name under `workspaces/<repo>/`. */
const WORKSPACE = /^[1-9]\d*(-shallow)?(-blobless)?$/;

/**
 * The workspace of a repo's `n`th running job of a kind: `<workspaces>/<repo>/<n>[-shallow][-blobless]`.
 * Why the kind in the name: a shallow or partial workspace reused for a full checkout would not
 * equal a fresh clone.
 */
export function workspacePath(workspaces: string, repo: string, n: number, mode: PlannedCheckout): string {
  return join(workspaces, repo, `${n}${mode.depth !== null ? '-shallow' : ''}${mode.filter !== null ? '-blobless' : ''}`);
}

/**
 * Makes the folders, takes the lock (`agent.pid`) and removes from `workspaces/` what is not
 * a workspace a checkout can reuse (no `.git/HEAD`, an odd name, a crashed job's step files);
 * the rest is kept and cleaned at its next checkout. Why a lock: two agents in one folder
 * would replay each other's spool and check out into each other's workspaces. A lock whose
 * process is gone is taken over. `sharedGitCache`: a git cache folder shared with other
 * agents of the host (`--git-cache`); when it cannot be made or written, the agent's own is used.
 */
export async function openWorkDir(root: string, pid = process.pid, sharedGitCache: string | null = null): Promise<WorkDir> {
  const dir = {
    root, workspaces: join(root, 'workspaces'), gitCache: join(root, 'git'), spool: join(root, 'spool'),
    cacheBlobs: join(root, 'cache-blobs'), transfers: join(root, 'transfers'), trash: join(root, 'trash'),
  };
  try {
    await Promise.all([dir.workspaces, dir.spool, dir.cacheBlobs, dir.transfers].map((d) => mkdir(d, { recursive: true })));
  } catch (error) {
    throw new KilnError('bad_input', `--work-dir: cannot make ${root}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`);
  }
  let gitCacheProblem: string | null = null;
  if (sharedGitCache !== null) {
    try {
      await mkdir(sharedGitCache, { recursive: true });
      await access(sharedGitCache, constants.W_OK);
      dir.gitCache = sharedGitCache;
    } catch (error) {
      gitCacheProblem = `--git-cache ${sharedGitCache}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`;
    }
  }
  await mkdir(dir.gitCache, { recursive: true });
  const lock = join(root, 'agent.pid');
  const holder = Number.parseInt(await readFile(lock, 'utf8').catch(() => ''), 10);
  if (Number.isInteger(holder) && holder !== pid && isRunning(holder)) {
    throw new KilnError('conflict', `--work-dir ${root} is in use by another agent (pid ${holder}); give each agent its own --work-dir`);
  }
  await writeFile(lock, String(pid));
  const removed = await removeBrokenWorkspaces(dir.workspaces);
  // A crash leaves half-written archives behind; nothing reads them again.
  for (const name of await readdir(dir.transfers)) await rm(join(dir.transfers, name), { recursive: true, force: true });
  return {
    ...dir,
    gitCacheProblem,
    removed,
    async release() {
      const now = await readFile(lock, 'utf8').catch(() => '');
      if (now === String(pid)) await rm(lock, { force: true });
    },
  };
}

async function removeBrokenWorkspaces(workspaces: string): Promise<string[]> {
  const removed: string[] = [];
  const remove = async (path: string) => {
    removed.push(path);
    await rm(path, { recursive: true, force: true });
  };
  for (const repo of await readdir(workspaces, { withFileTypes: true })) {
    const repoDir = join(workspaces, repo.name);
    if (!repo.isDirectory()) {
      await remove(repoDir);
      continue;
    }
    let kept = 0;
    for (const name of await readdir(repoDir)) {
      const ws = join(repoDir, name);
      if (WORKSPACE.test(name) && (await stat(join(ws, '.git', 'HEAD')).catch(() => null))?.isFile()) kept++;
      else await remove(ws);
    }
    if (kept === 0) await rm(repoDir, { recursive: true, force: true });
  }
  return removed;
}

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
