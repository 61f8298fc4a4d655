import { describe, expect, it } from 'vitest';
import { openDatabase } from '../../../server/store/index.js';
import { T0, newRun, plan, plannedJob, seeded, trackStore } from './fixtures.js';

const LEASE_MS = 30_000;

describe('claiming jobs', () => {
  it('hands a job to one agent only while its lease lives', () => {
    const { store, repo, agents: [a, b] } = seeded([['linux'], ['linux']]);
    const run = store.runs.createRun(newRun(repo.id));
    const claim = store.leases.claimNextJob(a!.id, ['linux'], T0, LEASE_MS);
    expect(claim).toMatchObject({ job: { id: run.jobs[0]!.id, status: 'running', attempt: 1, agent: 'agent-1' } });
    expect(store.leases.claimNextJob(b!.id, ['linux'], T0 + 1, LEASE_MS)).toBeNull();
    // Even after the deadline: an expired lease waits for the reaper, it is not up for grabs.
    expect(store.leases.claimNextJob(b!.id, ['linux'], T0 + 2 * LEASE_MS, LEASE_MS)).toBeNull();
    expect(store.agents.getAgent(a!.id)?.jobs).toEqual([run.jobs[0]!.id]);
  });

  it('never gives one job to two connections on the same file', () => {
    const { store, file, repo, agents: [a, b] } = seeded([['linux'], ['linux']]);
    const other = trackStore(openDatabase(file));
    store.runs.createRun(newRun(repo.id, { plan: plan(plannedJob('one'), plannedJob('two'), plannedJob('three')) }));
    const claims = [
      store.leases.claimNextJob(a!.id, ['linux'], T0, LEASE_MS),
      other.leases.claimNextJob(b!.id, ['linux'], T0, LEASE_MS),
      other.leases.claimNextJob(b!.id, ['linux'], T0, LEASE_MS),
      store.leases.claimNextJob(a!.id, ['linux'], T0, LEASE_MS),
    ];
    expect(claims.map((c) => c?.job.name ?? null)).toEqual(['one', 'two', 'three', null]);
    const tokens = claims.flatMap((c) => (c ? [c.token] : []));
    expect(new Set(tokens).size).toBe(3);
    for (const token of tokens) expect(token).toMatch(/^[A-Za-z0-9_-]{22}$/);
  });

  it('claims the oldest ready job first', () => {
    const { store, repo, clock, agents: [a] } = seeded();
    store.runs.createRun(newRun(repo.id, { plan: plan(plannedJob('first')) }));
    clock.advance(1000);
    store.runs.createRun(newRun(repo.id, { plan: plan(plannedJob('second')) }));
    expect(store.leases.claimNextJob(a!.id, [], T0, LEASE_MS)?.job.name).toBe('first');
    expect(store.leases.claimNextJob(a!.id, [], T0, LEASE_MS)?.job.name).toBe('second');
  });

  it('requires every runs-on label of the job among the agent labels', () => {
    const { store, repo, agents: [a] } = seeded();
    store.runs.createRun(newRun(repo.id, { plan: plan(plannedJob('gpu', { runsOn: ['linux', 'gpu'] })) }));
    expect(store.leases.claimNextJob(a!.id, ['linux'], T0, LEASE_MS)).toBeNull();
    expect(store.leases.claimNextJob(a!.id, ['gpu'], T0, LEASE_MS)).toBeNull();
    expect(store.leases.claimNextJob(a!.id, ['gpu', 'docker', 'linux'], T0, LEASE_MS)?.job.name).toBe('gpu');
  });

  it('lets a job without runs-on go to any agent', () => {
    const { store, repo, agents: [a] } = seeded();
    store.runs.createRun(newRun(repo.id));
    expect(store.leases.claimNextJob(a!.id, [], T0, LEASE_MS)).not.toBeNull();
  });

  it('holds one running job per concurrency group, server-wide', () => {
    const { store, repo, agents: [a, b] } = seeded([['linux'], ['linux']]);
    const deploy = (name: string) => plannedJob(name, { concurrency: 'production' });
    store.runs.createRun(newRun(repo.id, { plan: plan(deploy('deploy-1')) }));
    store.runs.createRun(newRun(repo.id, { plan: plan(deploy('deploy-2'), plannedJob('unrelated')) }));
    const first = store.leases.claimNextJob(a!.id, [], T0, LEASE_MS)!;
    expect(first.job.name).toBe('deploy-1');
    expect(store.leases.claimNextJob(b!.id, [], T0, LEASE_MS)?.job.name).toBe('unrelated');
    expect(store.leases.claimNextJob(b!.id, [], T0, LEASE_MS)).toBeNull();
    expect(store.jobs.listHeldGroups()).toEqual(new Set(['production']));
    store.leases.completeJob(first.job.id, first.token, { status: 'success', exitCode: 0 }, T0 + 1);
    expect(store.leases.claimNextJob(b!.id, [], T0 + 2, LEASE_MS)?.job.name).toBe('deploy-2');
  });

  it('holds the concurrency group across connections too', () => {
    const { store, file, repo, agents: [a, b] } = seeded([['linux'], ['linux']]);
    const other = trackStore(openDatabase(file));
    const p = plan(plannedJob('one', { concurrency: 'db' }), plannedJob('two', { concurrency: 'db' }));
    store.runs.createRun(newRun(repo.id, { plan: p }));
    expect(store.leases.claimNextJob(a!.id, [], T0, LEASE_MS)?.job.name).toBe('one');
    expect(other.leases.claimNextJob(b!.id, [], T0, LEASE_MS)).toBeNull();
  });

  it('does not claim a job waiting for its needs until it is marked ready', () => {
    const { store, repo, agents: [a] } = seeded();
    const run = store.runs.createRun(newRun(repo.id, { plan: plan(plannedJob('lint'), plannedJob('test', { needs: ['lint'] })) }));
    const lint = store.leases.claimNextJob(a!.id, [], T0, LEASE_MS)!;
    expect(store.leases.claimNextJob(a!.id, [], T0, LEASE_MS)).toBeNull();
    store.leases.completeJob(lint.job.id, lint.token, { status: 'success', exitCode: 0 }, T0 + 1);
    expect(store.jobs.markJobReady(run.jobs[1]!.id)).toBe(true);
    expect(store.jobs.markJobReady(run.jobs[1]!.id)).toBe(false);
    expect(store.leases.claimNextJob(a!.id, [], T0 + 2, LEASE_MS)?.job.name).toBe('test');
  });

  it('refuses an unknown agent', () => {
    const { store } = seeded();
    expect(() => store.leases.claimNextJob(12345, [], T0, LEASE_MS)).toThrow(expect.objectContaining({ code: 'not_found' }));
  });
});

