// A job's log: output of its steps → masked lines → numbered chunks, within the job's cap.
import { FRAME_HEAD_BYTES, type LogChunk, type LogLine, type LogStream, lineFrameBytes } from './chunk.js';
import { createLineSplitter, type LineSplitter } from './line-splitter.js';
import { createMasker } from './mask.js';

export interface JobLogOptions {
  jobId: number;
  attempt: number;
  /** Values replaced by `***` in every line, in every form (shared/secrets/forms.ts). */
  secrets?: readonly string[];
  /** Receives each chunk once, in `seq` order (0, 1, 2…); usually spool.append + send. */
  onChunk(chunk: LogChunk): void;
  now?: () => number;
  /** A chunk is sent when it reaches this size…; default 64 KiB. */
  maxChunkBytes?: number;
  /** …or before its `log` frame would pass this many bytes of JSON (a line alone may); default 256 KiB. */
  maxFrameBytes?: number;
  /** …or this long after its first line; default 100. */
  flushMs?: number;
  /** The job's log stops here, after one truncation line; default 16 MiB. */
  capBytes?: number;
  /** Longer lines are cut; default 64 Ki characters. */
  maxLineChars?: number;
}

/**
 * `write(step, stream, data)` takes raw output; a partial line is held until its newline,
 * until `endStep(step)`, until another step writes, or until `close()`. Lines keep their
 * bytes (ANSI, `\r`), with secrets masked. A step's line `::add-mask::VALUE` is dropped (it
 * never reaches a chunk) and VALUE is masked in the job's later lines. Past the cap, one `system` line says so and later
 * output is dropped; the job itself goes on. After `close()`, writes are ignored.
 */
export interface JobLog {
  write(step: number | null, stream: LogStream, data: Buffer | string): void;
  endStep(step: number): void;
  /** Sends the lines gathered so far as a chunk now (partial lines stay held). */
  flush(): void;
  /** Emits held partial lines and the last chunk; stops the flush timer. */
  close(): void;
  /** Whether the cap was reached. */
  readonly truncated: boolean;
}

export function createJobLog(o: JobLogOptions): JobLog {
  const now = o.now ?? Date.now;
  const maxChunkBytes = o.maxChunkBytes ?? 64 * 1024;
  // Why frames are kept small: the server holds a whole frame (bytes, text, line objects) while
  // it stores it, and short lines cost ~40 bytes of JSON each on top of their text.
  const maxLinesBytes = (o.maxFrameBytes ?? 256 * 1024) - FRAME_HEAD_BYTES;
  const flushMs = o.flushMs ?? 100;
  const capBytes = o.capBytes ?? 16 * 1024 * 1024;
  const masker = createMasker(o.secrets ?? []);
  const splitters = new Map<string, { step: number | null; splitter: LineSplitter }>();
  let lines: LogLine[] = [];
  let chunkBytes = 0;
  let frameBytes = 0;       // the chunk's lines as JSON in its frame
  let totalBytes = 0;
  let seq = 0;
  let truncated = false;
  let closed = false;
  let timer: NodeJS.Timeout | undefined;

  function addLine(line: LogLine) {
    if (truncated) return;
    // A line weighs its UTF-8 bytes and a newline against the chunk's size and the cap.
    let textBytes = Buffer.byteLength(line.text);
    if (totalBytes + textBytes + 1 > capBytes) {
      truncated = true;
      line = { t: line.t, stream: 'system', step: line.step, text: truncationText(capBytes) };
      textBytes = Buffer.byteLength(line.text);
    }
    const inFrame = lineFrameBytes(line, textBytes);
    if (lines.length > 0 && frameBytes + inFrame > maxLinesBytes) flush();
    totalBytes += textBytes + 1;
    chunkBytes += textBytes + 1;
    frameBytes += inFrame;
    lines.push(line);
    if (chunkBytes >= maxChunkBytes || frameBytes >= maxLinesBytes) flush();
    else timer ??= setTimeout(flush, flushMs);
  }

  function flush() {
    clearTimeout(timer);
    timer = undefined;
    if (lines.length === 0) return;
    const chunk: LogChunk = { jobId: o.jobId, attempt: o.attempt, seq: seq++, lines };
    lines = [];
    chunkBytes = 0;
    frameBytes = 0;
    o.onChunk(chunk);
  }

  function endSteps(keep: (step: number | null) => boolean) {
    for (const [key, { step, splitter }] of splitters) {
      if (keep(step)) continue;
      splitters.delete(key);
      splitter.end();
    }
  }

  // A step's `::add-mask::VALUE`: the value is masked from now on, and the line is not kept.
  function keepLine(line: string): boolean {
    const value = addMaskValue(line);
    if (value === null) return true;
    masker.add(value);
    return false;
  }

  function splitterFor(step: number | null, stream: LogStream): LineSplitter {
    const key = `${step}:${stream}`;
    let entry = splitters.get(key);
    if (!entry) {
      const onLine = (text: string, t: number) => addLine({ t, stream, step, text });
      const keep = stream === 'system' ? undefined : keepLine;
      entry = { step, splitter: createLineSplitter({ maxLineChars: o.maxLineChars ?? 64 * 1024, masker, now, onLine, keep }) };
      splitters.set(key, entry);
    }
    return entry.splitter;
  }

  return {
    write(step, stream, data) {
      if (closed || truncated) return;
      endSteps((s) => s === step); // steps run one at a time: a new step's output ends the last one's
      splitterFor(step, stream).push(data);
    },
    endStep(step) {
      endSteps((s) => s !== step);
    },
    flush,
    close() {
      if (closed) return;
      endSteps(() => false);
      flush();
      closed = true;
    },
    get truncated() {
      return truncated;
    },
  };
}

const ADD_MASK = /^\s*::add-mask::(.*)$/s;

/** The value of a `::add-mask::VALUE` line (surrounding blanks and a `\r` trimmed), or null. */
export function addMaskValue(line: string): string | null {
  const m = ADD_MASK.exec(line);
  return m ? m[1]!.trim() : null;
}

function truncationText(capBytes: number): string {
  const size = capBytes % (1024 * 1024) === 0 ? `${capBytes / (1024 * 1024)} MiB` : `${capBytes} bytes`;
  return `kiln: the log reached its ${size} limit; later output of this job is dropped (the job goes on)`;
}
