// Which jobs a re-run takes: the chosen ones and everything downstream, in plan order; and the
// refusals, each with its reason.
import { describe, expect, it } from 'vitest';
import { jobsToRerun } from '../../../server/queue/rerun.js';
import type { JobState } from '../../../server/store/index.js';
import type { Status } from '../../../shared/status.js';

const job = (id: number, name: string, status: Status, needs: string[] = [], allowFailure = false): JobState =>
  ({ id, name, status, needs, ready: false, allowFailure, approval: false, when: null });

// build → test → deploy, build → docs, lint alone
const jobs = [
  job(1, 'build', 'success'), job(2, 'lint', 'failed', [], true), job(3, 'test', 'cancelled', ['build']),
  job(4, 'docs', 'error', ['build']), job(5, 'deploy', 'skipped', ['test']),
];
const run = { id: 7, number: 3, repo: 'web', status: 'failed' as Status };

describe('jobsToRerun', () => {
  it('takes every job for a whole re-run', () => {
    expect(jobsToRerun(run, jobs, { kind: 'all' })).toEqual([1, 2, 3, 4, 5]);
  });

  it('takes failed, cancelled and errored jobs and what needs them, not the ones that passed', () => {
    expect(jobsToRerun(run, jobs, { kind: 'failed' })).toEqual([2, 3, 4, 5]);
  });

  it('takes one job and its dependents, transitively', () => {
    expect(jobsToRerun(run, jobs, { kind: 'job', jobId: 1 })).toEqual([1, 3, 4, 5]);
    expect(jobsToRerun(run, jobs, { kind: 'job', jobId: 3 })).toEqual([3, 5]);
  });

  it('refuses a job whose need did not succeed (an allowed failure counts as passed)', () => {
    expect(() => jobsToRerun(run, jobs, { kind: 'job', jobId: 5 })).toThrow('job "deploy" needs "test", which ended cancelled');
    const allowed = [job(1, 'lint', 'failed', [], true), job(2, 'report', 'failed', ['lint'])];
    expect(jobsToRerun(run, allowed, { kind: 'job', jobId: 2 })).toEqual([2]);
  });

  it('refuses a run that has not ended, a run with nothing failed, and a job of another run', () => {
    expect(() => jobsToRerun({ ...run, status: 'running' }, jobs, { kind: 'all' })).toThrow('run web#3 has not ended yet (running)');
    expect(() => jobsToRerun(run, [job(1, 'build', 'success')], { kind: 'failed' })).toThrow('has no failed, cancelled or errored jobs');
    expect(() => jobsToRerun(run, jobs, { kind: 'job', jobId: 99 })).toThrow('job 99 is not a job of run web#3');
  });
});
