import { describe, expect, it } from 'vitest';
import { T0, newRun, plan, plannedJob, seeded } from './fixtures.js';

const LEASE_MS = 30_000;
const iso = (ms: number) => new Date(ms).toISOString();

describe('a run follows its jobs', () => {
  it('goes queued → running → success with started_at and finished_at', () => {
    const { store, repo, agents: [a] } = seeded();
    const run = store.runs.createRun(newRun(repo.id, { plan: plan(plannedJob('lint'), plannedJob('test', { needs: ['lint'] })) }));
    expect(run).toMatchObject({ status: 'queued', startedAt: null, finishedAt: null });

    const lint = store.leases.claimNextJob(a!.id, [], T0 + 10, LEASE_MS)!;
    expect(store.runs.getRun(run.id)).toMatchObject({ status: 'running', startedAt: iso(T0 + 10), finishedAt: null });
    store.leases.completeJob(lint.job.id, lint.token, { status: 'success', exitCode: 0 }, T0 + 20);
    expect(store.runs.getRun(run.id)?.status).toBe('running');

    store.jobs.markJobReady(run.jobs[1]!.id);
    const test = store.leases.claimNextJob(a!.id, [], T0 + 30, LEASE_MS)!;
    store.leases.completeJob(test.job.id, test.token, { status: 'success', exitCode: 0 }, T0 + 40);
    expect(store.runs.getRun(run.id)).toMatchObject({ status: 'success', startedAt: iso(T0 + 10), finishedAt: iso(T0 + 40) });
  });

  it('fails when a job fails, unless the job may fail', () => {
    const { store, repo, agents: [a] } = seeded();
    const p = plan(plannedJob('may', { allowFailure: true }), plannedJob('must'));
    const run = store.runs.createRun(newRun(repo.id, { plan: p }));
    const may = store.leases.claimNextJob(a!.id, [], T0, LEASE_MS)!;
    store.leases.completeJob(may.job.id, may.token, { status: 'failed', exitCode: 1 }, T0 + 1);
    const must = store.leases.claimNextJob(a!.id, [], T0 + 2, LEASE_MS)!;
    store.leases.completeJob(must.job.id, must.token, { status: 'success', exitCode: 0 }, T0 + 3);
    expect(store.runs.getRun(run.id)?.status).toBe('success');
  });

  it('is blocked while its only open job waits for approval, and goes on when approved', () => {
    const { store, repo, agents: [a] } = seeded();
    const run = store.runs.createRun(newRun(repo.id, { plan: plan(plannedJob('deploy', { approval: true })) }));
    const id = run.jobs[0]!.id;
    expect(store.runs.getRun(run.id)?.status).toBe('blocked');
    expect(store.leases.claimNextJob(a!.id, [], T0, LEASE_MS)).toBeNull();
    expect(store.jobs.markJobReady(id)).toBe(false);
    expect(store.jobs.approveJob(id)).toBe(true);
    expect(store.jobs.approveJob(id)).toBe(false);
    expect(store.runs.getRun(run.id)?.status).toBe('queued');
    expect(store.leases.claimNextJob(a!.id, [], T0, LEASE_MS)?.job.id).toBe(id);
  });

  it('is cancelled with all its open jobs, and says which agents to stop', () => {
    const { store, repo, agents: [a] } = seeded();
    const p = plan(plannedJob('build'), plannedJob('test', { needs: ['build'] }), plannedJob('docs'));
    const run = store.runs.createRun(newRun(repo.id, { plan: p }));
    const build = store.leases.claimNextJob(a!.id, [], T0, LEASE_MS)!;
    store.steps.setStepStatus(build.job.id, build.token, 0, 'running', null, T0 + 1);
    const cancelled = store.jobs.cancelRun(run.id, 'cancelled by alice');
    expect(cancelled).toEqual([
      { jobId: build.job.id, agentId: a!.id },
      { jobId: run.jobs[1]!.id, agentId: null },
      { jobId: run.jobs[2]!.id, agentId: null },
    ]);
    const after = store.runs.getRun(run.id)!;
    expect(after.status).toBe('cancelled');
    expect(after.finishedAt).not.toBeNull();
    expect(after.jobs[0]!.steps.map((s) => s.status)).toEqual(['cancelled', 'skipped']);
    expect(after.jobs.every((j) => j.status === 'cancelled' && j.reason === 'cancelled by alice')).toBe(true);
    // The agent's lease went with the cancel: its late report changes nothing.
    expect(store.leases.completeJob(build.job.id, build.token, { status: 'success' }, T0 + 2)).toBe(false);
    expect(store.jobs.cancelRun(run.id)).toEqual([]);
  });

  it('is skipped when every job was skipped', () => {
    const { store, repo } = seeded();
    const run = store.runs.createRun(newRun(repo.id, { plan: plan(plannedJob('a'), plannedJob('b', { needs: ['a'] })) }));
    store.jobs.setJobStatus(run.jobs[0]!.id, 'skipped', { reason: 'when did not match' });
    // shared/status.ts: a skip alone does not start a run.
    expect(store.runs.getRun(run.id)?.status).toBe('queued');
    store.jobs.setJobStatus(run.jobs[1]!.id, 'skipped');
    expect(store.runs.getRun(run.id)).toMatchObject({ status: 'skipped' });
  });
});

