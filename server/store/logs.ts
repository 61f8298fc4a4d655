// Job logs as the agent's numbered chunks: the store formats them, numbers their lines and
// keeps one counter per (job, attempt), so reads and appends never sum over earlier chunks.
//
// Which chunk is new: the agent sends an attempt's chunks in seq order and replays from the
// first one not acknowledged (acks are cumulative), so a seq at or below the last stored one
// is a replay of lines the server has. It is acknowledged and writes nothing. A gap (seq 3
// after 1) is stored after what is there; a chunk arriving after a later one is a duplicate.

import type { LogLine } from '../../shared/protocol/messages.js';
import type { Sqlite } from './db.js';
import { formatLines, splitLines } from './log-format.js';
import { isoAlways } from './rows.js';
import type { Clock, LogChunk } from './types.js';

export interface NewLogLines {
  jobId: number;
  attempt: number;
  seq: number;              // the agent's chunk number within the attempt
  lines: LogLine[];
  at?: number;              // ms; when the agent produced it (default: the first line's time, else the clock)
}

export interface AppendResult {
  duplicate: boolean;       // the server has this seq (or a later one): nothing was written
  firstLine: number;        // 0-based number of the chunk's first line; the live event's `firstLine`
  lines: LogLine[];         // the lines as stored (embedded newlines split); empty for a duplicate
  totalBytes: number;       // bytes stored for the job's attempt, to enforce the log cap
}

/** The attempt's counter: what is stored so far. */
export interface LogCounter {
  lines: number;
  bytes: number;
  lastSeq: number | null;   // null: no chunk yet
  leaseToken: string | null; // the lease token the attempt was claimed with (leases.ts writes it; null before V3)
}

/** A chunk's text and numbering, without its meta. */
export type LogText = Pick<LogChunk, 'seq' | 'data' | 'lines' | 'firstLine'>;

export interface ReadLogOptions {
  fromSeq?: number;         // default 0
}

/**
 * Appending is idempotent: an agent that replays chunks after a reconnect never doubles a
 * line, and the first line returned is the one the chunk is stored under. The store does not
 * cut logs; the caller checks `totalBytes` (or `logBytes`) against its cap.
 */
export interface LogStore {
  /** One transaction: refuse a known seq, or store the chunk at the counter's line and bump it. */
  appendLogLines(chunk: NewLogLines): AppendResult;
  getLogCounter(jobId: number, attempt: number): LogCounter;
  /** Chunks in seq order, each with its first line's number counted from the attempt's start. */
  readLog(jobId: number, attempt: number, options?: ReadLogOptions): LogChunk[];
  /** Up to `limit` chunks from `fromSeq` on, text only (no meta): for the text log, page by page. */
  readLogText(jobId: number, attempt: number, fromSeq: number, limit: number): LogText[];
  logBytes(jobId: number, attempt: number): number;
  /** The highest seq stored for the attempt, or null: what the server can acknowledge. */
  lastLogSeq(jobId: number, attempt: number): number | null;
  /** Lines stored for the attempt: the number of the next line. */
  countLogLines(jobId: number, attempt: number): number;
  /** Only the chunks holding 0-based lines [fromLine, toLine) of the attempt, in seq order. */
  readLogRange(jobId: number, attempt: number, fromLine: number, toLine: number): LogChunk[];
}

interface ChunkRow {
  job_id: number; attempt: number; seq: number; data: string; meta: string; lines: number; bytes: number;
  first_line: number; created_at: number;
}
interface CounterRow { lines: number; bytes: number; last_seq: number; lease_token: string | null }

const EMPTY: CounterRow = { lines: 0, bytes: 0, last_seq: -1, lease_token: null };
const COLUMNS = 'job_id, attempt, seq, data, meta, lines, bytes, first_line, created_at';

const toChunk = (r: ChunkRow): LogChunk => ({
  jobId: r.job_id, attempt: r.attempt, seq: r.seq, data: r.data, meta: r.meta, lines: r.lines,
  firstLine: r.first_line, bytes: r.bytes, createdAt: isoAlways(r.created_at),
});

