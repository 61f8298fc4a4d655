// Pool changes: kiln.yml's pools are read at each start; what differs from the pools the last
// start recorded is a change, written to the audit log as `pool.change` by `kiln.yml` on
// `pool/NAME`, its detail saying what changed ("added (process, min 0, max 2)", "max 2 → 4",
// "removed"). A start that changes nothing records nothing.
import type { PoolConfig } from '../config.js';
import type { RecordedPool, Store } from '../store/index.js';

export interface PoolChange {
  pool: string;
  /** The pool's settings now (JSON), or null: removed. */
  settings: string | null;
  detail: string;
}

/** What is recorded of a pool: its settings, with only the names of its Docker environment (values may be secret). */
export function poolSettings(pool: PoolConfig): Record<string, unknown> {
  return {
    provider: pool.provider, labels: [...pool.labels], min: pool.min, max: pool.max, capacity: pool.capacity,
    idle_timeout_ms: pool.idleTimeoutMs, schedule: pool.schedule.map((s) => ({ cron: s.cron, min: s.min })),
    docker: pool.docker ? { host: pool.docker.host, image: pool.docker.image, network: pool.docker.network, env: Object.keys(pool.docker.env).sort() } : null,
  };
}

const shown = (value: unknown): string => (typeof value === 'string' || typeof value === 'number' ? String(value) : JSON.stringify(value));

/** The changes from the recorded pools to the configured ones: added and changed in kiln.yml's order, then removed. Pure. */
export function poolChanges(configured: readonly PoolConfig[], recorded: readonly RecordedPool[]): PoolChange[] {
  const before = new Map(recorded.map((r) => [r.pool, r.settings]));
  const changes: PoolChange[] = [];
  for (const pool of configured) {
    const settings = poolSettings(pool);
    const text = JSON.stringify(settings);
    const old = before.get(pool.name);
    before.delete(pool.name);
    if (old === text) continue;
    if (old === undefined) {
      changes.push({ pool: pool.name, settings: text, detail: `added (${pool.provider}, min ${pool.min}, max ${pool.max})` });
      continue;
    }
    const was = JSON.parse(old) as Record<string, unknown>;
    const diff = Object.keys(settings).filter((k) => JSON.stringify(was[k]) !== JSON.stringify(settings[k]))
      .map((k) => `${k} ${shown(was[k])} → ${shown(settings[k])}`);
    changes.push({ pool: pool.name, settings: text, detail: diff.join('; ') });
  }
  for (const name of before.keys()) changes.push({ pool: name, settings: null, detail: 'removed' });
  return changes;
}

/** Records what kiln.yml changed at this start (the pools and their audit entries, in one transaction); returns the changes. */
export function recordPoolChanges(store: Store, configured: readonly PoolConfig[], atMs: number): PoolChange[] {
  return store.transaction(() => {
    const changes = poolChanges(configured, store.pools.list());
    for (const change of changes) {
      if (change.settings === null) store.pools.remove(change.pool);
      else store.pools.set(change.pool, change.settings, atMs);
      store.audit.append({
        at: atMs, actor: 'kiln.yml', actorKind: 'config', address: 'local', action: 'pool.change',
        target: `pool/${change.pool}`, outcome: 'ok', status: 0, detail: change.detail,
      });
    }
    return changes;
  });
}
