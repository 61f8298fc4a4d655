// The audit log's table: who changed what, from where, and how it ended. Append-only by
// design: this module offers `append`, `list` and `sweepBefore` (the retention sweep), and
// nothing that edits a row; no API route writes here except through `append`.
import type { Sqlite } from '../store/db.js';

export type AuditOutcome = 'ok' | 'refused' | 'failed' | 'error';

export interface AuditEntry {
  at: number;
  actor: string;
  actorKind: string;
  address: string;
  action: string;
  target: string;
  outcome: AuditOutcome;
  status: number;
  detail: string;
}

export interface AuditRow extends AuditEntry {
  id: number;
}

export interface AuditFilter {
  actor?: string;
  action?: string;
  target?: string;
  outcome?: AuditOutcome;
  since?: number;
  until?: number;
  /** Only rows with a smaller id (the `next` cursor of the page before). */
  before?: number;
  limit: number;
}

export interface AuditStore {
  append(entry: AuditEntry): number;
  /** Newest first; `next` is the cursor for the older page, null at the end. */
  list(filter: AuditFilter): { rows: AuditRow[]; next: number | null };
  /** The retention sweepable: deletes up to `batch` rows older than `cutoffMs`, returns how many. */
  sweepBefore(cutoffMs: number, batch: number): number;
}

export function createAuditStore(db: Sqlite): AuditStore {
  const insert = db.prepare(`INSERT INTO audit (at, actor, actor_kind, address, action, target, outcome, status, detail)
    VALUES (@at, @actor, @actorKind, @address, @action, @target, @outcome, @status, @detail)`);
  const sweep = db.prepare('DELETE FROM audit WHERE id IN (SELECT id FROM audit WHERE at < ? ORDER BY id LIMIT ?)');
  return {
    append: (entry) => Number(insert.run({ ...entry, detail: entry.detail.slice(0, 200) }).lastInsertRowid),
    list(filter) {
      const where: string[] = [];
      const args: (string | number)[] = [];
      const add = (sql: string, value: string | number | undefined): void => {
        if (value === undefined) return;
        where.push(sql);
        args.push(value);
      };
      add('actor = ?', filter.actor);
      add('action = ?', filter.action);
      add('target = ?', filter.target);
      add('outcome = ?', filter.outcome);
      add('at >= ?', filter.since);
      add('at < ?', filter.until);
      add('id < ?', filter.before);
      const sql = `SELECT id, at, actor, actor_kind AS actorKind, address, action, target, outcome, status, detail FROM audit
        ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY id DESC LIMIT ?`;
      const rows = db.prepare(sql).all(...args, filter.limit + 1) as AuditRow[];
      const more = rows.length > filter.limit;
      if (more) rows.pop();
      return { rows, next: more ? rows[rows.length - 1]!.id : null };
    },
    sweepBefore: (cutoffMs, batch) => sweep.run(cutoffMs, batch).changes,
  };
}

/** The audit log as the retention sweeper's sweepable (setting `server.retention.audit`, default 365d). */
export const auditSweepable = (audit: AuditStore) => ({ name: 'audit', sweepBefore: (cutoffMs: number, batch: number) => audit.sweepBefore(cutoffMs, batch) });
