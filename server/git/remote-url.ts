// The repo URLs kiln accepts for remotes: https://, http:// and ssh:// URLs, and scp-style
// `user@host:path`. No file://, ext:: or local paths: a local repository is registered by path.
export const REMOTE_URL = /^(?:(?:https?|ssh):\/\/[^\s/]+\/\S*|[A-Za-z0-9._-]+@[A-Za-z0-9.-]+:[^\s/][^\s]*)$/;
export const REMOTE_URL_RULE = 'a repo url is https://, http://, ssh:// or user@host:path';

/** Whether a source someone typed (the dashboard's form, `kiln repo add`) means a remote rather than a folder. */
export const looksRemote = (source: string): boolean => /^[a-z][a-z0-9+.-]*:\/\//i.test(source) || /^[^/\s@]+@[^/\s:]+:/.test(source);

const FULL_NAME = /^[A-Za-z0-9._-]+\/[A-Za-z0-9._-]+$/;

/**
 * The clone URL of a fork on the same forge, from the repo's own URL: its path ends with the
 * target's full name (`team/web`, `.git` optional), which becomes the fork's (`sam/web`).
 * Null when the URL does not end so, or a name is not `owner/repo` (nothing else is ever fetched).
 */
export function forkCloneUrl(repoUrl: string, target: string, fork: string): string | null {
  if (!FULL_NAME.test(target) || !FULL_NAME.test(fork) || fork.split('/').some((p) => p === '.' || p === '..')) return null;
  const match = /^(.*[/:])([^/:]+\/[^/:]+?)(\.git)?\/?$/.exec(repoUrl);
  if (!match || match[2]!.toLowerCase() !== target.toLowerCase()) return null;
  return `${match[1]}${fork}${match[3] ?? ''}`;
}
