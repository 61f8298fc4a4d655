// Superseded runs (GitLab's "auto-cancel redundant pipelines"): which older runs a new run
// makes pointless. The job queue cancels them through its cancel path, in the commit that
// creates the new run.
import type { Run, Store } from '../store/index.js';

/**
 * What a run builds, as far as superseding goes: a new run cancels the older open runs of its
 * repo with the same key. Null: the run supersedes nothing and is never superseded (tags,
 * cron, manual and API runs). One pipeline per repo, so the repo and the key say "same
 * pipeline". A pull request keys on its number (`pr 12`): a new push to it cancels that pull
 * request's older runs only, never a push run of a branch with the same name (a fork's).
 */
export function supersedeKey(run: Pick<Run, 'event' | 'branch' | 'pullRequest'>): string | null {
  switch (run.event) {
    case 'push':
      return run.branch === null ? null : `push ${run.branch}`;
    case 'pull_request':
      return run.pullRequest === null ? null : `pr ${run.pullRequest.number}`;
    case 'tag':
    case 'cron':
    case 'manual':
    case 'api':
      return null;
  }
}

/**
 * The open runs of `run`'s repo that it supersedes, oldest first: none when the repo has
 * `cancel_superseded` off, for a push to the repo's default branch (every commit there is
 * built), for a re-run (it builds an older commit again on purpose), or for a run whose
 * pipeline did not validate (the older run is left to build something).
 */
export function supersededBy(store: Store, run: Run): Run[] {
  const key = supersedeKey(run);
  if (key === null || run.rerunOf !== null || run.status === 'error') return [];
  const repo = store.repos.getRepo(run.repoId);
  if (!repo?.cancelSuperseded) return [];
  if (run.event === 'push' && run.branch === repo.defaultBranch) return [];
  return store.runs.listOpenRuns(run.repoId).filter((older) => older.number < run.number && supersedeKey(older) === key);
}
