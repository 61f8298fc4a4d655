// The workspace of `kiln run`: the current folder's files as they are now, reused from job to job.
import { cp, rm } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import { cleanWorkTree } from '../git/clean.js';
import { looksLikeRepo, WORKSPACE_GIT } from '../git/git-dir.js';
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
 * Fills `dest` (absent, or what the previous job left) with the source's files. In a git
 * repository: a local clone at HEAD (history for `git log`, objects hard-linked, so it is
 * quick) — or, when `dest` is the previous job's, `git checkout --force` and the removal of
 * what git does not track — then the work tree's changes on top: edited, staged, deleted and
 * untracked files, but not ignored ones (node_modules, build output) — what you are about to
 * commit, as a server would check it out. Elsewhere: a copy of the folder without kiln's own
 * data folders and `exclude`.
 */
export async function prepareLocalWorkspace(source: LocalSource, dest: string, exclude: string[] = []): Promise<void> {
  if (source.sha === null) {
    await rm(dest, { recursive: true, force: true });
    const skip = new Set([...['.kiln', '.kiln-agent'].map((d) => join(source.dir, d)), ...exclude.map((d) => resolve(d))]);
    await cp(source.dir, dest, { recursive: true, verbatimSymlinks: true, filter: (src) => !skip.has(src) });
    return;
  }
  if (!(await reuse(dest, source.sha))) {
    await rm(dest, { recursive: true, force: true });
    await runGit(['clone', '--quiet', '--local', '--no-checkout', '--', source.dir, dest]);
    await runGit(['checkout', '--quiet', '--detach', source.sha], { cwd: dest });
  }
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

/** The previous job's workspace back at `sha`, as a fresh clone; false when it cannot be (then it is cloned again). */
async function reuse(dest: string, sha: string): Promise<boolean> {
  if (!(await looksLikeRepo(dest))) return false;
  const checkout = await runGit([...WORKSPACE_GIT, 'checkout', '--force', '--quiet', '--detach', sha], { cwd: dest, okCodes: [0, 1, 128] });
  if (checkout.code !== 0) return false;
  try {
    await cleanWorkTree(dest, sha.length === 64 ? 32 : 20);
    return true;
  } catch {
    return (await runGit([...WORKSPACE_GIT, 'clean', '-ffdxq'], { cwd: dest, okCodes: [0, 1, 128] })).code === 0;
  }
}
