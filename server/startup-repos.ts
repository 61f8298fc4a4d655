// Repos the server registers by itself at start: those of kiln.yml, or else the git
// repository it was started in when that has a pipeline.yml.
import { existsSync } from 'node:fs';
import { basename, join } from 'node:path';
import { execFileSync } from 'node:child_process';
import type { Logger } from 'pino';
import type { ServerConfig } from './config.js';
import type { Store } from './store/index.js';
import type { RepoTriggers } from './triggers/repos.js';

export async function registerStartupRepos(config: ServerConfig, store: Store, triggers: RepoTriggers, logger: Logger): Promise<void> {
  const wanted = config.repos ?? discoverWorkingRepo(config.cwd);
  for (const repo of wanted) {
    if (store.repos.getRepoByName(repo.name)) continue;
    try {
      await triggers.register(repo.path !== null ? { name: repo.name, path: repo.path } : { name: repo.name, url: repo.url!, pollMs: repo.pollMs });
    } catch (error) {
      logger.error({ err: error, repo: repo.name }, 'cannot register repo');
    }
  }
}

function discoverWorkingRepo(cwd: string): Array<{ name: string; path: string; url: null; pollMs: null }> {
  let top: string;
  try {
    top = execFileSync('git', ['rev-parse', '--show-toplevel'], { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return [];
  }
  if (!existsSync(join(top, 'pipeline.yml'))) return [];
  const name = basename(top).replace(/[^A-Za-z0-9._-]/g, '-').replace(/^[^A-Za-z0-9]+/, '') || 'repo';
  return [{ name, path: top, url: null, pollMs: null }];
}
