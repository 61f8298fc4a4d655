// The repos kiln builds: registered in the store, mirrored under the data folder, watched
// (local paths, through their refs) or polled (remote URLs). Every new branch head or tag
// found by a sync becomes one run; registering a repo starts none.
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Logger } from 'pino';
import { badInput } from '../../shared/errors.js';
import type { MirrorSource, Mirrors } from '../git/mirror.js';
import type { MirrorView } from '../git/mirror-view.js';
import { forkCloneUrl } from '../git/remote-url.js';
import { watchRefs, type RefsWatcher } from '../git/refs-watcher.js';
import { findGitDirs, readHeadBranch, readSourceRefs } from '../git/source-refs.js';
import type { Repo, Store } from '../store/index.js';
import type { RepoSettingsInput } from '../store/repos.js';
import { createFetchRuns, mirrorHeadBranch } from './fetch-runs.js';
import { createRepoSync } from './repo-sync.js';
import { startPoller, type Poller } from './poller.js';
import type { RunStarter } from './run-starter.js';

export interface RepoTriggersOptions {
  store: Store;
  mirrors: Mirrors;
  starter: RunStarter;
  logger: Logger;
  dataDir: string;
  /** Called after a sync moved refs, e.g. to re-read cron schedules. */
  onSynced?(repo: Repo): void;
}

export type RepoInput = { name: string; path?: string; url?: string } & RepoSettingsInput;

export interface RepoTriggers {
  mirrorDir(repo: Pick<Repo, 'name'>): string;
  /** The repo's mirror in memory: its ref table and object reader. */
  mirror(repo: Pick<Repo, 'name'>): MirrorView;
  /** Adds a repo to the store only (no git): start() or register() mirror it. Throws `bad_input`. */
  add(input: RepoInput): Promise<Repo>;
  /** Adds a repo, mirrors it, and starts watching it; starts no run. */
  register(input: RepoInput): Promise<Repo>;
  /** Fetches the repo into its mirror and starts a run for every new branch head or tag (one sync in flight per repo). */
  sync(repo: Repo): Promise<void>;
  /**
   * Fetches a pull request's head (`headRef` of the repo's remote, or of the fork `headRepo`
   * names on the same forge) into the mirror's `refs/kiln/pull/N`, and resolves with the commit
   * git read there; null when the remote has no such ref. Throws `bad_input` when a fork's
   * clone URL cannot be told from the repo's URL, or a ref name is not one git takes.
   */
  fetchPullRequest(repo: Repo, pr: { number: number; headRef: string; headRepo: { target: string; source: string } | null }): Promise<string | null>;
  /** Forgets a closed pull request's head (its `refs/kiln/pull/N/head`), so the mirror does not keep its commits for good. */
  dropPullRequest(repo: Repo, number: number): Promise<void>;
  /** Brings the mirror up to date only when it may be behind (see RepoSync); never rejects: failures are logged. */
  ensureCurrent(repo: Repo, wanted?: { sha?: string }): Promise<void>;
  /**
   * Resolves at once; in the background, mirrors and watches every stored repo, so commits
   * made while the server was down get their runs. Errors are logged per repo.
   */
  start(): Promise<void>;
  /** Resolves when the background work of start() is done (for tests and tools). */
  started(): Promise<void>;
  /** Waits for start()'s background work, stops watching, and ends the mirrors' git readers. */
  stop(): Promise<void>;
}

const REPO_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

/** A remote's poll interval: its own, else 60 s, or 5 min when webhooks tell of its pushes. */
export function pollIntervalMs(repo: Repo): number {
  return repo.pollMs ?? (repo.sealed.webhookSecret || repo.webhookInsecure ? 300_000 : 60_000);
}

