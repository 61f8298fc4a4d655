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
    lastSeq: db.prepare<[number, number], { seq: number | null }>(
      'SELECT MAX(seq) AS seq FROM log_chunks WHERE job_id = ? AND attempt = ?',
    ),
  };

  const append = db.transaction((c: NewLogChunk): AppendResult => {
    const bytes = Buffer.byteLength(c.data, 'utf8');
    const { changes } = stmt.insert.run(c.jobId, c.attempt, c.seq, c.data, c.meta ?? '[]', countLines(c.data), bytes, c.at ?? clock.now());
    return { duplicate: changes === 0, totalBytes: stmt.bytes.get({ jobId: c.jobId, attempt: c.attempt })!.total };
  });

  return {
    appendLogChunk: (chunk) => append.immediate(chunk),
    readLog: (jobId, { attempt, fromSeq = 0 } = {}) =>
      stmt.read.all({ jobId, attempt: attempt ?? null, fromSeq }).map((r) => ({
        jobId: r.job_id, attempt: r.attempt, seq: r.seq, data: r.data, meta: r.meta, lines: r.lines,
        firstLine: r.first_line, bytes: r.bytes, createdAt: isoAlways(r.created_at),
      })),
    logBytes: (jobId, attempt) => stmt.bytes.get({ jobId, attempt: attempt ?? null })!.total,
    lastLogSeq: (jobId, attempt) => stmt.lastSeq.get(jobId, attempt)!.seq,
    logLines: (jobId, attempt) => stmt.lines.get(jobId, attempt)!.n,
  };
}
