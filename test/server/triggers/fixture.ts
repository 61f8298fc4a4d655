// The server's trigger component, in this process, on real parts: a SQLite store in a temp
// folder, real mirrors and git readers, the run starter and the API trigger. And a `git`
// wrapper put first in PATH that records every git process this process starts.
import { execFileSync } from 'node:child_process';
import { chmodSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pino } from 'pino';
import { createMirrors } from '../../../server/git/mirror.js';
import { openDatabase, type Store } from '../../../server/store/index.js';
import { createApiTrigger, type ApiTrigger } from '../../../server/triggers/api-trigger.js';
import type { PlanCache } from '../../../server/triggers/plan-cache.js';
import { createRepoTriggers, type RepoTriggers } from '../../../server/triggers/repos.js';
import { createRunStarter, type RunStarter } from '../../../server/triggers/run-starter.js';
import { makeTempDir } from '../../helpers/git.js';

export interface GitCalls {
  /** The argument lines of the git processes started since the last reset. */
  calls(): string[];
  reset(): void;
}

/** Puts a recording `git` first in PATH (for this process and its children). Call once per file. */
export async function recordGitCalls(): Promise<GitCalls> {
  const real = execFileSync('sh', ['-c', 'command -v git'], { encoding: 'utf8' }).trim();
  const bin = await makeTempDir('kiln-gitbin-');
  const log = join(bin, 'calls.log');
  writeFileSync(log, '');
  writeFileSync(join(bin, 'git'), `#!/bin/sh\necho "$*" >> '${log}'\nexec '${real}' "$@"\n`);
  chmodSync(join(bin, 'git'), 0o755);
  process.env.PATH = `${bin}:${process.env.PATH ?? ''}`;
  return {
    calls: () => readFileSync(log, 'utf8').split('\n').filter(Boolean),
    reset: () => writeFileSync(log, ''),
  };
}

export interface TriggerParts {
  store: Store;
  starter: RunStarter;
  triggers: RepoTriggers;
  api: ApiTrigger;
  dataDir: string;
  stop(): Promise<void>;
}

/** `dataDir`: reuse another's data folder (a restart); its store must be closed by the caller. */
export async function createTriggerParts(options: { plans?: PlanCache; dataDir?: string; remoteHeadEveryMs?: number } = {}): Promise<TriggerParts> {
  const dataDir = options.dataDir ?? (await makeTempDir('kiln-data-'));
  const store = openDatabase(join(dataDir, 'kiln.db'));
  const logger = pino({ level: 'silent' });
  const mirrors = createMirrors(options.remoteHeadEveryMs === undefined ? {} : { remoteHeadEveryMs: options.remoteHeadEveryMs });
  const starter = createRunStarter({ store, logger, mirrors, mirrorDir: (repo) => triggers.mirrorDir(repo), onRunCreated: () => {}, ...(options.plans ? { plans: options.plans } : {}) });
  const triggers = createRepoTriggers({ store, mirrors, starter, logger, dataDir });
  const api = createApiTrigger({ store, starter, triggers });
  return {
    store, starter, triggers, api, dataDir,
    async stop() {
      await triggers.stop();
      store.close();
    },
  };
}

/** Pids of the live processes whose command line contains `text` (from /proc). */
export function processesWith(text: string): number[] {
  const found: number[] = [];
  for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    try {
      if (readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').some((arg) => arg.includes(text))) found.push(Number(pid));
    } catch {
      // ended meanwhile
    }
  }
  return found;
}
