// The job queue on a real SQLite store, driven by a fake clock through tick(): claims, leases,
// retries, lost agents, concurrency, and frames that must change nothing. No real lease is waited out.
import { describe, expect, it, vi } from 'vitest';
import { plannedJob } from '../store/fixtures.js';
import { LEASE_MS, queueFixture } from './queue-fixture.js';

describe('the job queue', () => {
  it('hands a job to the least loaded agent whose labels cover it, and says why others wait', () => {
    const fx = queueFixture();
    const big = fx.agent('big', { labels: ['linux', 'gpu'], capacity: 2 });
    const small = fx.agent('small', { labels: ['linux'] });
    const run = fx.run(plannedJob('train', { runsOn: ['gpu'] }), plannedJob('a'), plannedJob('b'), plannedJob('arm', { runsOn: ['arm'] }));
    expect(big.link.jobs().map((a) => a.job.name)).toEqual(['train', 'b']);
    expect(small.link.jobs().map((a) => a.job.name)).toEqual(['a']);
    const [arm] = fx.queue.queued();
    expect(arm).toMatchObject({ name: 'arm', waiting: null });
    expect(fx.queue.explain(arm!)).toBe('no connected agent has the labels [arm]');
    expect(fx.job(run.id, 'train')).toMatchObject({ status: 'running', agent: 'big', attempt: 1 });
  });

  it('publishes the run as running when its first job is handed out, once (forges get a "running" status from it)', () => {
    const fx = queueFixture();
    const run = fx.run(plannedJob('a'), plannedJob('b'));
    const runEvents = () => fx.events.flatMap((e) => (e.type === 'run' && e.run.id === run.id ? [e.run.status] : []));
    expect(runEvents()).toEqual(['queued']);
    const a = fx.agent('a', { capacity: 2 });
    expect(a.link.jobs()).toHaveLength(2);
    expect(runEvents()).toEqual(['queued', 'running']);
  });

  it('starts from the queued jobs: with nothing ready it claims nothing, however many agents are free', () => {
    const fx = queueFixture();
    for (let i = 0; i < 50; i++) fx.agent(`idle-${i}`);
    const claim = vi.spyOn(fx.store.leases, 'claimJob');
    const claimNext = vi.spyOn(fx.store.leases, 'claimNextJob');
    expect(fx.queue.dispatch()).toBe(0);
    fx.advance(1000);
    expect(claim).not.toHaveBeenCalled();
    expect(claimNext).not.toHaveBeenCalled();
  });

  it('hands the slot a finished job frees to the next job in one dispatch pass', () => {
    const fx = queueFixture();
    const a = fx.agent('a');
    fx.run(plannedJob('one'), plannedJob('two'));
    const passes = vi.spyOn(fx.queue, 'dispatch');
    fx.done(a.link, a.link.jobs()[0]!);
    expect(passes).toHaveBeenCalledTimes(1);
    expect(a.link.jobs().map((j) => j.job.name)).toEqual(['one', 'two']);
  });

  it('keeps the lease of an agent that answers, and takes back the job of one that went silent', () => {
    const fx = queueFixture();
    const a = fx.agent('a');
    const run = fx.run(plannedJob('build', { retry: 1 }));
    for (let i = 0; i < 8; i++) fx.advance(LEASE_MS / 2, a.link);
    expect(fx.job(run.id, 'build')).toMatchObject({ status: 'running', attempt: 1 });

    fx.advance(LEASE_MS + 1); // a says nothing any more
    const b = fx.agent('b');
    expect(fx.job(run.id, 'build')).toMatchObject({ status: 'running', agent: 'b', attempt: 2 });
    expect(b.link.jobs()).toHaveLength(1);

    fx.advance(LEASE_MS + 1);
    expect(fx.job(run.id, 'build')).toMatchObject({ status: 'error', reason: 'agent lost' });
    expect(fx.store.runs.getRun(run.id)!.status).toBe('error');
  });

  it('retries a failed attempt while retries are left, then ends with the last result', () => {
    const fx = queueFixture();
    const a = fx.agent('a');
    const run = fx.run(plannedJob('flaky', { retry: 1 }));
    fx.done(a.link, a.link.jobs()[0]!, 'failed');
    expect(fx.job(run.id, 'flaky')).toMatchObject({ status: 'running', attempt: 2, reason: null });
    fx.done(a.link, a.link.jobs()[1]!, 'failed');
    expect(fx.job(run.id, 'flaky')).toMatchObject({ status: 'failed', attempt: 2 });
  });

  it('runs the jobs of one concurrency group one at a time, in the order they became ready', () => {
    const fx = queueFixture();
    const agents = [fx.agent('a'), fx.agent('b'), fx.agent('c')];
    const first = fx.run(plannedJob('deploy', { concurrency: 'prod' }));
    const second = fx.run(plannedJob('deploy', { concurrency: 'prod' }));
    const other = fx.run(plannedJob('lint'));
    expect(fx.job(first.id, 'deploy').status).toBe('running');
    expect(fx.job(second.id, 'deploy').status).toBe('queued');
    expect(fx.job(other.id, 'lint').status).toBe('running');
    const waiting = fx.queue.queued();
    expect(waiting.map((j) => [j.runId, j.waiting])).toEqual([[second.id, 'concurrency']]);
    expect(fx.queue.explain(waiting[0]!)).toBe('waiting for concurrency group "prod": another job holds it');
    const holder = agents.find((x) => x.link.jobs().some((j) => j.runId === first.id))!;
    fx.done(holder.link, holder.link.jobs()[0]!);
    expect(fx.job(second.id, 'deploy').status).toBe('running');
  });

  it('says what each waiting job waits for: needs, approval, or an agent', () => {
    const fx = queueFixture();
    fx.run(plannedJob('ready'), plannedJob('later', { needs: ['ready'] }), plannedJob('gate', { approval: true }));
    const queued = fx.queue.queued();
    expect(queued.map((j) => [j.name, j.waiting])).toEqual([['ready', null], ['later', 'needs'], ['gate', 'approval']]);
    expect(queued.map((j) => fx.queue.explain(j))).toEqual([
      'no connected agent has the labels []', 'waiting for a job it needs: ready', 'waiting for approval',
    ]);
  });

  it('lets an approved job that needs nothing run', () => {
    const fx = queueFixture();
    const a = fx.agent('a');
    const run = fx.run(plannedJob('prod', { approval: true }));
    expect(fx.job(run.id, 'prod').status).toBe('blocked');
    expect(fx.queue.explain(fx.queue.queued()[0]!)).toBe('waiting for approval');
    fx.queue.approveJob(fx.job(run.id, 'prod').id);
    expect(fx.job(run.id, 'prod')).toMatchObject({ status: 'running', agent: 'a' });
    expect(() => fx.queue.approveJob(fx.job(run.id, 'prod').id)).toThrow(/is running, not blocked/);
  });

  it('takes no frame about a job from a connection that does not hold its lease, whatever token it shows', () => {
    const fx = queueFixture();
    const victim = fx.agent('victim');
    const intruder = fx.agent('intruder');
    const run = fx.run(plannedJob('build'));
    const assignment = victim.link.jobs()[0]!;
    expect(assignment.token).toMatch(/^[A-Za-z0-9_-]{22}$/);
    fx.log(intruder.link, assignment, 0, 'forged line');
    fx.done(intruder.link, assignment, 'success');
    fx.queue.receive(intruder.link, { type: 'step', jobId: assignment.jobId, token: assignment.token, index: 0, status: 'failed', exitCode: 1, at: fx.clock.now() });
    expect(fx.logText(assignment.jobId)).toBe('');
    expect(fx.job(run.id, 'build')).toMatchObject({ status: 'running', agent: 'victim' });
    expect(fx.job(run.id, 'build').steps[0]!.status).toBe('queued');

    fx.log(victim.link, assignment, 0, 'real line');
    fx.done(victim.link, assignment, 'success');
    expect(fx.logText(assignment.jobId)).toBe('real line\n');
    expect(fx.job(run.id, 'build').status).toBe('success');
  });

  it('takes late chunks of a finished job only from the agent that ran it, without doubling any', () => {
    const fx = queueFixture();
    const runner = fx.agent('runner');
    const other = fx.agent('other');
    fx.run(plannedJob('build'));
    const a = runner.link.jobs()[0] ?? other.link.jobs()[0]!;
    const [ran, stranger] = runner.link.jobs().length > 0 ? [runner, other] : [other, runner];
    fx.log(ran.link, a, 0, 'one');
    fx.done(ran.link, a);
    fx.log(ran.link, a, 0, 'one'); // a replay after a reconnect
    fx.log(ran.link, a, 1, 'two'); // the last chunk, behind the done
    fx.log(stranger.link, a, 2, 'forged');
    expect(fx.logText(a.jobId)).toBe('one\ntwo\n');
  });

  it('puts a refused assignment back in the queue with no retry spent, and sends it elsewhere', () => {
    const fx = queueFixture();
    const a = fx.agent('a');
    const run = fx.run(plannedJob('build'));
    fx.done(a.link, a.link.jobs()[0]!, 'error', { refused: true });
    expect(fx.job(run.id, 'build')).toMatchObject({ status: 'queued' });
    expect(a.link.jobs()).toHaveLength(1); // not sent straight back to the agent that refused it
    const b = fx.agent('b');
    expect(b.link.jobs().map((j) => j.jobId)).toEqual([fx.job(run.id, 'build').id]);
    expect(fx.job(run.id, 'build')).toMatchObject({ status: 'running', agent: 'b', retriesLeft: 0 });
  });

  it('gives a job back when its assignment could not be sent', () => {
    const fx = queueFixture();
    const gone = fx.agent('gone', { link: fx.link(false) });
    const run = fx.run(plannedJob('build'));
    expect(gone.link.jobs()).toHaveLength(0);
    expect(fx.job(run.id, 'build').status).toBe('queued');
    fx.queue.disconnect(gone.link);
    const b = fx.agent('b');
    expect(b.link.jobs()).toHaveLength(1);
  });

  it('binds the jobs an agent re-presents to its new connection, and ignores the replaced one', () => {
    const fx = queueFixture();
    const first = fx.agent('a');
    const run = fx.run(plannedJob('build'));
    const held = first.link.jobs()[0]!;
    const again = fx.agent('a', { jobs: [{ jobId: held.jobId, attempt: 1, token: held.token }, { jobId: 999, attempt: 1, token: 'not-the-lease-token-xx' }] });
    expect(first.link.closed).toEqual({ code: 4001, reason: 'replaced by a new connection of the same agent' });
    expect(again.link.sent[0]).toMatchObject({ type: 'welcome', keep: [held.jobId], drop: [999] });
    fx.done(first.link, held); // the old connection's frame changes nothing
    expect(fx.job(run.id, 'build').status).toBe('running');
    fx.done(again.link, held);
    expect(fx.job(run.id, 'build').status).toBe('success');
  });

  it('drops a re-presented job whose token is not the lease token', () => {
    const fx = queueFixture();
    const a = fx.agent('a');
    fx.run(plannedJob('build'));
    const held = a.link.jobs()[0]!;
    const guess = fx.agent('a', { jobs: [{ jobId: held.jobId, attempt: 1, token: 'AAAAAAAAAAAAAAAAAAAAAA' }] });
    expect(guess.link.sent[0]).toMatchObject({ type: 'welcome', keep: [], drop: [held.jobId] });
  });

  it('cancels a run: queued jobs leave the queue, running ones are told to stop and keep their slot until done', () => {
    const fx = queueFixture();
    const a = fx.agent('a');
    const run = fx.run(plannedJob('one'), plannedJob('two'));
    fx.queue.cancelRun(run.id);
    expect(fx.store.runs.getRun(run.id)!.status).toBe('cancelled');
    expect(a.link.sent.at(-1)).toEqual({ type: 'cancel', jobId: a.link.jobs()[0]!.jobId, reason: 'cancelled' });
    fx.run(plannedJob('next'));
    expect(a.link.jobs()).toHaveLength(1); // the slot is still taken by the job being stopped
    fx.done(a.link, a.link.jobs()[0]!, 'success');
    expect(a.link.jobs().map((j) => j.job.name)).toEqual(['one', 'next']);
  });

  it('stores frames that came together and acknowledges them after; a frame that fails keeps the ones before it', () => {
    const fx = queueFixture();
    const a = fx.agent('a');
    const run = fx.run(plannedJob('build'), plannedJob('test'));
    const build = a.link.jobs()[0]!;
    expect(a.link.jobs()).toHaveLength(1); // capacity 1: 'test' waits
    const at = fx.clock.now();
    const base = { jobId: build.jobId, token: build.token };
    fx.queue.receiveAll(a.link, [
      { type: 'step', ...base, index: 0, status: 'running', exitCode: null, at },
      { type: 'log', ...base, attempt: 1, seq: 0, lines: [{ t: at, stream: 'stdout', text: 'hello', step: 0 }] },
      { type: 'step', ...base, index: 0, status: 'success', exitCode: 0, at },
      { type: 'done', ...base, attempt: 1, status: 'success', exitCode: 0, reason: null, lastSeq: 0, at },
    ]);
    expect(fx.logText(build.jobId)).toBe('hello\n');
    expect(fx.events.flatMap((e) => (e.type === 'step' ? [[e.jobId, e.step.idx, e.step.status]] : []))).toEqual([[build.jobId, 0, 'running'], [build.jobId, 0, 'success']]);
    expect(fx.job(run.id, 'build')).toMatchObject({ status: 'success', steps: [{ status: 'success' }, { status: 'skipped' }] });
    // The freed slot took the next job inside the same unit; the acks follow, in frame order.
    expect(a.link.sent.slice(-3).map((m) => m.type)).toEqual(['job', 'ack', 'done-ack']);

    const next = a.link.jobs()[1]!;
    const unsubscribe = fx.bus.subscribe((event) => {
      if (event.type === 'step') throw new Error('a listener broke'); // the step frame fails
    });
    const sent = a.link.sent.length;
    const frames = [
      { type: 'log' as const, jobId: next.jobId, token: next.token, attempt: 1, seq: 0, lines: [{ t: at, stream: 'stdout' as const, text: 'kept', step: 0 }] },
      { type: 'step' as const, jobId: next.jobId, token: next.token, index: 0, status: 'running' as const, exitCode: null, at },
      { type: 'done' as const, jobId: next.jobId, token: next.token, attempt: 1, status: 'success' as const, exitCode: 0, reason: null, lastSeq: 0, at },
    ];
    expect(() => fx.queue.receiveAll(a.link, frames)).toThrow('a listener broke');
    unsubscribe();
    expect(fx.logText(next.jobId)).toBe('kept\n');
    expect(a.link.sent.slice(sent)).toEqual([{ type: 'ack', jobId: next.jobId, attempt: 1, seq: 0 }]);
    expect(fx.job(run.id, 'test')).toMatchObject({ status: 'running', steps: [{ status: 'queued' }, { status: 'queued' }] });
  });
});

