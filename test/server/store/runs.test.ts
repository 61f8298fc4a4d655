import { describe, expect, it } from 'vitest';
import { KilnError } from '../../../shared/errors.js';
import { newRun, plan, plannedJob, seeded, tempStore } from './fixtures.js';

describe('repos', () => {
  it('need a unique name and exactly one of path or url', () => {
    const { store } = tempStore();
    store.repos.addRepo({ name: 'web', path: '/srv/git/web' });
    expect(() => store.repos.addRepo({ name: 'web', url: 'https://x/web.git' })).toThrow(
      expect.objectContaining({ code: 'conflict' }),
    );
    expect(() => store.repos.addRepo({ name: 'both', path: '/a', url: 'https://b' })).toThrow(KilnError);
    expect(() => store.repos.addRepo({ name: 'none' })).toThrow(expect.objectContaining({ code: 'bad_input' }));
  });

  it('take their runs, jobs and secrets with them when removed', () => {
    const { store, repo } = seeded();
    const run = store.runs.createRun(newRun(repo.id));
    store.secrets.setSecret(repo.id, 'KEY', 'v');
    expect(store.repos.removeRepo(repo.id)).toBe(true);
    expect(store.runs.getRun(run.id)).toBeNull();
    expect(store.jobs.getJob(run.jobs[0]!.id)).toBeNull();
    expect(store.repos.getRepo(repo.id)).toBeNull();
  });
});

describe('creating runs', () => {
  it('numbers runs 1, 2, 3 per repo', () => {
    const { store, repo } = seeded();
    const other = store.repos.addRepo({ name: 'api', url: 'https://git.example.com/api.git' });
    const numbers = [repo, repo, other, repo, other].map((r) => store.runs.createRun(newRun(r.id)).number);
    expect(numbers).toEqual([1, 2, 1, 3, 2]);
    expect(store.repos.getRepo(repo.id)?.lastRunNumber).toBe(3);
  });

  it('stores the planned jobs with their steps, queued, and the plan itself', () => {
    const { store, repo, clock } = seeded();
    const p = plan(plannedJob('lint'), plannedJob('test', { needs: ['lint'], runsOn: ['linux'], retry: 2 }));
    const run = store.runs.createRun(newRun(repo.id, { plan: p, env: { A: '1' } }));
    expect(run).toMatchObject({ repo: 'web', number: 1, status: 'queued', event: 'push', env: { A: '1' }, startedAt: null });
    expect(run.createdAt).toBe(new Date(clock.now()).toISOString());
    expect(run.plan).toEqual(p);
    expect(run.jobs.map((j) => [j.name, j.status, j.needs, j.retriesLeft, j.attempt])).toEqual([
      ['lint', 'queued', [], 0, 0],
      ['test', 'queued', ['lint'], 2, 0],
    ]);
    expect(run.jobs[1]!.plan).toEqual(p.jobs[1]);
    expect(run.jobs[0]!.steps.map((s) => [s.idx, s.name, s.status])).toEqual([[0, 'build', 'queued'], [1, 'test', 'queued']]);
    // A job with no needs is claimable at once; one with needs waits for the scheduler.
    expect(run.jobs.map((j) => j.readyAt !== null)).toEqual([true, false]);
  });

  it('starts an approval job without needs blocked, and honours given initial statuses', () => {
    const { store, repo } = seeded();
    const p = plan(plannedJob('deploy', { approval: true }), plannedJob('docs'));
    const run = store.runs.createRun(newRun(repo.id, { plan: p, jobStatuses: { docs: 'skipped' } }));
    expect(run.jobs.map((j) => j.status)).toEqual(['blocked', 'skipped']);
    expect(run.jobs[1]!.steps.every((s) => s.status === 'skipped')).toBe(true);
    expect(run.status).toBe('blocked');
  });

  it('stores a run whose pipeline did not validate as error, with the reason and no jobs', () => {
    const { store, repo } = seeded();
    const run = store.runs.createRun(newRun(repo.id, { plan: null, error: 'pipeline.yml:3:5: unknown key "stpes"' }));
    expect(run).toMatchObject({ status: 'error', error: 'pipeline.yml:3:5: unknown key "stpes"', jobs: [], plan: null });
    expect(run.finishedAt).not.toBeNull();
  });

  it('numbers nothing when the repo is unknown', () => {
    const { store } = tempStore();
    expect(() => store.runs.createRun(newRun(999))).toThrow(expect.objectContaining({ code: 'not_found' }));
  });
});

describe('listing runs', () => {
  it('lists newest first, pages with before, and finds the last run of each branch', () => {
    const { store, repo } = seeded();
    for (const branch of ['main', 'dev', 'main', 'feature/x', 'dev']) store.runs.createRun(newRun(repo.id, { branch }));
    store.runs.createRun(newRun(repo.id, { branch: null, tag: 'v1', event: 'tag', ref: 'refs/tags/v1' }));
    expect(store.runs.listRuns(repo.id).map((r) => r.number)).toEqual([6, 5, 4, 3, 2, 1]);
    expect(store.runs.listRuns(repo.id, { limit: 2, before: 5 }).map((r) => r.number)).toEqual([4, 3]);
    expect(store.runs.listLastRunsByBranch(repo.id).map((r) => [r.branch, r.number])).toEqual([
      ['dev', 5],
      ['feature/x', 4],
      ['main', 3],
    ]);
    expect(store.runs.getRunByNumber(repo.id, 6)?.tag).toBe('v1');
  });

  it('marks the newest run of a repo and lists the runs after a mark, oldest first, of that repo only', () => {
    const { store, repo } = seeded();
    const other = store.repos.addRepo({ name: 'other', path: '/srv/git/other' });
    expect(store.runs.newestRunId(repo.id)).toBe(0);
    const first = store.runs.addRun(newRun(repo.id));
    const mark = store.runs.newestRunId(repo.id);
    expect(mark).toBe(first.id);
    const elsewhere = store.runs.addRun(newRun(other.id));
    const second = store.runs.addRun(newRun(repo.id));
    const third = store.runs.addRun(newRun(repo.id));
    expect(store.runs.listRunsAfter(repo.id, mark).map((r) => r.id)).toEqual([second.id, third.id]);
    expect(store.runs.listRunsAfter(repo.id, mark, 1).map((r) => r.id)).toEqual([second.id]);
    expect(store.runs.listRunsAfter(other.id, 0).map((r) => r.id)).toEqual([elsewhere.id]);
    expect(store.runs.newestRunId(repo.id)).toBe(third.id);
  });
});
