// Repos the server registers by itself at start: those of kiln.yml, or else the git
// repository it was started in when that has a pipeline.yml. Only the store is written here
// (no git runs): the triggers' start() mirrors and watches them in the background.
import { existsSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import type { Logger } from 'pino';
import type { ServerConfig } from './config.js';
import type { Store } from './store/index.js';
import type { RepoTriggers } from './triggers/repos.js';

export async function registerStartupRepos(config: ServerConfig, store: Store, triggers: RepoTriggers, logger: Logger): Promise<void> {
  const wanted = config.repos ?? discoverWorkingRepo(config.cwd);
  for (const repo of wanted) {
    const known = store.repos.getRepoByName(repo.name);
    // kiln.yml is the truth for the repos it names: their settings follow it at each start
    // (a folder repo has only cancel_superseded; the repo found in the working folder, none).
    if (known) {
      if ((known.url === null) === (repo.url === null)) store.repos.updateSettings(known.id, repo.settings);
      continue;
    }
    try {
      await triggers.add(repo.path !== null ? { name: repo.name, path: repo.path, ...repo.settings } : { name: repo.name, url: repo.url, ...repo.settings });
      logger.info({ repo: repo.name, path: repo.path, url: repo.url }, 'repo registered');
    } catch (error) {
      logger.error({ err: error, repo: repo.name }, 'cannot register repo');
    }
  }
}

/** The work tree `cwd` is in (the nearest folder upwards with a `.git`), when it has a pipeline.yml. */
function discoverWorkingRepo(cwd: string): Array<{ name: string; path: string; url: null; pollMs: null; settings: Record<string, never> }> {
  let top = resolve(cwd);
  while (!existsSync(join(top, '.git'))) {
    if (dirname(top) === top) return [];
    top = dirname(top);
  }
  if (!existsSync(join(top, 'pipeline.yml'))) return [];
  const name = basename(top).replace(/[^A-Za-z0-9._-]/g, '-').replace(/^[^A-Za-z0-9]+/, '') || 'repo';
  return [{ name, path: top, url: null, pollMs: null, settings: {} }];
}
