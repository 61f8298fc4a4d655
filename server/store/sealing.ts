// The store's side of sealing at rest: it holds the key (a SecretBox, server/secret-box.ts)
// once the server unlocks it, checks that key against the one the database was sealed with,
// and seals and opens values for the stores that keep them (secrets, repos' credentials).
// Locked, it refuses to seal or open anything.

import { KilnError } from '../../shared/errors.js';
import type { SecretBox } from '../secret-box.js';
import type { Sqlite } from './db.js';

/** What the key check holds, sealed: a key that opens it is the key the data was sealed with. */
const KEY_CHECK = 'kiln secret key check';

export interface Sealing {
  /** True when this database holds sealed values (then its key must be found, never made anew). */
  hasSealedValues(): boolean;
  /**
   * Checks `box` against the key this database's values were sealed with (recorded at the first
   * unlock; a database with no sealed value takes a new key), then seals the secrets stored in
   * clear by a kiln before sealing existed, and wipes their clear text from the file. Throws a
   * KilnError naming the key file when it is the wrong key.
   */
  unlock(box: SecretBox): void;
  seal(plain: string, context: string): string;
  open(sealed: string, context: string): string;
}

export const secretContext = (repoId: number, name: string) => `secret:${repoId}:${name}`;
export const serverSecretContext = (name: string) => `server-secret:${name}`;

export function createSealing(db: Sqlite): Sealing {
  const stmt = {
    // Every column with sealed values counts here.
    anySealed: db.prepare<[], number>(`SELECT EXISTS (SELECT 1 FROM secrets WHERE sealed = 1) OR EXISTS (SELECT 1 FROM server_secrets)
      OR EXISTS (SELECT 1 FROM repos WHERE webhook_secret IS NOT NULL OR credentials IS NOT NULL OR forge_token IS NOT NULL)`).pluck(),
    keyCheck: db.prepare<[], string>('SELECT sealed FROM key_check WHERE id = 1').pluck(),
    recordKeyCheck: db.prepare<[string]>('INSERT INTO key_check (id, sealed) VALUES (1, ?) ON CONFLICT (id) DO UPDATE SET sealed = excluded.sealed'),
    inClear: db.prepare<[], { repo_id: number; name: string; value: string }>('SELECT repo_id, name, value FROM secrets WHERE sealed = 0'),
    sealSecret: db.prepare<[string, number, string]>('UPDATE secrets SET value = ?, sealed = 1 WHERE repo_id = ? AND name = ?'),
  };
  let box: SecretBox | null = null;
  const unlocked = (): SecretBox => {
    if (!box) throw new KilnError('internal', 'the store is locked: the server has not loaded its secret key');
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
          for (const row of legacy) stmt.sealSecret.run(given.seal(row.value, secretContext(row.repo_id, row.name)), row.repo_id, row.name);
        })();
        db.pragma('wal_checkpoint(TRUNCATE)');
        db.pragma('secure_delete = OFF');
      }
      box = given;
    },
    seal: (plain, context) => unlocked().seal(plain, context),
    open: (sealed, context) => unlocked().open(sealed, context),
  };
}
