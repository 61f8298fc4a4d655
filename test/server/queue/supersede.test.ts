// Superseded runs on the job queue, on a real SQLite store: a new push run cancels the older
// open runs of its branch through the queue's cancel path (running jobs get a `cancel` frame),
// except on the default branch, with the repo's setting off, and for other events.
import { describe, expect, it } from 'vitest';
import type { NewRun, Run } from '../../../server/store/index.js';
import { newRun, plan, plannedJob } from '../store/fixtures.js';
import { queueFixture } from './queue-fixture.js';

type Fixture = ReturnType<typeof queueFixture>;

/** Creates a run as the run starter does: the run and what the queue does with it in one commit. */
function created(fx: Fixture, over: Partial<NewRun>, ...jobs: ReturnType<typeof plannedJob>[]): Run {
  return fx.store.transaction(() => {
    const run = fx.store.runs.addRun(newRun(fx.repo.id, { plan: plan(...(jobs.length ? jobs : [plannedJob('build')])), ...over }));
    fx.queue.runCreated(run);
    return run;
  });
}

const push = (branch: string, sha = 'b'.repeat(40)): Partial<NewRun> => ({ event: 'push', ref: `refs/heads/${branch}`, branch, sha });
const runOf = (fx: Fixture, run: Run) => fx.store.runs.getRun(run.id)!;

const pr = (number: number, source: string, sha = 'd'.repeat(40)): Partial<NewRun> => ({
  event: 'pull_request', ref: `refs/kiln/pull/${number}/head`, branch: source, sha,
  pullRequest: { number, sourceBranch: source, targetBranch: 'main', fromFork: false },
});

describe('a new pull-request run', () => {
  it('cancels the older runs of the same pull request only: not another one, not the push runs of its branch', () => {
    const fx = queueFixture();
    const pushRun = created(fx, push('feature'));
    const first = created(fx, pr(5, 'feature'));
    const other = created(fx, pr(6, 'feature')); // a fork's branch of the same name, say
    const second = created(fx, pr(5, 'feature', 'e'.repeat(40)));
    expect(runOf(fx, first)).toMatchObject({ status: 'cancelled', cancelReason: `superseded by run #${second.number}` });
    expect(runOf(fx, other).cancelReason).toBeNull();
    expect(runOf(fx, pushRun).cancelReason).toBeNull();
    expect(runOf(fx, second).cancelReason).toBeNull();
  });

  it('from the default branch still supersedes (only pushes to it are all built)', () => {
    const fx = queueFixture();
    const first = created(fx, pr(7, 'main'));
    created(fx, pr(7, 'main', 'f'.repeat(40)));
    expect(runOf(fx, first).status).toBe('cancelled');
  });
});

