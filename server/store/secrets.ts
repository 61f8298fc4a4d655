// Per-repo secrets: written and deleted by name, read back only as values to inject into jobs.
// Values are sealed (sealing.ts) before they reach SQLite.

import type { Sqlite } from './db.js';
import { secretContext, type Sealing } from './sealing.js';
import type { Clock } from './types.js';

/** Values leave the store only through `getSecretValues`, for the jobs that name them. */
export interface SecretStore {
  setSecret(repoId: number, name: string, value: string): void;
  deleteSecret(repoId: number, name: string): boolean;
  listSecretNames(repoId: number): string[];
  /** The values of those of `names` that exist, by name. */
  getSecretValues(repoId: number, names: readonly string[]): Record<string, string>;
}

export function createSecretStore(db: Sqlite, clock: Clock, sealing: Sealing): SecretStore {
  const stmt = {
    upsert: db.prepare<[number, string, string, number]>(
      `INSERT INTO secrets (repo_id, name, value, sealed, updated_at) VALUES (?, ?, ?, 1, ?)
       ON CONFLICT (repo_id, name) DO UPDATE SET value = excluded.value, sealed = 1, updated_at = excluded.updated_at`,
    ),
    remove: db.prepare<[number, string]>('DELETE FROM secrets WHERE repo_id = ? AND name = ?'),
    names: db.prepare<[number], string>('SELECT name FROM secrets WHERE repo_id = ? ORDER BY name').pluck(),
    values: db.prepare<[number, string], { name: string; value: string }>(
      'SELECT name, value FROM secrets WHERE repo_id = ? AND name IN (SELECT value FROM json_each(?))',
    ),
  };

  return {
    setSecret: (repoId, name, value) => void stmt.upsert.run(repoId, name, sealing.seal(value, secretContext(repoId, name)), clock.now()),
    deleteSecret: (repoId, name) => stmt.remove.run(repoId, name).changes === 1,
    listSecretNames: (repoId) => stmt.names.all(repoId),
    getSecretValues: (repoId, names) => {
      const rows = stmt.values.all(repoId, JSON.stringify(names));
      return Object.fromEntries(rows.map((s) => [s.name, sealing.open(s.value, secretContext(repoId, s.name))]));
    },
  };
}
