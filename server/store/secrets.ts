// Per-repo secrets: written and deleted by name, read back only as values to inject into jobs.
// Values are sealed (AES-256-GCM, server/secret-box.ts) before they reach SQLite; the store is
// locked until `unlock` gives it the key, and a locked store refuses to read or write values.

import { KilnError } from '../../shared/errors.js';
import type { SecretBox } from '../secret-box.js';
import type { Sqlite } from './db.js';
import type { Clock } from './types.js';

/** What the key check holds, sealed: a key that opens it is the key the data was sealed with. */
const KEY_CHECK = 'kiln secret key check';

/** Values leave the store only through `getSecretValues`, for the jobs that name them. */
export interface SecretStore {
  /** True when this database holds sealed values (then its key must be found, never made anew). */
  hasSealedValues(): boolean;
  /**
   * Checks `box` against the key this database's values were sealed with (recorded at the first
   * unlock; a database with no sealed value takes a new key), then seals the values stored in clear by a kiln before sealing existed, and wipes their
   * clear text from the file. Throws a KilnError naming the key file when it is the wrong key.
   */
  unlock(box: SecretBox): void;
  setSecret(repoId: number, name: string, value: string): void;
  deleteSecret(repoId: number, name: string): boolean;
  listSecretNames(repoId: number): string[];
  /** The values of those of `names` that exist, by name. */
  getSecretValues(repoId: number, names: readonly string[]): Record<string, string>;
}

const context = (repoId: number, name: string) => `secret:${repoId}:${name}`;

export function createSecretStore(db: Sqlite, clock: Clock): SecretStore {
  const stmt = {
    upsert: db.prepare<[number, string, string, number]>(
      `INSERT INTO secrets (repo_id, name, value, sealed, updated_at) VALUES (?, ?, ?, 1, ?)
       ON CONFLICT (repo_id, name) DO UPDATE SET value = excluded.value, sealed = 1, updated_at = excluded.updated_at`,
    ),
    remove: db.prepare<[number, string]>('DELETE FROM secrets WHERE repo_id = ? AND name = ?'),
    names: db.prepare<[number], string>('SELECT name FROM secrets WHERE repo_id = ? ORDER BY name').pluck(),
    values: db.prepare<[number, string], { name: string; value: string; sealed: number }>(
      'SELECT name, value, sealed FROM secrets WHERE repo_id = ? AND name IN (SELECT value FROM json_each(?))',
    ),
    // Every table with sealed values counts here.
    anySealed: db.prepare<[], number>('SELECT EXISTS (SELECT 1 FROM secrets WHERE sealed = 1)').pluck(),
    keyCheck: db.prepare<[], string>('SELECT sealed FROM key_check WHERE id = 1').pluck(),
    recordKeyCheck: db.prepare<[string]>('INSERT INTO key_check (id, sealed) VALUES (1, ?) ON CONFLICT (id) DO UPDATE SET sealed = excluded.sealed'),
    inClear: db.prepare<[], { repo_id: number; name: string; value: string }>('SELECT repo_id, name, value FROM secrets WHERE sealed = 0'),
    seal: db.prepare<[string, number, string]>('UPDATE secrets SET value = ?, sealed = 1 WHERE repo_id = ? AND name = ?'),
  };
  let box: SecretBox | null = null;
  const unlocked = (): SecretBox => {
    if (!box) throw new KilnError('internal', 'the secret store is locked: the server has not loaded its secret key');
    return box;
  };

  return {
    hasSealedValues: () => stmt.anySealed.get() === 1,
    unlock(given) {
      const check = stmt.keyCheck.get();
      let opened: string | null = null;
      try {
        if (check !== undefined) opened = given.open(check, 'key-check');
      } catch {
        // a different key: refused below when it matters
      }
      if (opened !== KEY_CHECK) {
        if (stmt.anySealed.get() === 1) throw new KilnError('bad_input', `secret key ${given.source} is not the key this data folder's values were sealed with`);
        stmt.recordKeyCheck.run(given.seal(KEY_CHECK, 'key-check'));
      }
      const legacy = stmt.inClear.all();
      if (legacy.length > 0) {
        // secure_delete zeroes the freed clear text in the file; the checkpoint moves the pages
        // out of the WAL and truncates it, so no copy of a value in clear is left on disk.
        db.pragma('secure_delete = ON');
        db.transaction(() => {
          for (const row of legacy) stmt.seal.run(given.seal(row.value, context(row.repo_id, row.name)), row.repo_id, row.name);
        })();
        db.pragma('wal_checkpoint(TRUNCATE)');
        db.pragma('secure_delete = OFF');
      }
      box = given;
    },
    setSecret: (repoId, name, value) => void stmt.upsert.run(repoId, name, unlocked().seal(value, context(repoId, name)), clock.now()),
    deleteSecret: (repoId, name) => stmt.remove.run(repoId, name).changes === 1,
    listSecretNames: (repoId) => stmt.names.all(repoId),
    getSecretValues: (repoId, names) => {
      const rows = stmt.values.all(repoId, JSON.stringify(names));
      if (rows.length === 0) return {};
      const opener = unlocked();
      return Object.fromEntries(rows.map((s) => [s.name, opener.open(s.value, context(repoId, s.name))]));
    },
  };
}
