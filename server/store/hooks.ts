// Webhook deliveries: each one recorded when it arrives (before any git), deduplicated by the
// forge's delivery id, and finished with what it led to. The last deliveries of a repo are
// kept (MAX_KEPT), so a flood of deliveries cannot grow the database without end.

import type { Sqlite } from './db.js';
import { isoAlways } from './rows.js';
import type { Clock } from './types.js';

export type DeliveryStatus = 'accepted' | 'done' | 'ignored' | 'failed';

export interface Delivery {
  id: number;
  repoId: number;
  forge: string;
  event: string;
  deliveryId: string | null;
  receivedAt: string;
  status: DeliveryStatus;
  result: string | null;
  runIds: number[];
}

export interface NewDelivery {
  repoId: number;
  forge: string;
  event: string;
  deliveryId: string | null;
  status: DeliveryStatus;
  result?: string | null;
}

export interface HookStore {
  /** Records a delivery; `duplicate` (and nothing recorded) when its delivery id was seen for this repo. */
  recordDelivery(delivery: NewDelivery): { duplicate: false; delivery: Delivery } | { duplicate: true; delivery: Delivery };
  finishDelivery(id: number, status: DeliveryStatus, result: string, runIds?: number[]): void;
  /** Newest first. */
  listDeliveries(repoId: number, limit?: number): Delivery[];
}

/** Deliveries kept per repo. */
const MAX_KEPT = 500;

interface DeliveryRow {
  id: number;
  repo_id: number;
  forge: string;
  event: string;
  delivery_id: string | null;
  received_at: number;
  status: DeliveryStatus;
  result: string | null;
  run_ids: string;
}

const toDelivery = (row: DeliveryRow): Delivery => ({
  id: row.id, repoId: row.repo_id, forge: row.forge, event: row.event, deliveryId: row.delivery_id,
  receivedAt: isoAlways(row.received_at), status: row.status, result: row.result, runIds: JSON.parse(row.run_ids) as number[],
});

export function createHookStore(db: Sqlite, clock: Clock): HookStore {
  const stmt = {
    insert: db.prepare<[number, string, string, string | null, number, string, string | null], DeliveryRow>(
      `INSERT INTO hook_deliveries (repo_id, forge, event, delivery_id, received_at, status, result) VALUES (?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (repo_id, forge, delivery_id) DO NOTHING RETURNING *`,
    ),
    byDeliveryId: db.prepare<[number, string, string], DeliveryRow>('SELECT * FROM hook_deliveries WHERE repo_id = ? AND forge = ? AND delivery_id = ?'),
    finish: db.prepare<[string, string, string, number]>('UPDATE hook_deliveries SET status = ?, result = ?, run_ids = ? WHERE id = ?'),
    list: db.prepare<[number, number], DeliveryRow>('SELECT * FROM hook_deliveries WHERE repo_id = ? ORDER BY id DESC LIMIT ?'),
    trim: db.prepare<[number, number, number]>(
      'DELETE FROM hook_deliveries WHERE repo_id = ? AND id <= (SELECT id FROM hook_deliveries WHERE repo_id = ? ORDER BY id DESC LIMIT 1 OFFSET ?)',
    ),
  };
  const record = db.transaction((d: NewDelivery) => {
    const row = stmt.insert.get(d.repoId, d.forge, d.event, d.deliveryId, clock.now(), d.status, d.result ?? null);
    if (!row) return { duplicate: true as const, delivery: toDelivery(stmt.byDeliveryId.get(d.repoId, d.forge, d.deliveryId!)!) };
    stmt.trim.run(d.repoId, d.repoId, MAX_KEPT);
    return { duplicate: false as const, delivery: toDelivery(row) };
  });
  return {
    recordDelivery: (delivery) => record(delivery),
    finishDelivery: (id, status, result, runIds = []) => void stmt.finish.run(status, result, JSON.stringify(runIds), id),
    listDeliveries: (repoId, limit = 50) => stmt.list.all(repoId, limit).map(toDelivery),
  };
}
