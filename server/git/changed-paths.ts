// Which files a push changed, for `paths:` filters: a tree diff, or the new commits of a new branch.
import { assertSha, runGit, splitNul } from './run-git.js';

const ZERO = /^0+$/;

export interface ChangedPathsOptions {
  /** The ref that moved (`refs/heads/feature`); lets a new branch count only commits no other branch has. */
  ref?: string;
}

/**
 * Sorted, de-duplicated paths changed between `beforeSha` and `afterSha` (renames count as
 * both paths). With no usable `beforeSha` (null, all zeros, or unknown to the mirror):
 * - with `options.ref`: the files touched by the commits reachable from `afterSha` and from no
 *   other branch (empty when the branch was created at a commit another branch has);
 * - without it: the head commit's diff against its first parent; a root commit lists all files.
 * A deletion (`afterSha` all zeros) changes nothing: [].
 */
export async function changedPaths(
  mirrorDir: string, beforeSha: string | null, afterSha: string, options: ChangedPathsOptions = {},
): Promise<string[]> {
  if (ZERO.test(afterSha)) return [];
  assertSha(afterSha);
  const git = (args: string[], okCodes?: number[]) => runGit([`--git-dir=${mirrorDir}`, ...args], { okCodes });
  const diff = ['--no-renames', '--no-ext-diff', '--name-only', '-z'];

  if (beforeSha !== null && !ZERO.test(beforeSha)) {
    assertSha(beforeSha);
    // One process: a `before` the mirror does not have (a force push's old head) fails with 128.
    const changed = await git(['diff', ...diff, `${beforeSha}^{commit}`, afterSha, '--'], [0, 128]);
    if (changed.code === 0) return unique(splitNul(changed.stdout));
  }
  if (options.ref?.startsWith('refs/heads/')) {
    // Commits only this branch has. `--exclude` applies to the `--branches` that follows it.
    const branch = options.ref.slice('refs/heads/'.length);
    const log = await git(['log', '--format=', ...diff, afterSha, '--not', `--exclude=${branch}`, '--branches', '--']);
    return unique(splitNul(log.stdout));
  }
  const parents = (await git(['rev-list', '--parents', '-n', '1', afterSha, '--'])).stdout.toString('utf8').trim().split(' ');
  const firstParent = parents[1];
  const out = firstParent
    ? await git(['diff', ...diff, firstParent, afterSha, '--'])
    : await git(['ls-tree', '-r', '--name-only', '-z', afterSha]);
  return unique(splitNul(out.stdout));
}

function unique(paths: string[]): string[] {
  return [...new Set(paths)].sort();
}

/**
 * What a pull request changes: the paths changed between the merge base of `targetRef` and
 * `headSha`, and `headSha` (`git diff target...head`, as forges show it). Null when the mirror
 * has no `targetRef` (then `paths:` filters pass, as for any unknown change).
 */
export async function pullRequestPaths(mirrorDir: string, targetRef: string, headSha: string): Promise<string[] | null> {
  assertSha(headSha);
  const git = (args: string[], okCodes?: number[]) => runGit([`--git-dir=${mirrorDir}`, ...args], { okCodes });
  const target = await git(['rev-parse', '--verify', '--quiet', '--end-of-options', `${targetRef}^{commit}`], [0, 1, 128]);
  if (target.code !== 0) return null;
  const out = await git(['diff', '--no-renames', '--no-ext-diff', '--name-only', '-z', `${target.stdout.toString('utf8').trim()}...${headSha}`, '--'], [0, 128]);
  return out.code === 0 ? unique(splitNul(out.stdout)) : null; // 128: no merge base (unrelated histories)
}
