// `GET /api/jobs/:id/lines`: numbered windows of a job's log on a real store, through the real
// API app, numbered as the text log; and how fast a tail read of a 1,000,000-line log is.
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { createApi } from '../../server/api/app.js';
import { readLines } from '../../server/api/log-lines.js';
import { createEventBus } from '../../server/events.js';
import type { KilnService } from '../../server/service.js';
import { openDatabase } from '../../server/store/index.js';
import type { LogLine } from '../../shared/protocol/messages.js';
import { T0, newRun, seeded, textLines, trackStore } from './store/fixtures.js';
import { testAccess } from '../helpers/access.js';

function setup() {
  const ctx = seeded();
  ctx.store.runs.createRun(newRun(ctx.repo.id));
  const claim = ctx.store.leases.claimNextJob(ctx.agents[0]!.id, [], T0, 30_000)!;
  const app = createApi({
    store: ctx.store, bus: createEventBus(), service: {} as KilnService, logger: pino({ level: 'silent' }),
    access: testAccess(ctx.store, { private: false }),
  });
  const get = async (path: string) => {
    const response = await app.request(path);
    return { status: response.status, body: (await response.json()) as any };
  };
  const text = async (path: string) => (await app.request(path)).text();
  return { ...ctx, jobId: claim.job.id, app, get, text };
}

/** Appends `count` lines "line <n>" (1-based) in chunks of `perChunk` lines, with meta. */
function appendLines(store: ReturnType<typeof setup>['store'], jobId: number, attempt: number, count: number, perChunk: number, text = (n: number) => `line ${n}`) {
  let seq = 0;
  for (let first = 1; first <= count; first += perChunk) {
    const n = Math.min(perChunk, count - first + 1);
    const lines: LogLine[] = [];
    for (let i = 0; i < n; i++) {
      lines.push({ t: T0 + first + i, stream: (first + i) % 7 === 0 ? 'stderr' : 'stdout', step: (first + i) <= count / 2 ? 0 : 1, text: text(first + i) });
    }
    store.logs.appendLogLines({ jobId, attempt, seq: seq++, lines });
  }
}

