// The outbox of commit statuses for forges (see server/forge/outbox.ts, which sends them).

import type { Status } from '../../shared/status.js';
import type { Sqlite } from './db.js';
import { isoAlways } from './rows.js';
import type { Clock } from './types.js';

export interface OutboxStatus {
  id: number;
  repoId: number;
  runId: number;
  sha: string;
  status: Status;
  context: string;
  targetUrl: string;
  description: string;
  attempts: number;
}

export interface StatusOutbox {
  /** Adds a status unless it is the run's last one already (same status and context). */
  enqueue(entry: Omit<OutboxStatus, 'id' | 'attempts'>): boolean;
  /**
   * The statuses due now, oldest first, at most one per run: the first unsent one of its run,
   * so a run's statuses reach the forge in the order they happened.
   */
  due(limit: number): OutboxStatus[];
  markSent(id: number): void;
  /** A failed send: tried again at `nextAttemptAt` (ms). */
  markFailed(id: number, error: string, nextAttemptAt: number): void;
  /** When the next unsent status is due (ms), or null. */
  nextDue(): number | null;
  /** The repo's last failed send still unsent, for the repo page. */
  lastFailure(repoId: number): { error: string; at: string } | null;
  /**
   * Runs whose last status in the outbox is not their status now: they changed while no
   * sender listened (while the server stopped or started). Runs never reported are not listed.
   */
  staleRuns(): number[];
}

interface Row {
  id: number; repo_id: number; run_id: number; sha: string; status: Status; context: string;
  target_url: string; description: string; attempts: number;
}

const toStatus = (r: Row): OutboxStatus => ({
  id: r.id, repoId: r.repo_id, runId: r.run_id, sha: r.sha, status: r.status, context: r.context,
  targetUrl: r.target_url, description: r.description, attempts: r.attempts,
});

export function createStatusOutbox(db: Sqlite, clock: Clock): StatusOutbox {
  const stmt = {
    last: db.prepare<[number, string], { status: string }>('SELECT status FROM status_outbox WHERE run_id = ? AND context = ? ORDER BY id DESC LIMIT 1'),
    insert: db.prepare<[number, number, string, string, string, string, string, number, number]>(
      `INSERT INTO status_outbox (repo_id, run_id, sha, status, context, target_url, description, created_at, next_attempt_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    ),
    due: db.prepare<[number, number], Row>(
      `SELECT o.* FROM status_outbox o
       WHERE o.sent_at IS NULL AND o.next_attempt_at <= ?
         AND o.id = (SELECT MIN(id) FROM status_outbox f WHERE f.run_id = o.run_id AND f.sent_at IS NULL)
       ORDER BY o.id LIMIT ?`,
    ),
    sent: db.prepare<[number, number]>('UPDATE status_outbox SET sent_at = ?, last_error = NULL WHERE id = ?'),
    failed: db.prepare<[string, number, number, number]>('UPDATE status_outbox SET attempts = attempts + 1, last_error = ?, failed_at = ?, next_attempt_at = ? WHERE id = ?'),
    nextDue: db.prepare<[], number | null>('SELECT MIN(next_attempt_at) FROM status_outbox WHERE sent_at IS NULL').pluck(),
    stale: db.prepare<[], number>(
      `SELECT o.run_id FROM status_outbox o JOIN runs r ON r.id = o.run_id
       WHERE o.id IN (SELECT MAX(id) FROM status_outbox GROUP BY run_id) AND o.status <> r.status ORDER BY o.run_id`,
    ).pluck(),
    lastFailure: db.prepare<[number], { last_error: string; failed_at: number }>(
      'SELECT last_error, failed_at FROM status_outbox WHERE repo_id = ? AND sent_at IS NULL AND last_error IS NOT NULL ORDER BY failed_at DESC LIMIT 1',
    ),
  };
  return {
    enqueue(e) {
      return db.transaction(() => {
        if (stmt.last.get(e.runId, e.context)?.status === e.status) return false;
        const now = clock.now();
        stmt.insert.run(e.repoId, e.runId, e.sha, e.status, e.context, e.targetUrl, e.description, now, now);
        return true;
      })();
    },
    due: (limit) => stmt.due.all(clock.now(), limit).map(toStatus),
    markSent: (id) => void stmt.sent.run(clock.now(), id),
    markFailed: (id, error, nextAttemptAt) => void stmt.failed.run(error.slice(0, 500), clock.now(), nextAttemptAt, id),
    nextDue: () => stmt.nextDue.get() ?? null,
    staleRuns: () => stmt.stale.all(),
    lastFailure(repoId) {
      const row = stmt.lastFailure.get(repoId);
      return row ? { error: row.last_error, at: isoAlways(row.failed_at) } : null;
    },
  };
}
