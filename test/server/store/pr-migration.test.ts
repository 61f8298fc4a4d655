// Migration 8 rebuilds the runs table (to let event be pull_request) on a database made at
// schema 7: runs keep their rows and numbers, jobs, steps and statuses keep their runs, and the
// new columns hold what a pull-request run was made for.
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { MIGRATIONS, openDatabase } from '../../../server/store/index.js';
import { newRun, T0, plannedJob, tempDir, tempStore, trackStore } from './fixtures.js';

function schema7(file: string) {
  const raw = new Database(file);
  raw.pragma('foreign_keys = ON');
  for (const sql of MIGRATIONS.slice(0, 7)) raw.exec(sql);
  raw.pragma('user_version = 7');
  raw.prepare(`INSERT INTO repos (id, name, path, created_at, last_run_number) VALUES (1, 'web', '/srv/web', ?, 2)`).run(T0);
  const run = raw.prepare(`INSERT INTO runs (id, repo_id, number, status, event, ref, branch, sha, message, created_at) VALUES (?, 1, ?, ?, 'push', 'refs/heads/main', 'main', ?, 'old', ?)`);
  run.run(1, 1, 'success', 'a'.repeat(40), T0);
  run.run(2, 2, 'running', 'b'.repeat(40), T0 + 1);
  raw.prepare(`INSERT INTO jobs (id, run_id, idx, name, status, plan, queued_at) VALUES (1, 2, 0, 'build', 'running', ?, ?)`).run(JSON.stringify(plannedJob('build')), T0);
  raw.prepare(`INSERT INTO steps (job_id, idx, name, status) VALUES (1, 0, 'build', 'running')`).run();
  raw.prepare(`INSERT INTO status_outbox (repo_id, run_id, sha, status, context, target_url, description, created_at, next_attempt_at)
    VALUES (1, 2, ?, 'running', 'kiln/web', 'http://x/runs/2', 'running', ?, ?)`).run('b'.repeat(40), T0, T0);
  raw.close();
}

describe('migration 8 (pull-request runs)', () => {
  it('keeps every run with its jobs, steps and queued statuses, and takes pull_request runs after', () => {
    const file = join(tempDir(), 'kiln.db');
    schema7(file);
    const store = trackStore(openDatabase(file));
    expect(store.runs.listRuns(1).map((r) => [r.number, r.status, r.event, r.pullRequest])).toEqual([[2, 'running', 'push', null], [1, 'success', 'push', null]]);
    const run = store.runs.getRunByNumber(1, 2)!;
    expect(run.jobs.map((j) => [j.name, j.status, j.steps.length])).toEqual([['build', 'running', 1]]);
    const raw = new Database(file, { readonly: true });
    try {
      expect(raw.prepare('SELECT COUNT(*) AS n FROM status_outbox WHERE run_id = 2').get()).toEqual({ n: 1 });
      expect(raw.pragma('foreign_key_check')).toEqual([]);
    } finally {
      raw.close();
    }
    const pr = store.runs.addRun(newRun(1, { event: 'pull_request', ref: 'refs/pull/3/head', branch: 'feature', pullRequest: { number: 3, sourceBranch: 'feature', targetBranch: 'main', fromFork: true } }));
    expect(pr).toMatchObject({ number: 3, event: 'pull_request', branch: 'feature', pullRequest: { number: 3, sourceBranch: 'feature', targetBranch: 'main', fromFork: true } });
  });

  it('still deletes a repo\'s runs and their jobs with it (foreign keys are back on)', () => {
    const { store } = tempStore();
    const repo = store.repos.addRepo({ name: 'gone', path: '/srv/gone' });
    const run = store.runs.createRun(newRun(repo.id));
    store.repos.removeRepo(repo.id);
    expect(store.runs.getRun(run.id)).toBeNull();
    expect(store.jobs.getJob(run.jobs[0]!.id)).toBeNull();
  });
});