describe('illegal transitions', () => {
  it('change nothing and return false', () => {
    const { store, repo, agents: [a] } = seeded();
    const run = store.runs.createRun(newRun(repo.id, { plan: plan(plannedJob('one'), plannedJob('two')) }));
    const [one, two] = run.jobs;
    const claim = store.leases.claimNextJob(a!.id, [], T0, LEASE_MS)!;
    store.leases.completeJob(claim.job.id, claim.token, { status: 'success', exitCode: 0 }, T0 + 1);
    const before = store.runs.getRun(run.id);

    expect(store.jobs.setJobStatus(one!.id, 'failed')).toBe(false);      // final: nothing leaves it
    expect(store.jobs.setJobStatus(one!.id, 'queued')).toBe(false);
    expect(store.jobs.setJobStatus(two!.id, 'running')).toBe(false);     // running needs a lease
    expect(store.jobs.setJobStatus(two!.id, 'success')).toBe(false);     // queued cannot succeed
    expect(store.jobs.approveJob(two!.id)).toBe(false);                  // not blocked
    expect(store.jobs.setJobStatus(999, 'cancelled')).toBe(false);
    expect(store.runs.getRun(run.id)).toEqual(before);
  });

  it('keep the server from moving a running job except to cancelled or error', () => {
    const { store, repo, agents: [a] } = seeded();
    store.runs.createRun(newRun(repo.id));
    const { job, token } = store.leases.claimNextJob(a!.id, [], T0, LEASE_MS)!;
    expect(store.jobs.setJobStatus(job.id, 'success')).toBe(false);
    expect(store.jobs.setJobStatus(job.id, 'queued')).toBe(false);
    expect(store.leases.getLease(job.id)?.token).toBe(token);
    expect(store.jobs.setJobStatus(job.id, 'error', { reason: 'image missing' })).toBe(true);
    expect(store.leases.getLease(job.id)).toBeNull();
  });

  it('apply to steps too, which also need the live lease', () => {
    const { store, repo, agents: [a] } = seeded();
    store.runs.createRun(newRun(repo.id));
    const { job, token } = store.leases.claimNextJob(a!.id, [], T0, LEASE_MS)!;
    expect(store.steps.setStepStatus(job.id, token, 0, 'success', 0, T0 + 1)).toBe(false);   // not started
    expect(store.steps.setStepStatus(job.id, token, 0, 'running', null, T0 + 1)).toBe(true);
    expect(store.steps.setStepStatus(job.id, token, 0, 'running', null, T0 + 2)).toBe(false);
    expect(store.steps.setStepStatus(job.id, token, 0, 'failed', 3, T0 + 3)).toBe(true);
    expect(store.steps.setStepStatus(job.id, token, 5, 'running', null, T0 + 3)).toBe(false);  // no such step
    expect(store.steps.listSteps(job.id)[0]).toMatchObject({
      status: 'failed', exitCode: 3, startedAt: iso(T0 + 1), finishedAt: iso(T0 + 3),
    });
    expect(store.steps.getStep(job.id, 0)).toEqual(store.steps.listSteps(job.id)[0]);
    expect(store.steps.getStep(job.id, 5)).toBeNull();
    store.leases.completeJob(job.id, token, { status: 'failed', exitCode: 3 }, T0 + 4);
    expect(store.steps.listSteps(job.id).map((s) => s.status)).toEqual(['failed', 'skipped']);
  });
});

describe('the queue view', () => {
  it('lists queued and blocked jobs, claimable ones first in claim order', () => {
    const { store, repo } = seeded();
    const p = plan(
      plannedJob('ready'),
      plannedJob('later', { needs: ['ready'] }),
      plannedJob('gate', { approval: true }),
    );
    store.runs.createRun(newRun(repo.id, { plan: p }));
    expect(store.jobs.listQueuedJobs().map((j) => [j.name, j.status, j.readyAt !== null])).toEqual([
      ['ready', 'queued', true],
      ['later', 'queued', false],
      ['gate', 'blocked', false],
    ]);
    expect(store.jobs.listReadyJobs().map((j) => j.id)).toEqual([store.jobs.listQueuedJobs()[0]!.id]);
  });
});
