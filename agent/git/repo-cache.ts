// The per-repo bare caches (`<cacheDir>/<repo>.git`) that workspaces are cloned and fetched from, shared by the agents of a host.
import { mkdir, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { GitError, runGit } from './run-git.js';
import { withHostLock } from './host-lock.js';
import { commitNotFound, explainFetchError, NO_SUCH_OBJECT, serverAuthEnv } from './server-fetch.js';

export interface RepoCacheOptions {
  /** Holds one bare cache per repo; several agent processes may share it (see host-lock.ts). */
  cacheDir: string;
  /** The server's base URL without a trailing slash. */
  serverUrl: string;
  token: string;
  fetchTimeoutMs: number;
}

/** Full-history caches only: shallow and partial checkouts fetch straight into their workspaces, so no cache is ever made shallow. */
export interface RepoCache {
  path(repo: string): string;
  /** Fetches from the server into the cache when it lacks `sha`; resolves true when it fetched. */
  ensure(repo: string, sha: string): Promise<boolean>;
  /** `ensure`, then a local clone (hard links where it can) into the new folder `dest`; resolves with ensure's answer. */
  cloneInto(repo: string, sha: string, dest: string): Promise<boolean>;
}

const REFSPECS = ['+refs/heads/*:refs/heads/*', '+refs/tags/*:refs/tags/*'];

export function createRepoCache(o: RepoCacheOptions): RepoCache {
  // Why two locks: the in-process queue keeps one agent's slots from polling the lock folder
  // against each other; the lock folder serializes agents sharing the cache. Fetches into one
  // cache race on ref locks, and a clone linking the cache's object files must not see a pack
  // that is still being written.
  const tails = new Map<string, Promise<unknown>>();
  const locked = <T>(cache: string, task: () => Promise<T>): Promise<T> => {
    const result = (tails.get(cache) ?? Promise.resolve())
      .then(() => mkdir(o.cacheDir, { recursive: true }))
      .then(() => withHostLock(`${cache}.lock`, task, { waitMs: o.fetchTimeoutMs + 60_000 }));
    const tail = result.catch(() => {});
    tails.set(cache, tail);
    void tail.then(() => { if (tails.get(cache) === tail) tails.delete(cache); });
    return result;
  };
  const path = (repo: string) => join(o.cacheDir, `${repo}.git`);
  const hasCommit = async (cache: string, sha: string) =>
    (await runGit([`--git-dir=${cache}`, 'cat-file', '-e', `${sha}^{commit}`], { okCodes: [0, 1, 128] })).code === 0;

  async function fetchCommit(repo: string, sha: string): Promise<boolean> {
    const cache = path(repo);
    const url = `${o.serverUrl}/git/${repo}.git`;
    if (!(await stat(join(cache, 'HEAD')).catch(() => null))) {
      await runGit(['init', '--bare', '--quiet', cache]);
    } else if (await hasCommit(cache, sha)) return false;
    const fetch = (what: string[]) => runGit(
      ['-c', 'gc.autoDetach=false', '-c', 'maintenance.autoDetach=false', `--git-dir=${cache}`, 'fetch', '--quiet', '--no-tags', '--prune', '--', url, ...what],
      { env: serverAuthEnv(url, o.token, process.env), timeoutMs: o.fetchTimeoutMs },
    );
    // All branches and tags first: later fetches negotiate from them and stay small.
    await fetch(REFSPECS).catch((e: unknown) => { throw explainFetchError(e, o.serverUrl, repo); });
    if (await hasCommit(cache, sha)) return true;
    // A commit no branch has any more (force-pushed away) may still be on the server.
    await fetch([sha]).catch((e: unknown) => {
      if (!(e instanceof GitError && NO_SUCH_OBJECT.test(e.stderr))) throw explainFetchError(e, o.serverUrl, repo);
    });
    if (await hasCommit(cache, sha)) return true;
    throw commitNotFound(sha, repo);
  }

  return {
    path,
    ensure: (repo, sha) => locked(path(repo), () => fetchCommit(repo, sha)),
    cloneInto: (repo, sha, dest) => locked(path(repo), async () => {
      const fetched = await fetchCommit(repo, sha);
      // Hard links only within one file system: git does not fall back to copying (EXDEV) when
      // the cache is another mount, such as a docker pool's cache volume.
      await mkdir(dirname(dest), { recursive: true });
      const [from, to] = await Promise.all([stat(path(repo)), stat(dirname(dest))]);
      await runGit(['clone', '--local', ...(from.dev === to.dev ? [] : ['--no-hardlinks']), '--no-checkout', '--quiet', '--', path(repo), dest]);
      return fetched;
    }),
  };
}
