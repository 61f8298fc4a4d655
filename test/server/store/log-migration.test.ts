// Migration 3 on a database made at schema 2: chunks keep the numbering the old window sum
// gave them, counters start from what is stored, and a live lease's token owns its attempt.
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { MIGRATIONS, openDatabase } from '../../../server/store/index.js';
import { T0, plannedJob, tempDir, textLines, trackStore } from './fixtures.js';

/** A schema-2 file with two jobs: job 1 (attempts 1 and 2, out-of-order inserts, an empty chunk), job 2 running. */
function schema2(file: string) {
  const raw = new Database(file);
  raw.exec(MIGRATIONS[0]!);
  raw.exec(MIGRATIONS[1]!);
  raw.pragma('user_version = 2');
  raw.prepare(`INSERT INTO repos (id, name, path, created_at) VALUES (1, 'web', '/srv/web', ?)`).run(T0);
  raw.prepare(`INSERT INTO runs (id, repo_id, number, status, event, sha, created_at) VALUES (1, 1, 1, 'running', 'push', ?, ?)`).run('a'.repeat(40), T0);
  const job = JSON.stringify(plannedJob('build'));
  raw.prepare(`INSERT INTO jobs (id, run_id, idx, name, status, plan, attempt, queued_at) VALUES (1, 1, 0, 'build', 'success', ?, 2, ?)`).run(job, T0);
  raw.prepare(`INSERT INTO jobs (id, run_id, idx, name, status, plan, attempt, queued_at) VALUES (2, 1, 1, 'test', 'running', ?, 1, ?)`).run(job, T0);
  raw.prepare(`INSERT INTO agents (id, name, status, protocol, created_at) VALUES (1, 'a', 'busy', 2, ?)`).run(T0);
  raw.prepare(`INSERT INTO leases (job_id, agent_id, token, acquired_at, expires_at) VALUES (2, 1, 'live-token-0123456789', ?, ?)`).run(T0, T0 + 30_000);
  const chunk = raw.prepare('INSERT INTO log_chunks (job_id, attempt, seq, data, meta, lines, bytes, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)');
  const add = (jobId: number, attempt: number, seq: number, data: string) => {
    const n = data.split('\n').length - 1;
    chunk.run(jobId, attempt, seq, data, JSON.stringify(Array(n).fill([T0, 'stdout', 0])), n, Buffer.byteLength(data), T0 + seq);
  };
  add(1, 1, 0, 'try 1\n');
  add(1, 2, 2, 'e\n');
  add(1, 2, 0, 'a\nb\n');
  add(1, 2, 1, '');
  add(1, 2, 3, 'f\ng\né\n');
  add(2, 1, 0, 'running\n');
  raw.close();
}

describe('migration 3 (log numbering and counters)', () => {
  it('keeps the numbering of stored chunks and goes on from it', () => {
    const file = join(tempDir(), 'kiln.db');
    schema2(file);
    const store = trackStore(openDatabase(file));
    expect(store.logs.readLog(1, 2).map((c) => [c.seq, c.firstLine, c.lines])).toEqual([[0, 0, 2], [1, 2, 0], [2, 2, 1], [3, 3, 3]]);
    expect(store.logs.readLog(1, 1).map((c) => [c.seq, c.firstLine])).toEqual([[0, 0]]);
    expect(store.logs.getLogCounter(1, 2)).toEqual({ lines: 6, bytes: 13, lastSeq: 3, leaseToken: null });
    expect(store.logs.readLogRange(1, 2, 3, 4).map((c) => c.seq)).toEqual([3]);
    expect(store.logs.readLog(1, 2).map((c) => c.data).join('')).toBe('a\nb\ne\nf\ng\né\n');
    expect(store.logs.appendLogLines({ jobId: 1, attempt: 2, seq: 3, lines: textLines('again\n') }).duplicate).toBe(true);
    expect(store.logs.appendLogLines({ jobId: 1, attempt: 2, seq: 4, lines: textLines('h\n') })).toMatchObject({ duplicate: false, firstLine: 6, totalBytes: 15 });
    // The running job's live lease is the owner of its attempt's log.
    expect(store.logs.getLogCounter(2, 1)).toEqual({ lines: 1, bytes: 8, lastSeq: 0, leaseToken: 'live-token-0123456789' });
  });

});
