// Workspaces for `kiln run`: the current folder's files as they are now, in a fresh folder per job.
import { cp, rm } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import { runGit } from '../git/run-git.js';

export interface LocalSource {
  dir: string;
  name: string;
  /** HEAD, when the folder is the top of a git repository with at least one commit. */
  sha: string | null;
  branch: string | null;
}

/** What the folder is: a git work tree (HEAD, branch) or plain files. */
export async function describeSource(dir: string): Promise<LocalSource> {
  const git = async (...args: string[]) => (await runGit(args, { cwd: dir, okCodes: [0, 1, 128] }).catch(() => null));
  const top = await git('rev-parse', '--show-toplevel');
  const sha = top?.code === 0 && resolve(top.stdout.trim()) === resolve(dir) ? await git('rev-parse', '--verify', '--quiet', 'HEAD^{commit}') : null;
  if (!sha || sha.code !== 0) return { dir, name: basename(dir), sha: null, branch: null };
  const branch = await git('symbolic-ref', '--quiet', '--short', 'HEAD');
  return { dir, name: basename(dir), sha: sha.stdout.trim(), branch: branch?.code === 0 ? branch.stdout.trim() : null };
}

/**
 * Fills `dest` (absent or empty) with the source's files. In a git repository: a local clone
 * at HEAD (history for `git log`, objects hard-linked, so it is quick), then the work tree's
 * changes on top: edited, staged, deleted and untracked files, but not ignored ones
 * (node_modules, build output) — what you are about to commit, as a server would check it
 * out. Elsewhere: a copy of the folder without kiln's own data folders and `exclude`.
 */
export async function prepareLocalWorkspace(source: LocalSource, dest: string, exclude: string[] = []): Promise<void> {
  if (source.sha === null) {
    const skip = new Set([...['.kiln', '.kiln-agent'].map((d) => join(source.dir, d)), ...exclude.map((d) => resolve(d))]);
    await cp(source.dir, dest, { recursive: true, verbatimSymlinks: true, filter: (src) => !skip.has(src) });
    return;
  }
  await runGit(['clone', '--quiet', '--local', '--no-checkout', '--', source.dir, dest]);
  await runGit(['checkout', '--quiet', '--detach', source.sha], { cwd: dest });
  const changed = (await runGit(['diff', '--name-only', '-z', '--no-renames', 'HEAD'], { cwd: source.dir })).stdout;
  const untracked = (await runGit(['ls-files', '-z', '--others', '--exclude-standard'], { cwd: source.dir })).stdout;
  const paths = new Set(`${changed}${untracked}`.split('\0').filter(Boolean));
  for (const path of paths) {
    const to = join(dest, path);
    await rm(to, { recursive: true, force: true });
    await cp(join(source.dir, path), to, { recursive: true, verbatimSymlinks: true }).catch((error: NodeJS.ErrnoException) => {
      if (error.code !== 'ENOENT') throw error; // ENOENT: deleted in the work tree
    });
  }
}