export function createLogStore(db: Sqlite, clock: Clock): LogStore {
  const stmt = {
    counter: db.prepare<[number, number], CounterRow>(
      'SELECT lines, bytes, last_seq, lease_token FROM log_counters WHERE job_id = ? AND attempt = ?',
    ),
    insert: db.prepare<[number, number, number, string, string, number, number, number, number]>(
      `INSERT INTO log_chunks (job_id, attempt, seq, data, meta, lines, bytes, first_line, created_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    ),
    bump: db.prepare<[number, number, number, number, number]>(
      `INSERT INTO log_counters (job_id, attempt, lines, bytes, last_seq) VALUES (?, ?, ?, ?, ?)
       ON CONFLICT (job_id, attempt) DO UPDATE SET
         lines = lines + excluded.lines, bytes = bytes + excluded.bytes, last_seq = excluded.last_seq`,
    ),
    read: db.prepare<[number, number, number], ChunkRow>(
      `SELECT ${COLUMNS} FROM log_chunks WHERE job_id = ? AND attempt = ? AND seq >= ? ORDER BY seq`,
    ),
    text: db.prepare<[number, number, number, number], { seq: number; data: string; lines: number; first_line: number }>(
      `SELECT seq, data, lines, first_line FROM log_chunks WHERE job_id = ? AND attempt = ? AND seq >= ? ORDER BY seq LIMIT ?`,
    ),
    // The chunk holding `fromLine` starts at the greatest first_line <= fromLine (the index
    // answers that alone); chunks without lines (an empty flush) hold no line of any range.
    range: db.prepare<{ jobId: number; attempt: number; from: number; to: number }, ChunkRow>(
      `SELECT ${COLUMNS} FROM log_chunks
       WHERE job_id = @jobId AND attempt = @attempt AND lines > 0 AND first_line < @to AND first_line + lines > @from
         AND first_line >= coalesce((SELECT MAX(first_line) FROM log_chunks
           WHERE job_id = @jobId AND attempt = @attempt AND first_line <= @from), 0)
       ORDER BY seq`,
    ),
  };

  const counter = (jobId: number, attempt: number): CounterRow => stmt.counter.get(jobId, attempt) ?? EMPTY;

  const append = db.transaction((c: NewLogLines): AppendResult => {
    const before = counter(c.jobId, c.attempt);
    if (c.seq <= before.last_seq) return { duplicate: true, firstLine: before.lines, lines: [], totalBytes: before.bytes };
    const lines = splitLines(c.lines);
    const { data, meta, bytes } = formatLines(lines);
    const at = c.at ?? lines[0]?.t ?? clock.now();
    stmt.insert.run(c.jobId, c.attempt, c.seq, data, meta, lines.length, bytes, before.lines, at);
    stmt.bump.run(c.jobId, c.attempt, lines.length, bytes, c.seq);
    return { duplicate: false, firstLine: before.lines, lines, totalBytes: before.bytes + bytes };
  });

  return {
    // IMMEDIATE: the counter is read and bumped under the write lock, so two writers (another
    // connection) can never hand out the same first line.
    appendLogLines: (chunk) => append.immediate(chunk),
    getLogCounter: (jobId, attempt) => {
      const r = counter(jobId, attempt);
      return { lines: r.lines, bytes: r.bytes, lastSeq: r.last_seq < 0 ? null : r.last_seq, leaseToken: r.lease_token };
    },
    readLog: (jobId, attempt, { fromSeq = 0 } = {}) => stmt.read.all(jobId, attempt, fromSeq).map(toChunk),
    readLogText: (jobId, attempt, fromSeq, limit) =>
      stmt.text.all(jobId, attempt, fromSeq, limit).map((r) => ({ seq: r.seq, data: r.data, lines: r.lines, firstLine: r.first_line })),
    logBytes: (jobId, attempt) => counter(jobId, attempt).bytes,
    lastLogSeq: (jobId, attempt) => {
      const last = counter(jobId, attempt).last_seq;
      return last < 0 ? null : last;
    },
    countLogLines: (jobId, attempt) => counter(jobId, attempt).lines,
    readLogRange: (jobId, attempt, fromLine, toLine) =>
      toLine <= fromLine ? [] : stmt.range.all({ jobId, attempt, from: Math.max(0, fromLine), to: toLine }).map(toChunk),
  };
}
