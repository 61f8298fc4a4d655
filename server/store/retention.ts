// What the retention sweeper may delete, and the deletes themselves, in batches of run or job
// ids. A run is kept while it or a job of it is unfinished, while it is among the newest
// `keepLast` of its repo and branch, or while it holds an environment's last deployment.

import type { Sqlite } from './db.js';

export interface RemovedLog {
  removedAt: number;
  policy: string;
}

/** Bytes a repo holds, by kind, as its rows record them. */
export interface RepoBytes {
  repo: string;
  logs: number;
  artifacts: number;
  caches: number;
}

export interface RetentionStore {
  /** Per repo (all of them, by name): bytes of log lines, artifacts and caches. */
  bytesByRepo(): RepoBytes[];
  /** Up to `limit` ids of runs created before `cutoff` that nothing keeps. */
  expiredRuns(cutoff: number, keepLast: number, limit: number): number[];
  /** Deletes a run; its jobs, steps, logs, attempts and artifact rows go by cascade. */
  deleteRun(id: number): boolean;
  /** Up to `limit` ids of finished jobs, finished before `cutoff`, that still have log lines. */
  expiredLogs(cutoff: number, limit: number): number[];
  /** Deletes a job's log lines and records when and under which policy. */
  removeLog(jobId: number, now: number, policy: string): void;
  /** When the sweeper removed this job's log, or null. */
  removedLog(jobId: number): RemovedLog | null;
  /** Hands free pages back to the file system and truncates the WAL; the pages freed. */
  reclaim(): number;
}

const UNFINISHED = `('queued','blocked','running')`;

export function createRetentionStore(db: Sqlite): RetentionStore {
  const stmt = {
    expiredRuns: db.prepare<[{ keepLast: number; cutoff: number; limit: number }], number>(
      `SELECT id FROM (SELECT id, status, created_at,
           row_number() OVER (PARTITION BY repo_id, branch ORDER BY number DESC) AS newest FROM runs) AS r
         WHERE r.created_at < @cutoff AND r.newest > @keepLast AND r.status NOT IN ${UNFINISHED}
           AND NOT EXISTS (SELECT 1 FROM jobs WHERE jobs.run_id = r.id AND jobs.status IN ${UNFINISHED})
           AND r.id NOT IN (SELECT run_id FROM jobs WHERE id IN (SELECT max(id) FROM jobs WHERE status = 'success'
             AND json_extract(plan, '$.environment') IS NOT NULL GROUP BY json_extract(plan, '$.environment')))
         ORDER BY r.id LIMIT @limit`,
    ).pluck(),
    deleteRun: db.prepare<[number]>('DELETE FROM runs WHERE id = ?'),
    expiredLogs: db.prepare<[number, number], number>(
      `SELECT id FROM jobs WHERE finished_at < ? AND status NOT IN ${UNFINISHED}
         AND EXISTS (SELECT 1 FROM log_chunks WHERE log_chunks.job_id = jobs.id)
       ORDER BY id LIMIT ?`,
    ).pluck(),
    deleteChunks: db.prepare<[number]>('DELETE FROM log_chunks WHERE job_id = ?'),
    deleteCounters: db.prepare<[number]>('DELETE FROM log_counters WHERE job_id = ?'),
    remember: db.prepare<[number, number, string]>(
      'INSERT INTO removed_logs (job_id, removed_at, policy) VALUES (?, ?, ?) ON CONFLICT (job_id) DO UPDATE SET removed_at = excluded.removed_at, policy = excluded.policy',
    ),
    bytesByRepo: db.prepare<[], RepoBytes>(
      `SELECT name AS repo,
         coalesce((SELECT sum(log_chunks.bytes) FROM log_chunks JOIN jobs ON jobs.id = log_chunks.job_id JOIN runs ON runs.id = jobs.run_id WHERE runs.repo_id = repos.id), 0) AS logs,
         coalesce((SELECT sum(artifacts.size) FROM artifacts JOIN runs ON runs.id = artifacts.run_id WHERE runs.repo_id = repos.id), 0) AS artifacts,
         coalesce((SELECT sum(size) FROM caches WHERE caches.repo_id = repos.id), 0) AS caches
       FROM repos ORDER BY name`,
    ),
    removed: db.prepare<[number], { removed_at: number; policy: string }>('SELECT removed_at, policy FROM removed_logs WHERE job_id = ?'),
  };
  return {
    bytesByRepo: () => stmt.bytesByRepo.all(),
    expiredRuns: (cutoff, keepLast, limit) => stmt.expiredRuns.all({ keepLast, cutoff, limit }),
    deleteRun: (id) => stmt.deleteRun.run(id).changes > 0,
    expiredLogs: (cutoff, limit) => stmt.expiredLogs.all(cutoff, limit),
    removeLog: (jobId, now, policy) => {
      stmt.deleteChunks.run(jobId);
      stmt.deleteCounters.run(jobId);
      stmt.remember.run(jobId, now, policy);
    },
    removedLog: (jobId) => {
      const row = stmt.removed.get(jobId);
      return row ? { removedAt: row.removed_at, policy: row.policy } : null;
    },
    reclaim: () => {
      const free = db.pragma('freelist_count', { simple: true }) as number;
      db.pragma('incremental_vacuum');
      db.pragma('wal_checkpoint(TRUNCATE)');
      return free;
    },
  };
}