describe('GET /api/jobs/:id/lines', () => {
  it('answers the last lines by default, with the total and the steps', async () => {
    const { store, jobId, get } = setup();
    appendLines(store, jobId, 1, 2500, 100);
    const { status, body } = await get(`/api/jobs/${jobId}/lines?limit=10`);
    expect(status).toBe(200);
    expect(body).toMatchObject({ job_id: jobId, attempt: 1, total: 2500, from: 2491 });
    expect(body.steps.map((s: { name: string }) => s.name)).toEqual(['build', 'test']);
    expect(body.lines.map((l: { n: number }) => l.n)).toEqual([2491, 2492, 2493, 2494, 2495, 2496, 2497, 2498, 2499, 2500]);
    expect(body.lines[0]).toEqual({ n: 2491, t: T0 + 2491, stream: 'stdout', step: 1, text: 'line 2491' });
    expect((await get(`/api/jobs/${jobId}/lines`)).body.lines).toHaveLength(1000);
  });

  it('answers any range, across chunk borders, clipped at the end', async () => {
    const { store, jobId, get } = setup();
    appendLines(store, jobId, 1, 2500, 7);
    const { body } = await get(`/api/jobs/${jobId}/lines?from=5&limit=20`);
    expect(body.lines.map((l: { n: number; text: string }) => [l.n, l.text])).toEqual(
      Array.from({ length: 20 }, (_, i) => [5 + i, `line ${5 + i}`]),
    );
    expect(body.lines[2]).toMatchObject({ n: 7, stream: 'stderr', step: 0 });
    expect((await get(`/api/jobs/${jobId}/lines?from=2495&limit=100`)).body.lines.map((l: { n: number }) => l.n)).toEqual([2495, 2496, 2497, 2498, 2499, 2500]);
    expect((await get(`/api/jobs/${jobId}/lines?from=3000&limit=100`)).body).toMatchObject({ total: 2500, lines: [] });
    expect((await get(`/api/jobs/${jobId}/lines?from=1&limit=99999`)).body.lines).toHaveLength(2500);
    expect((await get(`/api/jobs/${jobId}/lines?from=1&limit=1`)).body.lines).toEqual([expect.objectContaining({ n: 1, text: 'line 1' })]);
  });

  it('keeps numbering right through gaps, replays and late chunks, and when another connection writes', async () => {
    const { store, jobId, get, file } = setup();
    const line = async (n: number) => (await get(`/api/jobs/${jobId}/lines?from=${n}&limit=1`)).body.lines[0]?.text;
    const send = (seq: number, text: string) => store.logs.appendLogLines({ jobId, attempt: 1, seq, lines: textLines(text) });
    send(0, 'a\nb\n');
    expect(await line(2)).toBe('b');
    send(2, 'c\n');                         // a gap: stored after what is there
    expect(await line(3)).toBe('c');
    expect(send(1, 'late\n').duplicate).toBe(true); // behind the last seq: the server does not take it
    expect(send(0, 'a\nb\n').duplicate).toBe(true);
    expect((await get(`/api/jobs/${jobId}/lines?from=1&limit=10`)).body.lines.map((l: { text: string }) => l.text)).toEqual(['a', 'b', 'c']);
    const other = trackStore(openDatabase(file));
    expect(other.logs.appendLogLines({ jobId, attempt: 1, seq: 3, lines: textLines('d\n') }).firstLine).toBe(3);
    expect(send(4, 'e\n').firstLine).toBe(4);
    expect(await line(4)).toBe('d');
    expect((await get(`/api/jobs/${jobId}/lines?limit=2`)).body).toMatchObject({ total: 5, from: 4 });
  });

  it('caps the limit and refuses bad numbers and unknown jobs', async () => {
    const { store, jobId, get } = setup();
    appendLines(store, jobId, 1, 6000, 1000);
    expect((await get(`/api/jobs/${jobId}/lines?from=1&limit=6000`)).body.lines).toHaveLength(5000);
    expect(await get(`/api/jobs/${jobId}/lines?from=-1`)).toMatchObject({ status: 400 });
    expect(await get(`/api/jobs/${jobId}/lines?limit=x`)).toMatchObject({ status: 400 });
    expect(await get('/api/jobs/999/lines')).toMatchObject({ status: 404 });
  });

  it('reads the attempt asked for, the current one by default', async () => {
    const { store, jobId, get, agents } = setup();
    appendLines(store, jobId, 1, 30, 10, (n) => `first try ${n}`);
    const lease = store.leases.getLease(jobId)!;
    store.leases.releaseLease(jobId, lease.token, T0 + 1);
    store.leases.claimNextJob(agents[0]!.id, [], T0 + 2, 30_000);
    appendLines(store, jobId, 2, 5, 10, (n) => `second try ${n}`);
    expect((await get(`/api/jobs/${jobId}/lines`)).body).toMatchObject({ attempt: 2, total: 5, lines: expect.arrayContaining([expect.objectContaining({ n: 5, text: 'second try 5' })]) });
    expect((await get(`/api/jobs/${jobId}/lines?attempt=1&from=30&limit=1`)).body).toMatchObject({ attempt: 1, total: 30, lines: [{ n: 30, text: 'first try 30' }] });
  });

  it('finds the lines that hold a text (case-insensitive, through ANSI escapes), up to a cap', async () => {
    const { store, jobId, get } = setup();
    store.logs.appendLogLines({ jobId, attempt: 1, seq: 0, lines: textLines('compiling\n\u001b[31mERROR\u001b[0m: bad\nok\n') });
    store.logs.appendLogLines({ jobId, attempt: 1, seq: 1, lines: textLines('an error again\n\u001b[1mer\u001b[0mror split by colour\n') });
    const { body } = await get(`/api/jobs/${jobId}/lines?q=error&limit=0`);
    expect(body).toMatchObject({ total: 5, lines: [], matches: [2, 4, 5], matches_truncated: false });
    appendLines(store, jobId, 2, 3000, 500);
    const many = readLines(store, jobId, { attempt: 2, q: 'line', limit: 0 });
    expect(many.matches).toHaveLength(1000);
    expect(many.matches_truncated).toBe(true);
  });

  it('lists the step markers (system lines "▶ name") for folding, with markers=1', async () => {
    const { store, jobId, get } = setup();
    const lines: Array<[string, string, number | null]> = [['cloning', 'system', null], ['\u25b6 build', 'system', 0], ['make', 'stdout', 0], ['\u25b6 not a marker', 'stdout', 0], ['\u25b6 test', 'system', 1], ['ok', 'stdout', 1]];
    store.logs.appendLogLines({ jobId, attempt: 1, seq: 0, lines: lines.map(([text, stream, step]) => ({ t: T0, stream: stream as LogLine['stream'], step, text })) });
    const { body } = await get(`/api/jobs/${jobId}/lines?markers=1&limit=0`);
    expect(body.markers).toEqual([{ n: 2, step: 0, text: '\u25b6 build' }, { n: 5, step: 1, text: '\u25b6 test' }]);
    expect((await get(`/api/jobs/${jobId}/lines`)).body.markers).toBeUndefined();
  });

  it('numbers lines as the text log does', async () => {
    const { store, jobId, get, text } = setup();
    store.logs.appendLogLines({ jobId, attempt: 1, seq: 0, lines: textLines('a\n\u001b[32mgreen\u001b[0m\n') });
    store.logs.appendLogLines({ jobId, attempt: 1, seq: 1, lines: textLines('c\n', { stream: 'stderr', step: 0 }) });
    store.logs.appendLogLines({ jobId, attempt: 1, seq: 2, lines: [{ t: T0 + 1, stream: 'stdout', step: 1, text: 'd\ne\r\nf' }] });
    const log = (await text(`/api/jobs/${jobId}/log`)).split('\n').slice(0, -1);
    const { body } = await get(`/api/jobs/${jobId}/lines?from=1&limit=100`);
    expect(body.lines.map((l: { n: number; text: string }) => [l.n, l.text])).toEqual(log.map((line, i) => [i + 1, line]));
    expect(body.lines[0]).toEqual({ n: 1, t: T0, stream: 'stdout', step: null, text: 'a' });
    expect(body.lines[2]).toEqual({ n: 3, t: T0, stream: 'stderr', step: 0, text: 'c' });
    // A line with embedded newlines is stored as several, each with the line's time, stream and step.
    expect(body.lines.slice(3)).toEqual(['d', 'e', 'f'].map((text, i) => ({ n: 4 + i, t: T0 + 1, stream: 'stdout', step: 1, text })));
  });

  it('reads the tail of a 1,000,000-line log quickly (prints the times)', async () => {
    const { store, jobId, get } = setup();
    const started = performance.now();
    // ≈ 64 KiB chunks, as the agent cuts them: 1,000 lines of ~60 bytes each.
    appendLines(store, jobId, 1, 1_000_000, 1000, (n) => `\u001b[32m${String(n).padStart(7, '0')}\u001b[0m some build output that is about sixty bytes`);
    const appended = performance.now();
    const time = async (path: string) => {
      const t0 = performance.now();
      const answer = await get(path);
      return { ms: performance.now() - t0, body: answer.body };
    };
    const cold = await time(`/api/jobs/${jobId}/lines?limit=1000`); // the first read after the appends
    const tail = await time(`/api/jobs/${jobId}/lines?limit=1000`);
    const middle = await time(`/api/jobs/${jobId}/lines?from=500001&limit=1000`);
    const head = await time(`/api/jobs/${jobId}/lines?from=1&limit=1000`);
    const search = await time(`/api/jobs/${jobId}/lines?q=0999999&limit=0`);
    expect(tail.body.total).toBe(1_000_000);
    expect(tail.body.lines.at(-1).n).toBe(1_000_000);
    expect(middle.body.lines[0].n).toBe(500_001);
    expect(middle.body.lines[0].text).toContain('0500001');
    expect(search.body.matches).toEqual([999_999]);
    console.log(
      `1,000,000 lines in ${store.logs.readLog(jobId, 1).length} chunks (append ${(appended - started).toFixed(0)} ms): ` +
      `first tail read (cold) ${cold.ms.toFixed(1)} ms, tail 1000 lines ${tail.ms.toFixed(1)} ms, middle ${middle.ms.toFixed(1)} ms, head ${head.ms.toFixed(1)} ms, ` +
      `search the whole log ${search.ms.toFixed(0)} ms`,
    );
  }, 120_000);
});
