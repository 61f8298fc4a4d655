import { describe, expect, it } from 'vitest';
import { openDatabase, parseLines } from '../../../server/store/index.js';
import { T0, newRun, seeded, textLines, trackStore } from './fixtures.js';

function setup() {
  const ctx = seeded();
  ctx.store.runs.createRun(newRun(ctx.repo.id));
  const claim = ctx.store.leases.claimNextJob(ctx.agents[0]!.id, [], T0, 30_000)!;
  return { ...ctx, jobId: claim.job.id, token: claim.token };
}

describe('job logs', () => {
  it('store replayed chunks once and read them back in order', () => {
    const { store, jobId } = setup();
    const send = (seq: number, text: string) => store.logs.appendLogLines({ jobId, attempt: 1, seq, lines: textLines(text) });
    expect(send(0, 'line 1\nline 2\n')).toMatchObject({ duplicate: false, firstLine: 0 });
    expect(send(1, 'line 3\n')).toMatchObject({ duplicate: false, firstLine: 2 });
    // The agent reconnects and replays what it thinks was not acknowledged.
    expect(send(1, 'line 3\n')).toEqual({ duplicate: true, firstLine: 3, lines: [], totalBytes: 21 });
    expect(send(0, 'line 1\nline 2\n').duplicate).toBe(true);
    expect(send(2, '\u001b[32mok\u001b[0m\n')).toMatchObject({ duplicate: false, firstLine: 3 });

    const log = store.logs.readLog(jobId, 1);
    expect(log.map((c) => c.data).join('')).toBe('line 1\nline 2\nline 3\n\u001b[32mok\u001b[0m\n');
    expect(log.map((c) => [c.seq, c.firstLine, c.lines])).toEqual([[0, 0, 2], [1, 2, 1], [2, 3, 1]]);
    expect(store.logs.readLog(jobId, 1, { fromSeq: 1 }).map((c) => [c.seq, c.firstLine])).toEqual([[1, 2], [2, 3]]);
    expect(store.logs.lastLogSeq(jobId, 1)).toBe(2);
    expect(store.logs.countLogLines(jobId, 1)).toBe(4);
  });

  it('take only seqs after the last stored one: a gap is kept, a late chunk is a duplicate', () => {
    const { store, jobId } = setup();
    const send = (seq: number) => store.logs.appendLogLines({ jobId, attempt: 1, seq, lines: textLines(`${seq}\n`) });
    expect([send(0), send(2), send(1), send(3)].map((r) => [r.duplicate, r.firstLine])).toEqual([[false, 0], [false, 1], [true, 2], [false, 2]]);
    expect(store.logs.readLog(jobId, 1).map((c) => [c.seq, c.firstLine, c.data])).toEqual([[0, 0, '0\n'], [2, 1, '2\n'], [3, 2, '3\n']]);
  });

  it('format the lines: text with newlines, meta with time, stream and step; embedded newlines split', () => {
    const { store, jobId } = setup();
    const result = store.logs.appendLogLines({
      jobId, attempt: 1, seq: 0,
      lines: [{ t: T0, stream: 'stdout', step: 0, text: 'one' }, { t: T0 + 1.5, stream: 'system', step: null, text: 'two\r\nthree' }],
    });
    expect(result.lines.map((l) => l.text)).toEqual(['one', 'two', 'three']);
    const [chunk] = store.logs.readLog(jobId, 1);
    expect(chunk).toMatchObject({ data: 'one\ntwo\nthree\n', lines: 3, firstLine: 0, createdAt: new Date(T0).toISOString() });
    expect(parseLines(chunk!.data, chunk!.meta, chunk!.lines)).toEqual([
      { text: 'one', t: T0, stream: 'stdout', step: 0 }, { text: 'two', t: T0 + 1.5, stream: 'system', step: null }, { text: 'three', t: T0 + 1.5, stream: 'system', step: null },
    ]);
    // Meta keeps runs of equal times and of equal (stream, step), not an entry per line.
    expect(JSON.parse(chunk!.meta)).toEqual({ t: [[T0, 1], [T0 + 1.5, 2]], s: [['stdout', 0, 1], ['system', null, 2]] });
    store.logs.appendLogLines({ jobId, attempt: 1, seq: 1, lines: [] });
    expect(store.logs.readLog(jobId, 1)[1]).toMatchObject({ data: '', lines: 0, firstLine: 3 });
  });

  it('count bytes in UTF-8 per attempt, for the caller to enforce the cap', () => {
    const { store, jobId } = setup();
    expect(store.logs.appendLogLines({ jobId, attempt: 1, seq: 0, lines: textLines('é€\n') }).totalBytes).toBe(6);
    expect(store.logs.appendLogLines({ jobId, attempt: 1, seq: 1, lines: textLines('abc\n') }).totalBytes).toBe(10);
    expect(store.logs.logBytes(jobId, 1)).toBe(10);
    expect(store.logs.logBytes(jobId, 2)).toBe(0);
  });

  it('keep each attempt apart, each with its own numbering and the lease token it was claimed with', () => {
    const { store, jobId, agents, token } = setup();
    store.logs.appendLogLines({ jobId, attempt: 1, seq: 0, lines: textLines('first try\n') });
    store.leases.releaseLease(jobId, token, T0 + 1);
    const second = store.leases.claimNextJob(agents[0]!.id, [], T0 + 2, 30_000)!;
    expect(store.logs.appendLogLines({ jobId, attempt: 2, seq: 0, lines: textLines('second try\n') })).toMatchObject({ duplicate: false, firstLine: 0 });
    expect(store.logs.readLog(jobId, 2).map((c) => c.data)).toEqual(['second try\n']);
    expect(store.logs.readLog(jobId, 1).map((c) => c.data)).toEqual(['first try\n']);
    expect(store.logs.lastLogSeq(jobId, 3)).toBeNull();
    expect(store.logs.getLogCounter(jobId, 1)).toEqual({ lines: 1, bytes: 10, lastSeq: 0, leaseToken: token });
    expect(store.logs.getLogCounter(jobId, 2)).toMatchObject({ lastSeq: 0, leaseToken: second.token });
    expect(store.logs.getLogCounter(jobId, 3)).toEqual({ lines: 0, bytes: 0, lastSeq: null, leaseToken: null });
  });

  it('stamp each chunk with the time the agent gave', () => {
    const { store, jobId } = setup();
    store.logs.appendLogLines({ jobId, attempt: 1, seq: 0, lines: textLines('x\n'), at: T0 + 5 });
    expect(store.logs.readLog(jobId, 1)[0]?.createdAt).toBe(new Date(T0 + 5).toISOString());
  });

  it('read a range of lines from the chunks that hold it, skipping chunks without lines', () => {
    const { store, jobId } = setup();
    const texts = ['a\nb\nc\n', '', 'd\n', 'e\nf\n'];
    texts.forEach((text, seq) => store.logs.appendLogLines({ jobId, attempt: 1, seq, lines: textLines(text) }));
    const seqs = (from: number, to: number) => store.logs.readLogRange(jobId, 1, from, to).map((c) => c.seq);
    expect(seqs(0, 6)).toEqual([0, 2, 3]);
    expect(seqs(2, 4)).toEqual([0, 2]);
    expect(seqs(3, 4)).toEqual([2]);
    expect(seqs(4, 5)).toEqual([3]);
    expect(seqs(6, 10)).toEqual([]);
    expect(seqs(3, 3)).toEqual([]);
  });

  it('hand out one numbering to two connections writing the same attempt', () => {
    const { store, jobId, file } = setup();
    const other = trackStore(openDatabase(file));
    const firsts = [0, 1, 2, 3, 4, 5].map((seq) => (seq % 2 ? other : store).logs.appendLogLines({ jobId, attempt: 1, seq, lines: textLines('x\ny\n') }).firstLine);
    expect(firsts).toEqual([0, 2, 4, 6, 8, 10]);
    expect(store.logs.readLog(jobId, 1).map((c) => c.firstLine)).toEqual(firsts);
  });
});
