// The outbox of notifications (see server/notify/sender.ts, which delivers them), and what
// the notifier reads to decide them: a run's and a repo's `notify:` rules, and the previous
// outcome on a branch (for `fixed`).

import type { NotifyEvent, NotifyRule, NotifyTarget } from '../../shared/pipeline/notify.js';
import type { Status } from '../../shared/status.js';
import type { Sqlite } from './db.js';
import { isoAlways } from './rows.js';
import type { Clock } from './types.js';

export interface OutboxNotification {
  id: number;
  repoId: number;
  runId: number | null;
  event: NotifyEvent;
  target: NotifyTarget;
  /** The JSON payload (the webhook's body; the text of slack and email is made from it). */
  payload: string;
  attempts: number;
}

/** A delivery as the API and the repo page show it: the target without its URL's path (a Slack URL is a credential). */
export interface NotificationView {
  id: number;
  runId: number | null;
  event: NotifyEvent;
  target: string;
  status: 'pending' | 'retrying' | 'sent';
  attempts: number;
  lastError: string | null;
  createdAt: string;
  sentAt: string | null;
  nextAttemptAt: string | null;
}

export interface NewNotification {
  repoId: number;
  runId: number;
  /** Unique per (rule, event, run attempt): the same event enqueued again adds nothing. */
  dedupe: string;
  event: NotifyEvent;
  target: NotifyTarget;
  payload: string;
}

export interface NotificationStore {
  /** Adds a delivery, due now; false when its dedupe key was enqueued already. */
  enqueue(entry: NewNotification): boolean;
  /** The deliveries due now, oldest first. */
  due(limit: number): OutboxNotification[];
  markSent(id: number): void;
  /** A failed delivery: tried again at `nextAttemptAt` (ms). */
  markFailed(id: number, error: string, nextAttemptAt: number): void;
  /** When the next unsent delivery is due (ms), or null. */
  nextDue(): number | null;
  /** The repo's recent deliveries, newest first. */
  listRecent(repoId: number, limit: number): NotificationView[];
  /** The repo's last failed delivery still unsent, for the repo page. */
  lastFailure(repoId: number): { error: string; at: string; target: string } | null;
  /** The `notify:` of the run's pipeline. */
  runRules(runId: number): NotifyRule[];
  /** The repo's own `notify:` (kiln.yml). */
  repoRules(repoId: number): NotifyRule[];
  /**
   * The outcome before this one on the run's branch: the run's own previous attempt, else the
   * last run of a lower number on the branch that succeeded, failed or errored; null: none.
   */
  previousOutcome(run: { id: number; repoId: number; branch: string | null; number: number; attempt: number }): Status | null;
}

interface Row {
  id: number; repo_id: number; run_id: number | null; event: NotifyEvent; target: string; payload: string; attempts: number;
  created_at: number; sent_at: number | null; next_attempt_at: number; last_error: string | null; failed_at: number | null;
}

/** What a target is called where people see it: `webhook https://ci.example.com`, `email ops@example.com`. */
export function describeTarget(target: NotifyTarget): string {
  if (target.kind === 'email') return `email ${target.to.join(', ')}`;
  try {
    return `${target.kind} ${new URL(target.url).origin}`;
  } catch {
    return target.kind;
  }
}

const toEntry = (r: Row): OutboxNotification => ({
  id: r.id, repoId: r.repo_id, runId: r.run_id, event: r.event, target: JSON.parse(r.target) as NotifyTarget, payload: r.payload, attempts: r.attempts,
});
const rules = (text: string | null | undefined): NotifyRule[] => (text ? JSON.parse(text) as NotifyRule[] : []);
const OUTCOMES = `('success', 'failed', 'error')`;

