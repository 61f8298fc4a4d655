// The repos kiln builds: registered in the store, mirrored under the data folder, watched
// (local paths, through their refs) or polled (remote URLs). Every new branch head or tag
// found by a sync becomes one run; registering a repo starts none.
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Logger } from 'pino';
import { badInput } from '../../shared/errors.js';
import type { MirrorSource, Mirrors } from '../git/mirror.js';
import { changedPaths, defaultBranch, listRefs } from '../git/read.js';
import { watchRefs, type RefsWatcher } from '../git/refs-watcher.js';
import type { Repo, Store } from '../store/index.js';
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

export interface RepoTriggers {
  mirrorDir(repo: Pick<Repo, 'name'>): string;
  /** Adds a repo, mirrors it, and starts watching it; starts no run. */
  register(input: { name: string; path?: string; url?: string; pollMs?: number | null }): Promise<Repo>;
  /** Fetches the repo into its mirror and starts a run for every new branch head or tag. */
  sync(repo: Repo): Promise<void>;
  /** Mirrors and watches every stored repo; commits made while the server was down get their runs. */
  start(polls?: ReadonlyMap<string, number>): Promise<void>;
  stop(): Promise<void>;
}

const REPO_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

export function createRepoTriggers(options: RepoTriggersOptions): RepoTriggers {
  const { store, mirrors, starter, logger } = options;
  const watchers = new Map<number, RefsWatcher | NodeJS.Timeout>();
  const source = (repo: Repo): MirrorSource => (repo.path !== null ? { path: repo.path } : { url: repo.url! });
  const mirrorDir = (repo: Pick<Repo, 'name'>) => join(options.dataDir, 'mirrors', `${repo.name}.git`);

  const sync = async (repo: Repo): Promise<void> => {
    const dir = mirrorDir(repo);
    const changes = await mirrors.fetchMirror(source(repo), dir);
    for (const change of changes) {
      if (change.after === null) continue;
      const event = change.ref.startsWith('refs/tags/') ? 'tag' : 'push';
      try {
        const found = event === 'push' ? await changedPaths(dir, change.before, change.after, { ref: change.ref }) : null;
        // A branch made at a commit another branch has changed nothing; like GitLab, count its
        // files as unknown (so `paths:` filters pass) rather than skip its first run.
        const paths = found !== null && found.length === 0 && change.before === null ? null : found;
        await starter.startRun(repo, { event, ref: change.ref, sha: change.after, changedPaths: paths });
      } catch (error) {
        logger.error({ err: error, repo: repo.name, ref: change.ref }, 'could not start a run');
      }
    }
    if (changes.length > 0) options.onSynced?.(repo);
  };

  const watch = async (repo: Repo, pollMs: number | undefined): Promise<void> => {
    if (watchers.has(repo.id)) return;
    const onError = (error: unknown) => logger.error({ err: error, repo: repo.name }, 'repo sync failed');
    if (repo.path !== null) {
      watchers.set(repo.id, await watchRefs(repo.path, () => sync(repo), { onError }));
    } else if (pollMs) {
      const timer = setInterval(() => void sync(repo).catch(onError), pollMs);
      timer.unref();
      watchers.set(repo.id, timer);
    }
  };

  return {
    mirrorDir,
    sync,
    async register(input) {
      if (!REPO_NAME.test(input.name)) throw badInput('a repo name is letters, digits, _, . and -');
      if ((input.path === undefined) === (input.url === undefined)) throw badInput('give either a path or a url');
      if (input.path !== undefined && !existsSync(resolve(input.path))) throw badInput(`no repository at ${input.path}`);
      const path = input.path === undefined ? undefined : resolve(input.path);
      const branch = path ? (await defaultBranch(path).catch(() => null)) : null;
      const repo = store.repos.addRepo({ name: input.name, path: path ?? null, url: input.url ?? null, ...(branch ? { defaultBranch: branch } : {}) });
      try {
        await mirrors.ensureMirror(source(repo), mirrorDir(repo));
      } catch (error) {
        store.repos.removeRepo(repo.id);
        throw badInput(`cannot read the repository: ${error instanceof Error ? error.message : String(error)}`);
      }
      await watch(repo, input.pollMs ?? 60_000);
      logger.info({ repo: repo.name, path: repo.path, url: repo.url }, 'repo registered');
      options.onSynced?.(repo);
      return repo;
    },
    async start(polls = new Map()) {
      for (const repo of store.repos.listRepos()) {
        try {
          if (existsSync(mirrorDir(repo)) && (await listRefs(mirrorDir(repo))).size > 0) await sync(repo);
          else await mirrors.ensureMirror(source(repo), mirrorDir(repo));
          await watch(repo, polls.get(repo.name) ?? 60_000);
          options.onSynced?.(repo);
        } catch (error) {
          logger.error({ err: error, repo: repo.name }, 'cannot mirror repo; it is not watched');
        }
      }
    },
    async stop() {
      for (const watcher of watchers.values()) {
        if ('close' in watcher) await watcher.close();
        else clearInterval(watcher);
      }
      watchers.clear();
    },
  };
}
