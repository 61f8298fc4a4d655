import { describe, expect, it } from 'vitest';
import { T0, newRun, seeded } from './fixtures.js';

function setup() {
  const ctx = seeded();
  ctx.store.runs.createRun(newRun(ctx.repo.id));
  const claim = ctx.store.leases.claimNextJob(ctx.agents[0]!.id, [], T0, 30_000)!;
  return { ...ctx, jobId: claim.job.id };
}

describe('job logs', () => {
  it('store replayed chunks once and read them back in order', () => {
    const { store, jobId } = setup();
    const send = (seq: number, data: string) => store.logs.appendLogChunk({ jobId, attempt: 1, seq, data });
    expect(send(0, 'line 1\nline 2\n').duplicate).toBe(false);
    expect(send(1, 'line 3\n').duplicate).toBe(false);
    // The agent reconnects and replays what it thinks was not acknowledged.
    expect(send(1, 'line 3\n')).toEqual({ duplicate: true, totalBytes: 21 });
    expect(send(0, 'line 1\nline 2\n').duplicate).toBe(true);
    expect(send(2, '\u001b[32mok\u001b[0m\n').duplicate).toBe(false);

    const log = store.logs.readLog(jobId);
    expect(log.map((c) => c.data).join('')).toBe('line 1\nline 2\nline 3\n\u001b[32mok\u001b[0m\n');
    expect(log.map((c) => [c.seq, c.firstLine, c.lines])).toEqual([[0, 0, 2], [1, 2, 1], [2, 3, 1]]);
    expect(store.logs.readLog(jobId, { fromSeq: 1 }).map((c) => [c.seq, c.firstLine])).toEqual([[1, 2], [2, 3]]);
    expect(store.logs.lastLogSeq(jobId, 1)).toBe(2);
  });

  it('keep chunks that arrive out of order in seq order', () => {
    const { store, jobId } = setup();
    for (const seq of [2, 0, 1]) store.logs.appendLogChunk({ jobId, attempt: 1, seq, data: `${seq}\n` });
    expect(store.logs.readLog(jobId).map((c) => c.data)).toEqual(['0\n', '1\n', '2\n']);
  });

  it('count bytes in UTF-8 per attempt, for the caller to enforce the cap', () => {
    const { store, jobId } = setup();
    expect(store.logs.appendLogChunk({ jobId, attempt: 1, seq: 0, data: 'é€\n' }).totalBytes).toBe(6);
    expect(store.logs.appendLogChunk({ jobId, attempt: 1, seq: 1, data: 'abc' }).totalBytes).toBe(9);
    expect(store.logs.logBytes(jobId)).toBe(9);
    expect(store.logs.logBytes(jobId, 2)).toBe(0);
  });

  it('keep each attempt apart and read the current attempt by default', () => {
    const { store, jobId, agents } = setup();
    store.logs.appendLogChunk({ jobId, attempt: 1, seq: 0, data: 'first try\n' });
    const lease = store.leases.getLease(jobId)!;
    store.leases.releaseLease(jobId, lease.token, T0 + 1);
    store.leases.claimNextJob(agents[0]!.id, [], T0 + 2, 30_000);
    expect(store.logs.appendLogChunk({ jobId, attempt: 2, seq: 0, data: 'second try\n' }).duplicate).toBe(false);
    expect(store.logs.readLog(jobId).map((c) => c.data)).toEqual(['second try\n']);
    expect(store.logs.readLog(jobId, { attempt: 1 }).map((c) => c.data)).toEqual(['first try\n']);
    expect(store.logs.lastLogSeq(jobId, 3)).toBeNull();
  });

  it('stamp each chunk with the time the agent gave', () => {
    const { store, jobId } = setup();
    store.logs.appendLogChunk({ jobId, attempt: 1, seq: 0, data: 'x\n', at: T0 + 5 });
    expect(store.logs.readLog(jobId)[0]?.createdAt).toBe(new Date(T0 + 5).toISOString());
  });
});
