// A job's log: lines from raw output, in order, masked, chunked with gapless seq, capped.
import { describe, expect, it } from 'vitest';
import { FRAME_HEAD_BYTES, lineFrameBytes, type LogChunk, type LogLine } from '../../../agent/logs/chunk.js';
import { createJobLog, type JobLogOptions } from '../../../agent/logs/job-log.js';

function recorder(options: Partial<JobLogOptions> = {}) {
  const chunks: LogChunk[] = [];
  const log = createJobLog({ jobId: 1, attempt: 2, onChunk: (c) => chunks.push(c), ...options });
  const lines = (): LogLine[] => chunks.flatMap((c) => c.lines);
  const texts = () => lines().map((l) => l.text);
  return { log, chunks, lines, texts };
}

/** Cuts `bytes` into pieces of pseudo-random sizes (1..max), the same every run. */
function cut(bytes: Buffer, max: number): Buffer[] {
  const pieces: Buffer[] = [];
  let seed = 7;
  for (let at = 0; at < bytes.length;) {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    const size = 1 + (seed % max);
    pieces.push(bytes.subarray(at, at + size));
    at += size;
  }
  return pieces;
}

describe('job log', () => {
  it('keeps every line once, in order, across buffers cut anywhere and chunks numbered 0, 1, 2…', () => {
    const { log, chunks, texts } = recorder({ maxChunkBytes: 1024 });
    const expected = Array.from({ length: 5000 }, (_, i) => `line ${i} ${'x'.repeat(i % 37)}`);
    for (const piece of cut(Buffer.from(expected.map((l) => `${l}\n`).join('')), 300)) log.write(0, 'stdout', piece);
    log.close();
    expect(texts()).toEqual(expected);
    expect(chunks.map((c) => c.seq)).toEqual(chunks.map((_, i) => i));
    expect(chunks.length).toBeGreaterThan(10);
    expect(chunks[0]).toMatchObject({ jobId: 1, attempt: 2 });
    expect(JSON.parse(JSON.stringify(chunks))).toEqual(chunks);
  });

  it('keeps each line with its stream, step and the time its first byte arrived', () => {
    let now = 1000;
    const { log, lines } = recorder({ now: () => now });
    log.write(0, 'stdout', 'hel');
    now = 2000;
    log.write(0, 'stdout', 'lo\nwor');
    log.write(0, 'stderr', 'oops\n');
    now = 3000;
    log.write(0, 'stdout', 'ld\n');
    log.close();
    expect(lines()).toEqual([
      { t: 1000, stream: 'stdout', step: 0, text: 'hello' },
      { t: 2000, stream: 'stderr', step: 0, text: 'oops' },
      { t: 2000, stream: 'stdout', step: 0, text: 'world' },
    ]);
  });

  it('emits a last line without newline when its step ends, when the next step writes, or at close', () => {
    const { log, texts } = recorder();
    log.write(0, 'stdout', 'no newline');
    log.endStep(0);
    log.write(1, 'stdout', 'also none');
    log.write(2, 'system', '▶ three\n');
    log.write(2, 'stderr', 'last');
    log.close();
    expect(texts()).toEqual(['no newline', 'also none', '▶ three', 'last']);
  });

  it('keeps ANSI escapes and carriage returns byte for byte, and characters cut between buffers', () => {
    const { log, texts } = recorder();
    const bytes = Buffer.from('\u001b[1;32m✔ ok\u001b[0m\r\nprogress 50%\rprogress 100%\nécole\n');
    for (const piece of cut(bytes, 2)) log.write(0, 'stdout', piece);
    log.close();
    expect(texts()).toEqual(['\u001b[1;32m✔ ok\u001b[0m\r', 'progress 50%\rprogress 100%', 'école']);
  });

  it('cuts very long lines into pieces of maxLineChars', () => {
    const { log, texts } = recorder({ maxLineChars: 100 });
    log.write(0, 'stdout', `${'a'.repeat(250)}\n`);
    for (let i = 0; i < 25; i++) log.write(0, 'stdout', 'b'.repeat(10));
    log.write(0, 'stdout', '\n');
    log.close();
    expect(texts()).toEqual(['a'.repeat(100), 'a'.repeat(100), 'a'.repeat(50), 'b'.repeat(100), 'b'.repeat(100), 'b'.repeat(50)]);
  });

  it('sends a chunk after flushMs without waiting for more output', async () => {
    const { log, chunks } = recorder({ flushMs: 20 });
    log.write(0, 'stdout', 'one\n');
    expect(chunks).toEqual([]);
    await new Promise((resolve) => setTimeout(resolve, 80));
    expect(chunks.map((c) => c.lines.map((l) => l.text))).toEqual([['one']]);
    log.close();
  });

  it('stops at the cap with one truncation line, drops the rest, and does not throw', () => {
    const { log, lines } = recorder({ capBytes: 1000, maxChunkBytes: 100 });
    for (let i = 0; i < 100; i++) log.write(0, 'stdout', `${String(i).padStart(49, '.')}\n`);
    log.write(1, 'system', '▶ next step\n');
    log.close();
    expect(log.truncated).toBe(true);
    const all = lines();
    expect(all.slice(0, -1).map((l) => l.text)).toEqual(Array.from({ length: 20 }, (_, i) => String(i).padStart(49, '.')));
    expect(all.at(-1)).toMatchObject({ stream: 'system', text: expect.stringMatching(/log reached its 1000 bytes limit/) });
    expect(all.filter((l) => l.stream === 'system')).toHaveLength(1);
  });

  it('says the default cap in MiB', () => {
    const { log, lines } = recorder();
    const block = Buffer.from(`${'x'.repeat(1023)}\n`.repeat(1024));
    for (let i = 0; i < 17; i++) log.write(0, 'stdout', block);
    log.close();
    expect(lines().at(-1)!.text).toContain('16 MiB limit');
  });

  it('masks every occurrence of a secret, even when cut across buffers, and each line of a multi-line secret', () => {
    const { log, texts } = recorder({ secrets: ['hunter2', 'ab', '-----KEY-----\nc2VjcmV0a2V5', ''] });
    log.write(0, 'stdout', 'pw=hunter2 again hunter2 x\n');
    log.write(0, 'stdout', 'split hun');
    log.write(0, 'stdout', 'ter2 end\nab-abc\n-----KEY-----\nc2VjcmV0a2V5\n');
    log.write(0, 'system', '▶ echo hunter2\n');
    log.close();
    expect(texts()).toEqual(['pw=*** again *** x', 'split *** end', '***-***c', '***', '***', '▶ echo ***']);
  });

  it('masks a secret that straddles the cut of a very long line', () => {
    const { log, texts } = recorder({ maxLineChars: 100, secrets: ['SECRETVALUE'] });
    log.write(0, 'stdout', `${'a'.repeat(95)}SECRET`);
    log.write(0, 'stdout', 'VALUE tail\n');
    log.close();
    expect(texts().join('')).toBe(`${'a'.repeat(95)}*** tail`);
  });

  it('ignores writes after close', () => {
    const { log, chunks } = recorder();
    log.write(0, 'stdout', 'a\n');
    log.close();
    log.write(0, 'stdout', 'b\n');
    log.close();
    expect(chunks.flatMap((c) => c.lines.map((l) => l.text))).toEqual(['a']);
  });

  it('measures a line as JSON.stringify writes it in a frame, escapes and all', () => {
    const texts = ['', 'plain', '1', 'say "hi"', 'C:\\dir\\', '\u001b[32mgreen\u001b[0m', 'tab\tcr\r', 'école €', '😀', '\ud800 lone', '\u2028'];
    for (const text of texts) {
      for (const line of [{ t: 1764627093123, stream: 'stdout', step: 0, text }, { t: 12.5, stream: 'system', step: null, text }, { t: 0, stream: 'stderr', step: 12, text }] as LogLine[]) {
        expect({ text, bytes: lineFrameBytes(line, Buffer.byteLength(text)) }).toEqual({ text, bytes: Buffer.byteLength(JSON.stringify(line)) + 1 });
      }
    }
  });

  it('cuts chunks so that each one\'s log frame stays under maxFrameBytes, losing and reordering nothing', () => {
    const maxFrameBytes = 4096;
    const { log, chunks, texts } = recorder({ maxFrameBytes });
    // Short lines of escapes: small as text (the 64 KiB text limit is far) but long as JSON.
    const expected = Array.from({ length: 3000 }, (_, i) => `${i} "\u001b[3${i % 8}m\\${'"'.repeat(i % 5)}`);
    log.write(0, 'stdout', expected.map((l) => `${l}\n`).join(''));
    log.close();
    expect(texts()).toEqual(expected);
    expect(chunks.length).toBeGreaterThan(20);
    for (const [i, chunk] of chunks.entries()) {
      // The frame the outbox makes of it, with the longest token and ids a frame can have.
      const frame = { type: 'log', jobId: Number.MAX_SAFE_INTEGER, token: 'a'.repeat(64), attempt: Number.MAX_SAFE_INTEGER, seq: Number.MAX_SAFE_INTEGER, lines: chunk.lines };
      expect(Buffer.byteLength(JSON.stringify(frame))).toBeLessThanOrEqual(maxFrameBytes);
      if (i < chunks.length - 1) expect(Buffer.byteLength(JSON.stringify(frame))).toBeGreaterThan(maxFrameBytes / 2); // nor cut much smaller
    }
    expect(FRAME_HEAD_BYTES).toBeGreaterThanOrEqual(Buffer.byteLength(JSON.stringify({ type: 'log', jobId: Number.MAX_SAFE_INTEGER, token: 'a'.repeat(64), attempt: Number.MAX_SAFE_INTEGER, seq: Number.MAX_SAFE_INTEGER, lines: [] })));
  });

  it('sends a line longer than maxFrameBytes alone in its chunk', () => {
    const { log, chunks } = recorder({ maxFrameBytes: 1024 });
    log.write(0, 'stdout', `short\n${'"'.repeat(2000)}\nafter\n`);
    log.close();
    expect(chunks.map((c) => c.lines.map((l) => l.text))).toEqual([['short'], ['"'.repeat(2000)], ['after']]);
  });
});