export function createRepoTriggers(options: RepoTriggersOptions): RepoTriggers {
  const { store, mirrors, starter, logger } = options;
  const watchers = new Map<number, Promise<RefsWatcher | Poller | null>>();
  const source = (repo: Repo): MirrorSource => (repo.path !== null
    ? { path: repo.path }
    : { url: repo.url!, credentials: repo.sealed.credentials ? store.repos.getRemoteSettings(repo.id).credentials : null });
  const mirrorDir = (repo: Pick<Repo, 'name'>) => join(options.dataDir, 'mirrors', `${repo.name}.git`);
  let background: Promise<void> = Promise.resolve();
  // Why: start() mirrors a repo added at start-up later, in the background; a commit made in
  // between is newer than the registration and must still get its run.
  const baselines = new Map<number, ReadonlyMap<string, string>>();
  let stopped = false;

  // The default branch is the source's HEAD branch (the repo object a watcher holds may be older).
  function onHeadBranch(repo: Repo, branch: string): void {
    if (store.repos.getRepo(repo.id)?.defaultBranch === branch) return;
    store.repos.setDefaultBranch(repo.id, branch);
    logger.info({ repo: repo.name, branch }, 'default branch is the source\'s HEAD branch');
  }

  const fetchAndStart = createFetchRuns({
    mirrors, starter, logger, mirrorDir, source,
    baseline: (repo) => {
      const refs = baselines.get(repo.id);
      baselines.delete(repo.id);
      return refs;
    },
    onChanged: (repo) => options.onSynced?.(repo),
    onHeadBranch,
  });
  // A remote's syncs say how they went (shown on the repo page and in GET /api/repos).
  const message = (error: unknown) => (error instanceof Error ? error.message : String(error));
  const syncs = createRepoSync({
    mirrors, mirrorDir,
    fetch: async (repo) => {
      if (repo.url === null) return fetchAndStart(repo);
      try {
        await fetchAndStart(repo);
        store.repos.recordSync(repo.id, null);
      } catch (error) {
        store.repos.recordSync(repo.id, message(error));
        throw error;
      }
    },
  });

  const watch = (repo: Repo): Promise<unknown> => {
    // Why the promise is stored before watching starts: start() and register() may both ask.
    if (watchers.has(repo.id) || stopped) return watchers.get(repo.id) ?? Promise.resolve();
    const onError = (error: unknown) => logger.error({ err: error, repo: repo.name }, 'repo sync failed');
    let made: Promise<RefsWatcher | Poller | null> = Promise.resolve(null);
    if (repo.path !== null) made = watchRefs(repo.path, () => syncs.sync(repo), { onError });
    else {
      made = Promise.resolve(startPoller({
        intervalMs: () => pollIntervalMs(store.repos.getRepo(repo.id) ?? repo),
        lsRemote: () => mirrors.lsRemote(source(store.repos.getRepo(repo.id) ?? repo)),
        mirrorRefs: () => mirrors.view(mirrorDir(repo)).refs(),
        sync: () => syncs.sync(store.repos.getRepo(repo.id) ?? repo),
        onResult: (error) => {
          if (error === null) return;
          store.repos.recordSync(repo.id, message(error));
          logger.warn({ err: error, repo: repo.name }, 'poll failed; retrying with back-off');
        },
      }));
    }
    watchers.set(repo.id, made);
    made.catch(() => watchers.delete(repo.id)); // not watched: a later start or register tries again
    return made;
  };

  const add = async (input: RepoInput): Promise<Repo> => {
    if (!REPO_NAME.test(input.name)) throw badInput('a repo name is letters, digits, _, . and -');
    if ((input.path === undefined) === (input.url === undefined)) throw badInput('give either a path or a url');
    if (input.path !== undefined && !existsSync(resolve(input.path))) throw badInput(`no repository at ${input.path}`);
    const path = input.path === undefined ? undefined : resolve(input.path);
    const dirs = path ? await findGitDirs(path) : null;
    if (path && !dirs) throw badInput(`cannot read the repository: no git repository at ${path}`);
    const branch = dirs ? await readHeadBranch(dirs.gitDir) : null;
    const refs = dirs ? await readSourceRefs(dirs.commonDir) : null;
    const { name, path: _path, url, ...settings } = input;
    const repo = store.repos.addRepo({ name, path: path ?? null, url: url ?? null, ...settings, ...(branch ? { defaultBranch: branch } : {}) });
    if (refs) baselines.set(repo.id, refs);
    return repo;
  };

  // A mirror that exists and has refs is fetched (its new commits become runs); a new one is
  // made (runs only for what moved since add()); an empty one is left to the watcher. The
  // check after watching catches a commit made before the watcher was ready.
  const catchUp = async (repo: Repo): Promise<void> => {
    try {
      const dir = mirrorDir(repo);
      if (!existsSync(dir) || (await mirrors.view(dir).refs()).size > 0) await syncs.sync(repo);
      await watch(repo);
      if (repo.path !== null) await syncs.ensureCurrent(repo);
      options.onSynced?.(repo);
    } catch (error) {
      logger.error({ err: error, repo: repo.name }, 'cannot mirror repo; it is not watched');
    }
  };

  return {
    mirrorDir,
    mirror: (repo) => mirrors.view(mirrorDir(repo)),
    sync: (repo) => syncs.sync(repo),
    async fetchPullRequest(repo, pr) {
      let from = source(repo);
      if (pr.headRepo) {
        const url = repo.url === null ? null : forkCloneUrl(repo.url, pr.headRepo.target, pr.headRepo.source);
        if (url === null) throw badInput(`cannot tell the clone URL of the fork ${pr.headRepo.source} from ${repo.url ?? repo.path}`);
        from = { ...from, url };
      }
      return mirrors.fetchRef(from, mirrorDir(repo), pr.headRef, `refs/kiln/pull/${pr.number}/head`);
    },
    dropPullRequest: (repo, number) => mirrors.dropRef(mirrorDir(repo), `refs/kiln/pull/${number}/head`),
    ensureCurrent: (repo, wanted) => syncs.ensureCurrent(repo, wanted).catch((error: unknown) => {
      logger.warn({ err: error, repo: repo.name }, 'repo sync failed; using the mirror as it is');
    }),
    add,
    async register(input) {
      const repo = await add(input);
      baselines.delete(repo.id); // registered through the API: the mirror made now is the baseline
      try {
        await mirrors.ensureMirror(source(repo), mirrorDir(repo));
        const head = await mirrorHeadBranch(mirrors, mirrorDir(repo));
        if (head !== null) onHeadBranch(repo, head);
      } catch (error) {
        store.repos.removeRepo(repo.id);
        throw badInput(`cannot read the repository: ${error instanceof Error ? error.message : String(error)}`);
      }
      await watch(repo);
      logger.info({ repo: repo.name, path: repo.path, url: repo.url }, 'repo registered');
      options.onSynced?.(repo);
      return store.repos.getRepo(repo.id) ?? repo;
    },
    async start() {
      const repos = store.repos.listRepos();
      background = (async () => {
        for (const repo of repos) {
          if (stopped) return;
          await catchUp(repo);
        }
        logger.info({ repos: repos.length }, 'repos caught up');
      })();
    },
    started: () => background,
    async stop() {
      stopped = true;
      await background;
      for (const made of watchers.values()) {
        const watcher = await made.catch(() => null);
        await watcher?.close();
      }
      watchers.clear();
      await mirrors.close();
    },
  };
}
