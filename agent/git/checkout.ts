// Puts the exact commit of a job into a fresh workspace, through a per-repo cache fetched from the server.
import { mkdir, readdir, rm, stat } from 'node:fs/promises';
import { isAbsolute, join } from 'node:path';
import { KilnError, notFound } from '../../shared/errors.js';
import { GitError, lastLine, runGit } from './run-git.js';

export interface CheckoutOptions {
  /** Holds one bare cache per repo: `<cacheDir>/<repo>.git`. */
  cacheDir: string;
  /** The server's base URL (`http://ci:8080`); repos are read from `<serverUrl>/git/<repo>.git`. */
  serverUrl: string;
  /** The agent token, sent as `Authorization: Bearer` only to that URL; never in a URL or a message. */
  token: string;
  /** Kill a fetch that takes longer (default 10 minutes). */
  fetchTimeoutMs?: number;
}

export interface CheckoutRequest {
  repo: string;
  /** Full commit sha (40 or 64 hex digits). */
  sha: string;
  /** Absolute path of a folder that does not exist yet or is empty. */
  workspaceDir: string;
}

export interface CheckoutResult {
  sha: string;
  workspaceDir: string;
  /** False when the cache already had the commit (no network). */
  fetched: boolean;
}

/** Checks out commits into workspaces; one instance per agent process (it owns the per-repo locks). */
export interface Checkout {
  /**
   * Leaves `workspaceDir` as a repository with `sha` checked out (detached HEAD, full history,
   * `origin` = the server URL). Fetches into the cache only when it lacks the commit. Fails
   * with one clear line (`commit … not found on the server`, `401 from server …`) and then
   * removes the workspace folder.
   */
  checkout(request: CheckoutRequest): Promise<CheckoutResult>;
}

const REFSPECS = ['+refs/heads/*:refs/heads/*', '+refs/tags/*:refs/tags/*'];
// What git says when the server lacks (or will not give) the object asked for by sha.
const NO_SUCH_OBJECT = /not our ref|unadvertised object|couldn't find remote ref/i;

