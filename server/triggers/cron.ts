// Scheduled runs: the `on.cron` entries of each repo's pipeline.yml on its default branch,
// scheduled with node-cron (the library that validated them) and re-read when that branch moves.
import type { ScheduledTask } from 'node-cron';
import type { Logger } from 'pino';
import { notFound } from '../../shared/errors.js';
import type { Mirrors } from '../git/mirror.js';
import type { Repo, Store } from '../store/index.js';
import type { RunStarter } from './run-starter.js';

export interface CronOptions {
  store: Store;
  starter: RunStarter;
  logger: Logger;
  mirrors: Mirrors;
  mirrorDir(repo: Repo): string;
}

export interface CronScheduler {
  /** Re-reads the repo's schedules from its default branch and replaces the old ones. */
  refresh(repo: Repo): Promise<void>;
  /** The schedules in force, for the API: repo → cron expressions. */
  schedules(): Map<string, string[]>;
  stop(): void;
}

export function createCronScheduler({ store, starter, logger, mirrors, mirrorDir }: CronOptions): CronScheduler {
  const tasks = new Map<number, { key: string; tasks: ScheduledTask[]; exprs: string[] }>();
  // The mirror's ref table is in memory and replaced after every fetch: no git process here.
  const headOf = async (repo: Repo, branch: string): Promise<string> => {
    const sha = (await mirrors.view(mirrorDir(repo)).refs()).get(`refs/heads/${branch}`)?.commit;
    if (!sha) throw notFound(`ref refs/heads/${branch} not found`);
    return sha;
  };

  const fire = async (repoId: number, branch: string | null): Promise<void> => {
    const repo = store.repos.getRepo(repoId);
    if (!repo) return;
    const target = branch ?? repo.defaultBranch;
    const sha = await headOf(repo, target);
    await starter.startRun(repo, { event: 'cron', ref: `refs/heads/${target}`, sha, changedPaths: null });
  };

  return {
    async refresh(repo) {
      let entries: Array<{ schedule: string; branch: string | null; timezone: string | null }> = [];
      try {
        const result = await starter.pipelineAt(repo, await headOf(repo, repo.defaultBranch));
        if (result?.ok) entries = result.plan.triggers.cron;
      } catch {
        entries = []; // no default branch yet, or no pipeline there: nothing scheduled
      }
      // node-cron loads with the first repo that schedules runs.
      const createTask = entries.length ? (await import('node-cron')).createTask : null;
      const key = JSON.stringify(entries);
      const current = tasks.get(repo.id);
      if (current?.key === key) return;
      for (const task of current?.tasks ?? []) void task.destroy();
      const made = entries.map((entry) =>
        createTask!(entry.schedule, () => fire(repo.id, entry.branch).catch((error: unknown) => logger.error({ err: error, repo: repo.name }, 'scheduled run failed to start')), {
          ...(entry.timezone ? { timezone: entry.timezone } : {}),
          name: `${repo.name}:${entry.schedule}`,
          noOverlap: false,
        }),
      );
      for (const task of made) void task.start();
      tasks.set(repo.id, { key, tasks: made, exprs: entries.map((e) => e.schedule) });
      if (entries.length > 0 || current) logger.info({ repo: repo.name, schedules: entries.map((e) => e.schedule) }, 'cron schedules loaded');
    },
    schedules() {
      const out = new Map<string, string[]>();
      for (const [id, entry] of tasks) {
        const repo = store.repos.getRepo(id);
        if (repo && entry.exprs.length > 0) out.set(repo.name, entry.exprs);
      }
      return out;
    },
    stop() {
      for (const entry of tasks.values()) for (const task of entry.tasks) void task.destroy();
      tasks.clear();
    },
  };
}
