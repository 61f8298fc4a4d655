// Job logs as the agent's numbered chunks, stored once per (job, attempt, seq).

import type { Sqlite } from './db.js';
import { isoAlways } from './rows.js';
import type { Clock, LogChunk } from './types.js';

export interface NewLogChunk {
  jobId: number;
  attempt: number;
  seq: number;              // the agent's chunk number within the attempt
  data: string;
  meta?: string;            // JSON [[timeMs, stream, step], …], one per line of data
  at?: number;              // ms; when the agent produced it (default: the store's clock)
}

export interface AppendResult {
  duplicate: boolean;       // this (job, attempt, seq) was already stored: nothing was written
  totalBytes: number;       // bytes stored for the job's attempt, to enforce the log cap
}

export interface ReadLogOptions {
  attempt?: number;         // default: the job's current attempt
  fromSeq?: number;         // default 0
}

/**
 * Appending is idempotent: an agent that replays chunks after a reconnect never doubles a line.
 * The store does not cut logs; the caller checks `totalBytes` against its cap.
 */
export interface LogStore {
  appendLogChunk(chunk: NewLogChunk): AppendResult;
  /** Chunks in seq order, each with its first line's number counted from the attempt's start. */
  readLog(jobId: number, options?: ReadLogOptions): LogChunk[];
  logBytes(jobId: number, attempt?: number): number;
  /** The highest seq stored for the attempt, or null: what the server can acknowledge. */
  lastLogSeq(jobId: number, attempt: number): number | null;
  /** Lines stored for the attempt: the number of the next line. */
  logLines(jobId: number, attempt: number): number;
  /** The same count, from the kept numbering (fast for long logs once built). */
  countLogLines(jobId: number, attempt: number): number;
  /**
   * Only the chunks holding 0-based lines [fromLine, toLine) of the attempt, in seq order, with
   * their firstLine: the line numbers are summed over (seq, lines) alone, without reading data.
   */
  readLogRange(jobId: number, attempt: number, fromLine: number, toLine: number): LogChunk[];
}

interface ChunkRow {
  job_id: number; attempt: number; seq: number; data: string; meta: string; lines: number; bytes: number;
  first_line: number; created_at: number;
}

const ATTEMPT = 'coalesce(@attempt, (SELECT attempt FROM jobs WHERE id = @jobId))';

interface Query {
  jobId: number;
  attempt: number | null;
}

function countLines(data: string): number {
  let lines = 0;
  for (let i = data.indexOf('\n'); i !== -1; i = data.indexOf('\n', i + 1)) lines++;
  return lines;
}

