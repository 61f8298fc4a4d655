// Puts the exact commit of a job into the agent slot's workspace: reused and cleaned (GitLab's `fetch` strategy), or cloned fresh.
//
//   reuse:  at the commit kiln left it at, tracked files untouched (unchanged.ts) ─▶ clean in Node ─▶ done (no git process)
//              │ not provably
//              ▼
//           git checkout --force --detach SHA ──ok──▶ clean in Node (index) ─▶ done (one git process)
//              │ commit missing                 ▲
//              └─▶ fetch from the cache (the cache from the server if it lacks it) ─▶ checkout again
//   fresh (first time, `checkout: fresh`, or a broken workspace): remove ─▶ clone from the cache ─▶ checkout
//   shallow/partial (`depth`, `filter`): as above, but fetched from the server straight into the workspace
import { mkdir, readdir, rename, rm, stat } from 'node:fs/promises';
import { isAbsolute, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { KilnError } from '../../shared/errors.js';
import { DEFAULT_CHECKOUT, type PlannedCheckout } from '../../shared/pipeline/types.js';
import { cleanWorkTree, removeNow, type Remove } from './clean.js';
import { IndexUnreadable, readIndexPaths, type ParsedIndex } from './git-index.js';
import { looksLikeRepo, resetGitDir, WORKSPACE_GIT, type GitDirSettings } from './git-dir.js';
import { createRepoCache } from './repo-cache.js';
import { GitError, lastLine, runGit } from './run-git.js';
import { commitNotFound, explainFetchError, NO_SUCH_OBJECT, serverAuthEnv } from './server-fetch.js';
import { reuseUnchanged, stampOf, type CheckoutStamp } from './unchanged.js';

export interface CheckoutOptions {
  /** Holds one bare cache per repo: `<cacheDir>/<repo>.git`; agents of one host may share it. */
  cacheDir: string;
  /** The server's base URL (`http://ci:8080`); repos are read from `<serverUrl>/git/<repo>.git`. */
  serverUrl: string;
  /** The agent token, sent as `Authorization: Bearer` only to that URL; never in a URL or a message. */
  token: string;
  /** Kill a fetch that takes longer (default 10 minutes). */
  fetchTimeoutMs?: number;
  /** Milliseconds, for `durationMs` (default performance.now). */
  now?: () => number;
  /** How a clean takes out what the last job left: default at once; the agent's trash defers it (agent/jobs/trash.ts). */
  remove?: Remove;
}

export interface CheckoutRequest {
  repo: string;
  /** Full commit sha (40 or 64 hex digits). */
  sha: string;
  /** Absolute path of the workspace: absent, or one this checkout made before (it is reused). */
  workspaceDir: string;
  /** The job's `checkout:` (default: reuse, full history). */
  mode?: PlannedCheckout;
  /** System lines for the job log (a broken workspace, a fallback). */
  log?(text: string): void;
}

export interface CheckoutResult {
  sha: string;
  workspaceDir: string;
  /** True when objects came from the server (into the cache, or into a shallow/partial workspace). */
  fetched: boolean;
  /** True when the workspace was reused; false for a fresh clone. */
  reused: boolean;
  durationMs: number;
}

/** Checks out commits into workspaces; one instance per agent process. */
export interface Checkout {
  /**
   * Leaves `workspaceDir` equal to a fresh clone of `sha` (detached HEAD, `origin` = the server
   * URL; full history unless shallow): untracked, ignored and changed files of the last job are
   * gone. A workspace git cannot check out in is removed and cloned again (said in `log`).
   * Fails with one clear line (`commit … not found on the server`, `401 from server …`); a
   * workspace made by a failed fresh clone is removed, a reused one is kept.
   */
  checkout(request: CheckoutRequest): Promise<CheckoutResult>;
}

// What `git checkout` says when the commit is not in the repository.
const MISSING = /reference is not a tree|unable to read tree|not a valid object name|invalid reference|did not match any/i;

/** A workspace git cannot work in; it is cloned again. */
class Broken extends Error {}

export function createCheckout(options: CheckoutOptions): Checkout {
  const base = options.serverUrl.replace(/\/+$/, '');
  if (!/^https?:\/\/[^/]/.test(base)) throw new KilnError('bad_input', `server URL must be http(s): ${base}`);
  const timeoutMs = options.fetchTimeoutMs ?? 600_000;
  const now = options.now ?? (() => performance.now());
  const remove = options.remove ?? removeNow;
  const cache = createRepoCache({ cacheDir: options.cacheDir, serverUrl: base, token: options.token, fetchTimeoutMs: timeoutMs });
  // Why in memory: a workspace's own files say nothing a job could not have written. A stamp
  // is taken when a checkout begins and put back when it succeeds.
  const stamps = new Map<string, CheckoutStamp>();

  interface Job { repo: string; sha: string; ws: string; url: string; settings: GitDirSettings; direct: boolean; log(text: string): void }

  const gitCheckout = (j: Job) => runGit([...WORKSPACE_GIT, 'checkout', '--force', '--quiet', '--detach', j.sha], {
    cwd: j.ws, okCodes: [0, 1, 128], env: j.direct ? serverAuthEnv(j.url, options.token, process.env) : {}, timeoutMs,
  });

  /** Shallow or partial: from the server into the workspace (its `origin`). */
  async function fetchDirect(j: Job): Promise<true> {
    const { depth, filter } = j.settings.mode;
    const args = [...WORKSPACE_GIT, 'fetch', '--quiet', '--no-tags', ...(depth ? [`--depth=${depth}`] : []), ...(filter ? [`--filter=${filter}`] : []), 'origin', j.sha];
    const r = await runGit(args, { cwd: j.ws, env: serverAuthEnv(j.url, options.token, process.env), timeoutMs, okCodes: [0, 1, 128] });
    if (r.code === 0) return true;
    if (NO_SUCH_OBJECT.test(r.stderr)) throw commitNotFound(j.sha, j.repo);
    throw explainFetchError(new GitError('git fetch failed', r.code, r.stderr), base, j.repo);
  }

  /** Full history: from the agent's cache, which fetches from the server only when it lacks the commit. */
  async function fetchFromCache(j: Job): Promise<boolean> {
    const local = () => runGit([...WORKSPACE_GIT, 'fetch', '--quiet', '--no-tags', '--', cache.path(j.repo), j.sha], { cwd: j.ws, okCodes: [0, 1, 128], timeoutMs });
    let r = await local();
    if (r.code === 0) return false;
    if (!NO_SUCH_OBJECT.test(r.stderr) && !/not a git repository|does not appear to be a git/i.test(r.stderr)) throw new Broken(`fetch from the cache: ${lastLine(r.stderr)}`);
    const fetched = await cache.ensure(j.repo, j.sha);
    r = await local();
    if (r.code !== 0) throw new Broken(`fetch from the cache: ${lastLine(r.stderr)}`);
    return fetched;
  }

  /** Resolves with the index it cleaned by, or null when git clean did it. */
  async function clean(j: Job): Promise<ParsedIndex | null> {
    try {
      return await cleanWorkTree(j.ws, j.settings.sha256 ? 32 : 20, remove);
    } catch (error) {
      if (!(error instanceof IndexUnreadable)) throw new Broken(`cannot clean: ${(error as NodeJS.ErrnoException).code ?? String(error)}`);
      j.log(`kiln: cannot read the git index (${error.message}); cleaning with git clean`);
      const r = await runGit([...WORKSPACE_GIT, 'clean', '-ffdxq'], { cwd: j.ws, okCodes: [0, 1, 128] });
      if (r.code !== 0) throw new Broken(`git clean: ${lastLine(r.stderr)}`);
      return null;
    }
  }

  /** Resolves with whether it fetched and the index left; throws Broken when the workspace must be cloned again. */
  async function reuse(j: Job): Promise<[boolean, ParsedIndex | null]> {
    await resetGitDir(j.ws, j.settings).catch((e: NodeJS.ErrnoException) => { throw new Broken(`cannot write .git: ${e.code ?? String(e)}`); });
    // A job's own `git fetch --depth` would leave a full workspace with less history than a clone.
    if (j.settings.mode.depth === null && (await stat(join(j.ws, '.git', 'shallow')).catch(() => null))) throw new Broken('its history was made shallow');
    let r = await gitCheckout(j);
    let fetched = false;
    if (r.code !== 0 && MISSING.test(r.stderr)) {
      fetched = j.direct ? await fetchDirect(j) : await fetchFromCache(j);
      r = await gitCheckout(j);
    }
    if (r.code !== 0) throw new Broken(lastLine(r.stderr) || `git checkout exit ${r.code}`);
    return [fetched, await clean(j)];
  }

  async function fresh(j: Job): Promise<[boolean, ParsedIndex | null]> {
    let fetched: boolean;
    if (j.direct) {
      await mkdir(j.ws, { recursive: true });
      await runGit(['init', '--quiet', ...(j.settings.sha256 ? ['--object-format=sha256'] : []), j.ws]);
      await resetGitDir(j.ws, j.settings);
      fetched = await fetchDirect(j);
    } else {
      fetched = await cache.cloneInto(j.repo, j.sha, j.ws);
      await resetGitDir(j.ws, j.settings);
    }
    const r = await gitCheckout(j);
    if (r.code !== 0) throw new KilnError('internal', `git checkout failed: ${lastLine(r.stderr) || `exit ${r.code}`}`);
    return [fetched, await readIndexPaths(join(j.ws, '.git', 'index'), j.settings.sha256 ? 32 : 20).catch(() => null)];
  }

  return {
    async checkout({ repo, sha: rawSha, workspaceDir: ws, mode = DEFAULT_CHECKOUT, log = () => {} }) {
      const sha = rawSha.toLowerCase();
      if (!/^[A-Za-z0-9._-]+$/.test(repo) || repo.includes('..')) throw new KilnError('bad_input', `invalid repo name ${JSON.stringify(repo)}`);
      if (!/^([0-9a-f]{40}|[0-9a-f]{64})$/.test(sha)) throw new KilnError('bad_input', `invalid commit sha ${JSON.stringify(rawSha)}`);
      if (!isAbsolute(ws)) throw new KilnError('bad_input', `workspace must be an absolute path: ${ws}`);
      const started = now();
      const url = `${base}/git/${repo}.git`;
      const j: Job = { repo, sha, ws, url, settings: { url, sha256: sha.length === 64, mode }, direct: mode.depth !== null || mode.filter !== null, log };
      const stamp = stamps.get(ws);
      stamps.delete(ws);
      const done = ([fetched, index]: [boolean, ParsedIndex | null | 'unchanged'], reused: boolean): CheckoutResult => {
        const next = index === 'unchanged' ? stamp : index && stampOf(sha, mode, index);
        if (next) stamps.set(ws, next);
        return { sha, workspaceDir: ws, fetched, reused, durationMs: now() - started };
      };
      const unchanged = !mode.fresh && stamp?.sha === sha && stamp.mode.depth === mode.depth && stamp.mode.filter === mode.filter
        && (await reuseUnchanged(ws, stamp, j.settings, Date.now, remove).catch(() => false));
      if (unchanged) return done([false, 'unchanged'], true);
      if (!mode.fresh && (await looksLikeRepo(ws))) {
        try {
          return done(await reuse(j), true);
        } catch (error) {
          if (!(error instanceof Broken)) throw error;
          log(`kiln: the workspace is broken (${error.message}); removing it and cloning again`);
        }
      } else if (!mode.fresh && (await readdir(ws).catch(() => null)) !== null) {
        log('kiln: the workspace is broken (no .git); removing it and cloning again');
      }
      await removeWorkspace(ws);
      try {
        return done(await fresh(j), false);
      } catch (error) {
        await removeWorkspace(ws).catch(() => undefined);
        throw error;
      }
    },
  };
}

/**
 * Removes a workspace; when that fails (files a container's root made), moves it aside first
 * so that the path is free for the clone.
 */
async function removeWorkspace(ws: string): Promise<void> {
  try {
    await rm(ws, { recursive: true, force: true });
  } catch {
    const aside = `${ws}.broken-${Date.now().toString(36)}`;
    await rename(ws, aside);
    await rm(aside, { recursive: true, force: true }).catch(() => undefined);
  }
}
