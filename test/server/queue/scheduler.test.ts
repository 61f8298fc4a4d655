// The scheduler on a real SQLite store: needs, when, approval and skips, decided after each change.
import { describe, expect, it } from 'vitest';
import { advanceRun } from '../../../server/queue/scheduler.js';
import { newRun, plan, plannedJob, seeded, T0 } from '../store/fixtures.js';

const LEASE_MS = 30_000;

function setup(jobs: Parameters<typeof plan>, over: Parameters<typeof newRun>[1] = {}) {
  const ctx = seeded([[]]);
  const run = ctx.store.runs.createRun(newRun(ctx.repo.id, { plan: plan(...jobs), ...over }));
  advanceRun(ctx.store, run.id);
  const status = () => Object.fromEntries(ctx.store.runs.getRun(run.id)!.jobs.map((j) => [j.name, j.status]));
  /** Claims whatever is claimable and ends it with `outcome`, then lets the scheduler decide. */
  const finishNext = (outcome: 'success' | 'failed') => {
    const claim = ctx.store.leases.claimNextJob(ctx.agents[0]!.id, [], T0, LEASE_MS);
    if (!claim) return null;
    ctx.store.leases.completeJob(claim.job.id, claim.token, { status: outcome, exitCode: outcome === 'success' ? 0 : 1 }, T0 + 1);
    advanceRun(ctx.store, run.id);
    return claim.job.name;
  };
  return { ...ctx, run, status, finishNext };
}

describe('the scheduler', () => {
  it('lets a job go only after everything it needs succeeded', () => {
    const { finishNext, status } = setup([plannedJob('build'), plannedJob('test', { needs: ['build'] }), plannedJob('deploy', { needs: ['test'] })]);
    expect(finishNext('success')).toBe('build');
    expect(status()).toMatchObject({ build: 'success', test: 'queued', deploy: 'queued' });
    expect(finishNext('success')).toBe('test');
    expect(finishNext('success')).toBe('deploy');
    expect(finishNext('success')).toBeNull();
  });

  it('skips the jobs after a failure, down the whole graph, and the run fails', () => {
    const { finishNext, status, store, run } = setup([plannedJob('build'), plannedJob('test', { needs: ['build'] }), plannedJob('deploy', { needs: ['test'] })]);
    finishNext('failed');
    expect(status()).toEqual({ build: 'failed', test: 'skipped', deploy: 'skipped' });
    expect(store.runs.getRun(run.id)!.status).toBe('failed');
    expect(store.runs.getRun(run.id)!.jobs[1]!.reason).toBe('a job it needs did not succeed');
  });

  it('runs a when: {status: failure} job only after a failure', () => {
    const jobs = [plannedJob('build'), plannedJob('notify', { needs: ['build'], when: { status: ['failure'] } })];
    const failed = setup(jobs);
    failed.finishNext('failed');
    expect(failed.status()).toEqual({ build: 'failed', notify: 'queued' });
    expect(failed.finishNext('success')).toBe('notify');
    const passed = setup(jobs);
    passed.finishNext('success');
    expect(passed.status()).toEqual({ build: 'success', notify: 'skipped' });
  });

  it('skips a job whose when does not match the branch, and the jobs that need it', () => {
    const { status } = setup([plannedJob('deploy', { when: { branch: ['main'] } }), plannedJob('smoke', { needs: ['deploy'] })], { branch: 'feature', ref: 'refs/heads/feature' });
    expect(status()).toEqual({ deploy: 'skipped', smoke: 'skipped' });
  });

  it('holds an approval job blocked until it is approved', () => {
    const { finishNext, status, store, run } = setup([plannedJob('build'), plannedJob('prod', { needs: ['build'], approval: true })]);
    finishNext('success');
    expect(status()).toEqual({ build: 'success', prod: 'blocked' });
    expect(finishNext('success')).toBeNull();
    const prod = store.runs.getRun(run.id)!.jobs[1]!;
    expect(store.jobs.approveJob(prod.id)).toBe(true);
    advanceRun(store, run.id);
    expect(finishNext('success')).toBe('prod');
    expect(store.runs.getRun(run.id)!.status).toBe('success');
  });

  it('runs an approved job that needs nothing (it is not sent back to blocked)', () => {
    const { finishNext, status, store, run } = setup([plannedJob('prod', { approval: true })]);
    expect(status()).toEqual({ prod: 'blocked' });
    expect(store.jobs.approveJob(store.runs.getRun(run.id)!.jobs[0]!.id)).toBe(true);
    advanceRun(store, run.id);
    expect(status()).toEqual({ prod: 'queued' });
    expect(finishNext('success')).toBe('prod');
    expect(store.runs.getRun(run.id)!.status).toBe('success');
  });

  it('treats a failed job that may fail as done for the jobs after it', () => {
    const { finishNext, status } = setup([plannedJob('lint', { allowFailure: true }), plannedJob('test', { needs: ['lint'] })]);
    finishNext('failed');
    expect(status()).toEqual({ lint: 'failed', test: 'queued' });
    expect(finishNext('success')).toBe('test');
  });

  it('uses the changed files for when.paths', () => {
    const jobs = [plannedJob('api', { when: { paths: ['api/**'] } }), plannedJob('web', { when: { paths: ['web/**'] } })];
    expect(setup(jobs, { changedPaths: ['api/server.ts'] }).status()).toEqual({ api: 'queued', web: 'skipped' });
  });
});
