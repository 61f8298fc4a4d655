// Which trust scope a run's caches belong to (files-contract.md, "Scopes"):
//
//   push/cron/manual/api on a protected branch  → ''             (read by every run of the repo)
//   another branch                              → 'branch:<name>'
//   a pull request                              → 'pr:<number>'   (never its branch: a fork may call it main)
//   a tag                                       → 'tag:<name>'
//
// A job saves into its own scope only and reads [own, '']: so nothing but a protected branch
// writes what everyone reads, and a pull request cannot replace or poison main's cache.
import { matchesGlobs } from '../../shared/glob.js';
import type { Repo, Run } from '../store/index.js';

/** The protected branches' globs: the configured ones, else the repo's default branch and release/*. */
export function protectedGlobs(repo: Pick<Repo, 'defaultBranch'>, protectedBranches: readonly string[] | null): readonly string[] {
  return protectedBranches ?? [repo.defaultBranch, 'release/*'];
}

export function cacheScope(
  run: Pick<Run, 'id' | 'event' | 'branch' | 'tag' | 'pullRequest'>,
  repo: Pick<Repo, 'defaultBranch'>,
  protectedBranches: readonly string[] | null,
): string {
  // The pull request first: its run carries the source branch, which a fork names at will.
  if (run.pullRequest) return `pr:${run.pullRequest.number}`;
  // A pull-request run without its facts (not made by kiln's trigger) shares with no one.
  if (run.event === 'pull_request') return `run:${run.id}`;
  if (run.tag !== null) return `tag:${run.tag}`;
  if (run.branch === null) return `run:${run.id}`; // a bare commit: no branch to trust or share with
  const globs = protectedGlobs(repo, protectedBranches);
  // An empty list protects nothing (matchesGlobs would take it as "any").
  return globs.length > 0 && matchesGlobs(run.branch, globs) ? '' : `branch:${run.branch}`;
}

/** The scopes a job of this scope reads, in order: its own, then the protected one. */
export function visibleScopes(own: string): string[] {
  return own === '' ? [''] : [own, ''];
}
