// The agent's folder: workspaces/, git/ (the mirror cache), spool/, and a lock so two agents never share it.
import { mkdir, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { KilnError } from '../../shared/errors.js';

/** The agent's folders, all made; the lock is held until `release`. */
export interface WorkDir {
  root: string;
  workspaces: string;
  gitCache: string;
  spool: string;
  /** Removes the lock; call once, at exit. */
  release(): Promise<void>;
}

/**
 * Makes the folders, takes the lock (`agent.pid`) and removes workspaces a crashed agent
 * left. Why a lock: two agents in one folder would replay each other's spool, delete each
 * other's workspaces and race on the git cache. A lock whose process is gone is taken over.
 */
export async function openWorkDir(root: string, pid = process.pid): Promise<WorkDir> {
  const dir = { root, workspaces: join(root, 'workspaces'), gitCache: join(root, 'git'), spool: join(root, 'spool') };
  try {
    await Promise.all([dir.workspaces, dir.gitCache, dir.spool].map((d) => mkdir(d, { recursive: true })));
  } catch (error) {
    throw new KilnError('bad_input', `--work-dir: cannot make ${root}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`);
  }
  const lock = join(root, 'agent.pid');
  const holder = Number.parseInt(await readFile(lock, 'utf8').catch(() => ''), 10);
  if (Number.isInteger(holder) && holder !== pid && isRunning(holder)) {
    throw new KilnError('conflict', `--work-dir ${root} is in use by another agent (pid ${holder}); give each agent its own --work-dir`);
  }
  await writeFile(lock, String(pid));
  for (const name of await readdir(dir.workspaces)) await rm(join(dir.workspaces, name), { recursive: true, force: true });
  return {
    ...dir,
    async release() {
      const now = await readFile(lock, 'utf8').catch(() => '');
      if (now === String(pid)) await rm(lock, { force: true });
    },
  };
}

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