describe('fencing', () => {
  it('renews a live lease, and refuses once the deadline passed', () => {
    const { store, repo, agents: [a] } = seeded();
    store.runs.createRun(newRun(repo.id));
    const { job, token } = store.leases.claimNextJob(a!.id, [], T0, LEASE_MS)!;
    expect(store.leases.renewLease(job.id, token, T0 + 20_000, LEASE_MS)).toBe(true);
    expect(store.leases.getLease(job.id)?.expiresAtMs).toBe(T0 + 50_000);
    expect(store.leases.listExpiredLeases(T0 + 49_999)).toEqual([]);
    expect(store.leases.listExpiredLeases(T0 + 50_000).map((l) => l.token)).toEqual([token]);
    expect(store.leases.renewLease(job.id, token, T0 + 50_000, LEASE_MS)).toBe(false);
  });

  it('keeps an old token from renewing or completing after the job was reclaimed', () => {
    const { store, repo, agents: [a, b] } = seeded([['linux'], ['linux']]);
    store.runs.createRun(newRun(repo.id, { plan: plan(plannedJob('build', { retry: 1 })) }));
    const old = store.leases.claimNextJob(a!.id, [], T0, LEASE_MS)!;
    const [expired] = store.leases.listExpiredLeases(T0 + LEASE_MS);
    expect(store.leases.requeueJob(expired!.jobId, expired!.token, 'agent lost', T0 + LEASE_MS)).toBe('requeued');
    const fresh = store.leases.claimNextJob(b!.id, [], T0 + LEASE_MS + 1, LEASE_MS)!;
    expect(fresh.token).not.toBe(old.token);
    expect(fresh.job).toMatchObject({ id: old.job.id, attempt: 2, agent: 'agent-2' });

    expect(store.leases.renewLease(old.job.id, old.token, T0 + LEASE_MS + 2, LEASE_MS)).toBe(false);
    expect(store.leases.completeJob(old.job.id, old.token, { status: 'failed', exitCode: 1 }, T0 + LEASE_MS + 2)).toBe(false);
    expect(store.leases.requeueJob(old.job.id, old.token, 'x', T0 + LEASE_MS + 2)).toBe('lost');
    expect(store.leases.releaseLease(old.job.id, old.token, T0 + LEASE_MS + 2)).toBe(false);
    expect(store.steps.setStepStatus(old.job.id, old.token, 0, 'running', null, T0 + LEASE_MS + 2)).toBe(false);
    expect(store.jobs.getJob(old.job.id)).toMatchObject({ status: 'running', agent: 'agent-2', attempt: 2 });

    expect(store.leases.completeJob(fresh.job.id, fresh.token, { status: 'success', exitCode: 0 }, T0 + LEASE_MS + 3)).toBe(true);
    expect(store.jobs.getJob(old.job.id)?.status).toBe('success');
  });

  it('accepts a late result while nobody reclaimed the job', () => {
    const { store, repo, agents: [a] } = seeded();
    store.runs.createRun(newRun(repo.id));
    const { job, token } = store.leases.claimNextJob(a!.id, [], T0, LEASE_MS)!;
    expect(store.leases.completeJob(job.id, token, { status: 'failed', exitCode: 2 }, T0 + 2 * LEASE_MS)).toBe(true);
    expect(store.jobs.getJob(job.id)).toMatchObject({ status: 'failed', exitCode: 2 });
    expect(store.leases.getLease(job.id)).toBeNull();
    // The reaper that listed the lease before the result came in now finds it gone.
    expect(store.leases.requeueJob(job.id, token, 'agent lost', T0 + 2 * LEASE_MS)).toBe('lost');
  });

  it('gives an expired lease a new deadline when the server starts again', () => {
    const { store, repo, agents: [a] } = seeded();
    store.runs.createRun(newRun(repo.id));
    const { job, token } = store.leases.claimNextJob(a!.id, [], T0, LEASE_MS)!;
    const restart = T0 + 10 * LEASE_MS;
    expect(store.leases.extendLeases(restart, LEASE_MS)).toBe(1);
    expect(store.leases.renewLease(job.id, token, restart + 1000, LEASE_MS)).toBe(true);
  });
});