export function createNotificationStore(db: Sqlite, clock: Clock): NotificationStore {
  const stmt = {
    insert: db.prepare<[number, number, string, string, string, string, number, number]>(
      `INSERT INTO notify_outbox (repo_id, run_id, dedupe, event, target, payload, created_at, next_attempt_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (dedupe) DO NOTHING`,
    ),
    due: db.prepare<[number, number], Row>('SELECT * FROM notify_outbox WHERE sent_at IS NULL AND next_attempt_at <= ? ORDER BY id LIMIT ?'),
    sent: db.prepare<[number, number]>('UPDATE notify_outbox SET sent_at = ? WHERE id = ?'),
    failed: db.prepare<[string, number, number, number]>('UPDATE notify_outbox SET attempts = attempts + 1, last_error = ?, failed_at = ?, next_attempt_at = ? WHERE id = ?'),
    nextDue: db.prepare<[], number | null>('SELECT MIN(next_attempt_at) FROM notify_outbox WHERE sent_at IS NULL').pluck(),
    recent: db.prepare<[number, number], Row>('SELECT * FROM notify_outbox WHERE repo_id = ? ORDER BY id DESC LIMIT ?'),
    lastFailure: db.prepare<[number], Row>(
      'SELECT * FROM notify_outbox WHERE repo_id = ? AND sent_at IS NULL AND last_error IS NOT NULL ORDER BY failed_at DESC LIMIT 1',
    ),
    runRules: db.prepare<[number], string | null>(`SELECT json_extract(plan, '$.notify') FROM runs WHERE id = ?`).pluck(),
    repoRules: db.prepare<[number], string>('SELECT notify FROM repos WHERE id = ?').pluck(),
    previousAttempt: db.prepare<[number, number], Status>(
      `SELECT status FROM run_attempts WHERE run_id = ? AND attempt < ? AND status IN ${OUTCOMES} ORDER BY attempt DESC LIMIT 1`,
    ).pluck(),
    previousRun: db.prepare<[number, string, number], Status>(
      `SELECT status FROM runs WHERE repo_id = ? AND branch = ? AND number < ? AND status IN ${OUTCOMES} ORDER BY number DESC LIMIT 1`,
    ).pluck(),
  };
  return {
    enqueue(e) {
      const now = clock.now();
      return stmt.insert.run(e.repoId, e.runId, e.dedupe, e.event, JSON.stringify(e.target), e.payload, now, now).changes === 1;
    },
    due: (limit) => stmt.due.all(clock.now(), limit).map(toEntry),
    markSent: (id) => void stmt.sent.run(clock.now(), id),
    markFailed: (id, error, nextAttemptAt) => void stmt.failed.run(error.slice(0, 500), clock.now(), nextAttemptAt, id),
    nextDue: () => stmt.nextDue.get() ?? null,
    listRecent: (repoId, limit) => stmt.recent.all(repoId, limit).map((r) => ({
      id: r.id, runId: r.run_id, event: r.event, target: describeTarget(JSON.parse(r.target) as NotifyTarget),
      status: r.sent_at !== null ? 'sent' : r.attempts > 0 ? 'retrying' : 'pending',
      attempts: r.attempts, lastError: r.last_error, createdAt: isoAlways(r.created_at),
      sentAt: r.sent_at === null ? null : isoAlways(r.sent_at), nextAttemptAt: r.sent_at === null ? isoAlways(r.next_attempt_at) : null,
    })),
    lastFailure(repoId) {
      const row = stmt.lastFailure.get(repoId);
      return row ? { error: row.last_error!, at: isoAlways(row.failed_at!), target: describeTarget(JSON.parse(row.target) as NotifyTarget) } : null;
    },
    runRules: (runId) => rules(stmt.runRules.get(runId)),
    repoRules: (repoId) => rules(stmt.repoRules.get(repoId)),
    previousOutcome(run) {
      if (run.attempt > 1) {
        const before = stmt.previousAttempt.get(run.id, run.attempt);
        if (before) return before;
      }
      return run.branch === null ? null : stmt.previousRun.get(run.repoId, run.branch, run.number) ?? null;
    },
  };
}