export function createLogStore(db: Sqlite, clock: Clock): LogStore {
  const stmt = {
    insert: db.prepare<[number, number, number, string, string, number, number, number]>(
      `INSERT INTO log_chunks (job_id, attempt, seq, data, meta, lines, bytes, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (job_id, attempt, seq) DO NOTHING`,
    ),
    bytes: db.prepare<Query, { total: number }>(
      `SELECT coalesce(SUM(bytes), 0) AS total FROM log_chunks WHERE job_id = @jobId AND attempt = ${ATTEMPT}`,
    ),
    read: db.prepare<Query & { fromSeq: number }, ChunkRow>(
      `SELECT * FROM (
         SELECT job_id, attempt, seq, data, meta, lines, bytes, created_at,
           SUM(lines) OVER (ORDER BY seq ROWS UNBOUNDED PRECEDING) - lines AS first_line
         FROM log_chunks WHERE job_id = @jobId AND attempt = ${ATTEMPT}
       ) WHERE seq >= @fromSeq ORDER BY seq`,
    ),
    lines: db.prepare<[number, number], { n: number }>(
      'SELECT coalesce(SUM(lines), 0) AS n FROM log_chunks WHERE job_id = ? AND attempt = ?',
    ),
    sizes: db.prepare<[number, number], { seq: number; lines: number }>(
      'SELECT seq, lines FROM log_chunks WHERE job_id = ? AND attempt = ? ORDER BY seq',
    ),
    shape: db.prepare<[number, number], { n: number; last: number | null }>(
      'SELECT COUNT(*) AS n, MAX(seq) AS last FROM log_chunks WHERE job_id = ? AND attempt = ?',
    ),
    chunks: db.prepare<[number, number, number, number], Omit<ChunkRow, 'first_line'>>(
      `SELECT job_id, attempt, seq, data, meta, lines, bytes, created_at FROM log_chunks
       WHERE job_id = ? AND attempt = ? AND seq BETWEEN ? AND ? ORDER BY seq`,
    ),
    lastSeq: db.prepare<[number, number], { seq: number | null }>(
      'SELECT MAX(seq) AS seq FROM log_chunks WHERE job_id = ? AND attempt = ?',
    ),
  };

  // Line numbering per (job, attempt): each chunk's seq and first line, so that a window of a
  // long log reads only its own chunks. Summing `lines` in SQL walks every chunk's overflow
  // pages (the column sits after `data`); this is built once and then kept up to date by appends.
  interface Numbering { seqs: number[]; firsts: number[]; total: number }
  const numberings = new Map<string, Numbering>();
  const MAX_NUMBERINGS = 64;
  const numbering = (jobId: number, attempt: number): Numbering => {
    const key = `${jobId}:${attempt}`;
    let n = numberings.get(key);
    // Cheap check (the primary key's index alone) that nobody else wrote or deleted chunks.
    const shape = stmt.shape.get(jobId, attempt)!;
    if (n && (n.seqs.length !== shape.n || (n.seqs.at(-1) ?? null) !== shape.last)) n = undefined;
    if (n) {
      numberings.delete(key);  // most recently used last
    } else {
      n = { seqs: [], firsts: [], total: 0 };
      for (const row of stmt.sizes.all(jobId, attempt)) {
        n.seqs.push(row.seq);
        n.firsts.push(n.total);
        n.total += row.lines;
      }
      if (numberings.size >= MAX_NUMBERINGS) numberings.delete(numberings.keys().next().value!);
    }
    numberings.set(key, n);
    return n;
  };
  const appended = (c: NewLogChunk) => {
    const key = `${c.jobId}:${c.attempt}`;
    const n = numberings.get(key);
    if (!n) return;
    if (n.seqs.length > 0 && c.seq < n.seqs[n.seqs.length - 1]!) return void numberings.delete(key); // out of order: rebuild
    n.seqs.push(c.seq);
    n.firsts.push(n.total);
    n.total += countLines(c.data);
  };
  /** Index of the last chunk whose first line is <= line (0-based), or -1. */
  const chunkAt = (n: Numbering, line: number): number => {
    let lo = 0;
    let hi = n.firsts.length - 1;
    let found = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (n.firsts[mid]! <= line) {
        found = mid;
        lo = mid + 1;
      } else hi = mid - 1;
    }
    return found;
  };

  const append = db.transaction((c: NewLogChunk): AppendResult => {
    const bytes = Buffer.byteLength(c.data, 'utf8');
    const { changes } = stmt.insert.run(c.jobId, c.attempt, c.seq, c.data, c.meta ?? '[]', countLines(c.data), bytes, c.at ?? clock.now());
    return { duplicate: changes === 0, totalBytes: stmt.bytes.get({ jobId: c.jobId, attempt: c.attempt })!.total };
  });

  return {
    appendLogChunk: (chunk) => {
      const result = append.immediate(chunk);
      if (!result.duplicate) appended(chunk);
      return result;
    },
    readLog: (jobId, { attempt, fromSeq = 0 } = {}) =>
      stmt.read.all({ jobId, attempt: attempt ?? null, fromSeq }).map((r) => ({
        jobId: r.job_id, attempt: r.attempt, seq: r.seq, data: r.data, meta: r.meta, lines: r.lines,
        firstLine: r.first_line, bytes: r.bytes, createdAt: isoAlways(r.created_at),
      })),
    logBytes: (jobId, attempt) => stmt.bytes.get({ jobId, attempt: attempt ?? null })!.total,
    lastLogSeq: (jobId, attempt) => stmt.lastSeq.get(jobId, attempt)!.seq,
    logLines: (jobId, attempt) => stmt.lines.get(jobId, attempt)!.n,
    countLogLines: (jobId, attempt) => numbering(jobId, attempt).total,
    readLogRange: (jobId, attempt, fromLine, toLine) => {
      const n = numbering(jobId, attempt);
      if (n.seqs.length === 0 || toLine <= fromLine || fromLine >= n.total) return [];
      // Chunks without lines (e.g. an empty flush) are skipped by the overlap test below.
      const first = Math.max(0, chunkAt(n, Math.max(0, fromLine)));
      const last = Math.max(first, chunkAt(n, Math.min(toLine, n.total) - 1));
      const firstBySeq = new Map<number, number>();
      for (let i = first; i <= last; i++) firstBySeq.set(n.seqs[i]!, n.firsts[i]!);
      return stmt.chunks.all(jobId, attempt, n.seqs[first]!, n.seqs[last]!)
        .filter((r) => firstBySeq.has(r.seq))
        .map((r) => ({
          jobId: r.job_id, attempt: r.attempt, seq: r.seq, data: r.data, meta: r.meta, lines: r.lines,
          firstLine: firstBySeq.get(r.seq)!, bytes: r.bytes, createdAt: isoAlways(r.created_at),
        }))
        .filter((c) => c.firstLine < toLine && c.firstLine + c.lines > fromLine);
    },
  };
}