export function createCheckout(options: CheckoutOptions): Checkout {
  const base = options.serverUrl.replace(/\/+$/, '');
  if (!/^https?:\/\/[^/]/.test(base)) throw new KilnError('bad_input', `server URL must be http(s): ${base}`);
  const timeoutMs = options.fetchTimeoutMs ?? 600_000;
  // Why: fetches into one cache race on ref locks, and a clone copying the cache's object
  // files must not see a half-written pack. Keys are cache folders; a queue per key.
  const tails = new Map<string, Promise<unknown>>();
  const locked = <T>(key: string, task: () => Promise<T>): Promise<T> => {
    const result = (tails.get(key) ?? Promise.resolve()).then(task);
    const tail = result.catch(() => {});
    tails.set(key, tail);
    void tail.then(() => { if (tails.get(key) === tail) tails.delete(key); });
    return result;
  };

  // The header goes through GIT_CONFIG_* (not `-c` on the command line, where `ps` shows it),
  // scoped to the server's URL so a redirect elsewhere never receives it.
  const authEnv = (url: string): Record<string, string> => {
    const n = Number(process.env.GIT_CONFIG_COUNT ?? 0) || 0;
    return {
      GIT_CONFIG_COUNT: String(n + 3),
      [`GIT_CONFIG_KEY_${n}`]: `http.${url}.extraHeader`,
      [`GIT_CONFIG_VALUE_${n}`]: `Authorization: Bearer ${options.token}`,
      [`GIT_CONFIG_KEY_${n + 1}`]: 'http.followRedirects',
      [`GIT_CONFIG_VALUE_${n + 1}`]: 'false',
      [`GIT_CONFIG_KEY_${n + 2}`]: 'credential.helper',
      [`GIT_CONFIG_VALUE_${n + 2}`]: '',
    };
  };

  const hasCommit = async (gitDir: string, sha: string): Promise<boolean> =>
    (await runGit([`--git-dir=${gitDir}`, 'cat-file', '-e', `${sha}^{commit}`], { okCodes: [0, 1, 128] })).code === 0;

  async function fetchCommit(cache: string, url: string, repo: string, sha: string): Promise<boolean> {
    if (!(await stat(join(cache, 'HEAD')).catch(() => null))) await runGit(['init', '--bare', '--quiet', cache]);
    if (await hasCommit(cache, sha)) return false;
    const fetch = (what: string[]) => runGit(
      ['-c', 'gc.autoDetach=false', `--git-dir=${cache}`, 'fetch', '--quiet', '--no-tags', '--prune', '--', url, ...what],
      { env: authEnv(url), timeoutMs },
    );
    // All branches and tags first: later fetches negotiate from them and stay small.
    await fetch(REFSPECS).catch((e: unknown) => { throw explainFetchError(e, base, repo); });
    if (await hasCommit(cache, sha)) return true;
    // A commit no branch has any more (force-pushed away) may still be on the server.
    await fetch([sha]).catch((e: unknown) => {
      if (!(e instanceof GitError && NO_SUCH_OBJECT.test(e.stderr))) throw explainFetchError(e, base, repo);
    });
    if (await hasCommit(cache, sha)) return true;
    throw notFound(`commit ${sha} not found on the server (repo ${repo})`);
  }

  return {
    async checkout({ repo, sha: rawSha, workspaceDir }) {
      const sha = rawSha.toLowerCase();
      if (!/^[A-Za-z0-9._-]+$/.test(repo) || repo.includes('..')) throw new KilnError('bad_input', `invalid repo name ${JSON.stringify(repo)}`);
      if (!/^([0-9a-f]{40}|[0-9a-f]{64})$/.test(sha)) throw new KilnError('bad_input', `invalid commit sha ${JSON.stringify(rawSha)}`);
      if (!isAbsolute(workspaceDir)) throw new KilnError('bad_input', `workspace must be an absolute path: ${workspaceDir}`);
      const entries = await readdir(workspaceDir).catch((e: NodeJS.ErrnoException) => (e.code === 'ENOENT' ? [] : null));
      if (entries === null || entries.length > 0) throw new KilnError('conflict', `workspace ${workspaceDir} is not an empty folder`);

      await mkdir(options.cacheDir, { recursive: true });
      const cache = join(options.cacheDir, `${repo}.git`);
      const url = `${base}/git/${repo}.git`;
      try {
        const fetched = await locked(cache, async () => {
          const didFetch = await fetchCommit(cache, url, repo, sha);
          // A local clone hard-links the cache's object files: instant, and independent of
          // the cache afterwards (no alternates), so it also works when mounted in a container.
          await runGit(['clone', '--local', '--no-checkout', '--quiet', '--', cache, workspaceDir]);
          return didFetch;
        });
        await runGit(['checkout', '--quiet', '--detach', sha], { cwd: workspaceDir });
        await runGit(['remote', 'set-url', 'origin', url], { cwd: workspaceDir });
        return { sha, workspaceDir, fetched };
      } catch (error) {
        await rm(workspaceDir, { recursive: true, force: true });
        throw error;
      }
    },
  };
}

/** One line saying why a fetch from the server failed, without the token or the environment. */
export function explainFetchError(error: unknown, serverUrl: string, repo: string): KilnError {
  if (!(error instanceof GitError)) return new KilnError('internal', `fetch of repo ${repo} failed`, { cause: error });
  const s = error.stderr;
  const status = /returned error: (\d{3})/.exec(s)?.[1];
  if (status === '401' || /Authentication failed|could not read (Username|Password)/i.test(s)) {
    return new KilnError('unauthorized', `401 from server ${serverUrl}: the agent token was refused`);
  }
  if (status === '404' || /repository '[^']*' not found/.test(s)) return notFound(`404 from server ${serverUrl}: it has no repo ${repo}`);
  if (status === '403') return new KilnError('forbidden', `403 from server ${serverUrl} for repo ${repo}`);
  if (status) return new KilnError('internal', `${status} from server ${serverUrl} while fetching repo ${repo}`);
  return new KilnError('internal', `cannot fetch repo ${repo} from ${serverUrl}: ${lastLine(s) || error.message}`);
}
