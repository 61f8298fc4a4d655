// The pools kiln.yml had at the last start (their settings as JSON), for telling at the next
// start what changed (server/autoscaler/pool-changes.ts).
import type { Sqlite } from './db.js';

export interface RecordedPool { pool: string; settings: string; changedAt: number }

export interface PoolSettingsStore {
  list(): RecordedPool[];
  /** Records a pool's settings (added or changed) as of `atMs`. */
  set(pool: string, settings: string, atMs: number): void;
  remove(pool: string): void;
}

export function createPoolSettingsStore(db: Sqlite): PoolSettingsStore {
  const stmt = {
    list: db.prepare<[], { pool: string; settings: string; changed_at: number }>('SELECT pool, settings, changed_at FROM pool_settings ORDER BY pool'),
    set: db.prepare<[string, string, number]>(
      'INSERT INTO pool_settings (pool, settings, changed_at) VALUES (?, ?, ?) ON CONFLICT (pool) DO UPDATE SET settings = excluded.settings, changed_at = excluded.changed_at',
    ),
    remove: db.prepare<[string]>('DELETE FROM pool_settings WHERE pool = ?'),
  };
  return {
    list: () => stmt.list.all().map((r) => ({ pool: r.pool, settings: r.settings, changedAt: r.changed_at })),
    set: (pool, settings, atMs) => void stmt.set.run(pool, settings, atMs),
    remove: (pool) => void stmt.remove.run(pool),
  };
}