describe('a new push run', () => {
  it('cancels the older runs of its branch: a running job is told to stop on its agent, queued and blocked ones end at once, with the reason', () => {
    const fx = queueFixture();
    const a = fx.agent('a');
    const first = created(fx, push('feature'), plannedJob('build'), plannedJob('deploy', { needs: ['build'] }), plannedJob('gate', { approval: true }));
    const held = a.link.jobs()[0]!;
    expect(runOf(fx, first)).toMatchObject({ status: 'running', jobs: [{ name: 'build', status: 'running' }, { status: 'queued' }, { status: 'blocked' }] });

    const second = created(fx, push('feature', 'c'.repeat(40)));
    expect(a.link.sent.at(-1)).toEqual({ type: 'cancel', jobId: held.jobId, reason: 'superseded by run #2' });
    expect(runOf(fx, first)).toMatchObject({
      status: 'cancelled', cancelReason: 'superseded by run #2',
      jobs: [
        { name: 'build', status: 'cancelled', reason: 'superseded by run #2' },
        { name: 'deploy', status: 'cancelled', reason: 'superseded by run #2' },
        { name: 'gate', status: 'cancelled', reason: 'superseded by run #2' },
      ],
    });
    expect(fx.events.some((e) => e.type === 'run' && e.run.id === first.id && e.run.status === 'cancelled')).toBe(true);

    // The agent's slot is the new run's once the cancelled job has stopped.
    expect(runOf(fx, second).jobs[0]!.status).toBe('queued');
    fx.done(a.link, held, 'error');
    expect(a.link.jobs().at(-1)!.runId).toBe(second.id);
    expect(runOf(fx, second)).toMatchObject({ status: 'running', cancelReason: null });
    expect(runOf(fx, first).jobs[0]!.status).toBe('cancelled'); // the late `done` changes nothing
  });

  it('cancels every older open run of the branch, and leaves other branches and ended runs alone', () => {
    const fx = queueFixture();
    const one = created(fx, push('feature'));
    const other = created(fx, push('fix'));
    const two = created(fx, push('feature'));
    expect(runOf(fx, one)).toMatchObject({ status: 'cancelled', cancelReason: 'superseded by run #3' });
    expect(runOf(fx, other).status).toBe('queued');
    fx.queue.cancelRun(two.id);
    const three = created(fx, push('feature'));
    expect(runOf(fx, two)).toMatchObject({ status: 'cancelled', cancelReason: 'cancelled' }); // ended before: not superseded again
    expect(runOf(fx, three).status).toBe('queued');
    expect(runOf(fx, other).status).toBe('queued');
  });

  it('on the repo\'s default branch cancels nothing: both runs build', () => {
    const fx = queueFixture();
    fx.agent('a', { capacity: 2 });
    const first = created(fx, push('main'));
    const second = created(fx, push('main'));
    expect(runOf(fx, first)).toMatchObject({ status: 'running', cancelReason: null });
    expect(runOf(fx, second).status).toBe('running');
  });

  it('follows the default branch the repo has now', () => {
    const fx = queueFixture();
    fx.store.repos.setDefaultBranch(fx.repo.id, 'trunk');
    const onTrunk = created(fx, push('trunk'));
    created(fx, push('trunk'));
    const onMain = created(fx, push('main'));
    created(fx, push('main'));
    expect(runOf(fx, onTrunk).status).toBe('queued');
    expect(runOf(fx, onMain)).toMatchObject({ status: 'cancelled', cancelReason: 'superseded by run #4' });
  });

  it('cancels nothing when the repo has cancel_superseded off', () => {
    const fx = queueFixture();
    fx.store.repos.updateSettings(fx.repo.id, { cancelSuperseded: false });
    const first = created(fx, push('feature'));
    created(fx, push('feature'));
    expect(runOf(fx, first)).toMatchObject({ status: 'queued', cancelReason: null });
  });

  it('as a re-run, or with a pipeline that does not validate, cancels nothing', () => {
    const fx = queueFixture();
    const first = created(fx, push('feature'));
    created(fx, { ...push('feature'), rerunOf: first.id });
    fx.store.transaction(() => {
      const broken = fx.store.runs.addRun(newRun(fx.repo.id, { ...push('feature'), plan: null, error: 'pipeline.yml:1:1: bad' }));
      fx.queue.runCreated(broken);
    });
    expect(runOf(fx, first)).toMatchObject({ status: 'queued', cancelReason: null });
  });
});

describe('runs of other events', () => {
  it('a tag, cron, manual or API run cancels nothing, and is not cancelled by a later push', () => {
    const fx = queueFixture();
    const first = created(fx, push('feature'));
    const others = [
      created(fx, { event: 'tag', ref: 'refs/tags/v1', branch: null, tag: 'v1' }),
      created(fx, { event: 'cron', ...{ ref: 'refs/heads/feature', branch: 'feature' } }),
      created(fx, { event: 'manual', ref: 'refs/heads/feature', branch: 'feature' }),
      created(fx, { event: 'api', ref: 'refs/heads/feature', branch: 'feature' }),
    ];
    expect(runOf(fx, first).status).toBe('queued');
    created(fx, push('feature'));
    expect(runOf(fx, first).status).toBe('cancelled');
    for (const run of others) expect(runOf(fx, run), run.event).toMatchObject({ status: 'queued', cancelReason: null });
  });
});