describe('retries and releases', () => {
  it('requeues a job while retries remain, then reports exhausted and the caller ends it', () => {
    const { store, repo, agents: [a] } = seeded();
    store.runs.createRun(newRun(repo.id, { plan: plan(plannedJob('flaky', { retry: 1 })) }));
    const one = store.leases.claimNextJob(a!.id, [], T0, LEASE_MS)!;
    store.steps.setStepStatus(one.job.id, one.token, 0, 'running', null, T0 + 1);
    expect(store.leases.requeueJob(one.job.id, one.token, 'agent lost', T0 + 2)).toBe('requeued');
    expect(store.jobs.getJobWithSteps(one.job.id)).toMatchObject({
      status: 'queued', attempt: 1, retriesLeft: 0, reason: 'agent lost', startedAt: null,
      steps: [{ status: 'queued', startedAt: null }, { status: 'queued' }],
    });
    expect(store.leases.getLease(one.job.id)).toBeNull();

    const two = store.leases.claimNextJob(a!.id, [], T0 + 3, LEASE_MS)!;
    expect(two.job).toMatchObject({ attempt: 2, reason: null });
    expect(store.leases.requeueJob(two.job.id, two.token, 'agent lost', T0 + 4)).toBe('exhausted');
    expect(store.jobs.getJob(two.job.id)?.status).toBe('running');
    expect(store.leases.completeJob(two.job.id, two.token, { status: 'error', reason: 'agent lost' }, T0 + 5)).toBe(true);
    expect(store.jobs.getJob(two.job.id)).toMatchObject({ status: 'error', reason: 'agent lost' });
  });

  it('takes a released job back unstarted, at the head of the queue, without spending a retry', () => {
    const { store, repo, clock, agents: [a, b] } = seeded([['linux'], ['linux']]);
    store.runs.createRun(newRun(repo.id, { plan: plan(plannedJob('first')) }));
    clock.advance(1000);
    store.runs.createRun(newRun(repo.id, { plan: plan(plannedJob('second')) }));
    const claim = store.leases.claimNextJob(a!.id, [], T0, LEASE_MS)!;
    expect(store.leases.releaseLease(claim.job.id, claim.token, T0 + 1)).toBe(true);
    const again = store.leases.claimNextJob(b!.id, [], T0 + 2, LEASE_MS)!;
    expect(again.job).toMatchObject({ name: 'first', retriesLeft: 0, attempt: 2 });
  });
});
