// Opens the SQLite file: pragmas (WAL, foreign keys, busy timeout) and migrations by user_version.

import { createRequire } from 'node:module';
import type DatabaseClass from 'better-sqlite3';
import { KilnError } from '../../shared/errors.js';
import { MIGRATIONS } from './migrations.js';
import { createStore, type Store, type StoreOptions } from './store.js';

// Required, not imported: see server/hub/hub.ts.
const Database = createRequire(import.meta.url)('better-sqlite3') as typeof DatabaseClass;

export type Sqlite = DatabaseClass.Database;

export interface OpenOptions extends StoreOptions {
  busyTimeoutMs?: number;   // how long a writer waits for another connection's lock (default 5000)
  /** Told before the one VACUUM that converts an older file to incremental auto-vacuum. */
  onConvert?: () => void;
}

/** Opens (creating if needed) and migrates the database at `file` (':memory:' works) as a Store. */
export function openDatabase(file: string, options: OpenOptions = {}): Store {
  return createStore(openSqlite(file, options), options);
}

/** A configured, migrated better-sqlite3 connection. */
export function openSqlite(file: string, options: OpenOptions = {}): Sqlite {
  const busyTimeoutMs = options.busyTimeoutMs ?? 5000;
  const db = new Database(file, { timeout: busyTimeoutMs });
  try {
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = NORMAL');
    db.pragma('foreign_keys = ON');
    // better-sqlite3 builds SQLite with a 16 MiB page cache; log chunks (most of what is
    // written) would fill it and stay in the server's memory. SQLite's own default, 2 MiB,
    // holds the run and job tables; the OS caches the file for the rest.
    db.pragma('cache_size = -2000');
    db.pragma(`busy_timeout = ${Math.trunc(busyTimeoutMs)}`);
    // Why incremental: the retention sweeper hands freed pages back to the OS in small steps
    // (PRAGMA incremental_vacuum) instead of a VACUUM that rewrites the whole file. A new file
    // takes the mode before its first table; an older one is converted by one VACUUM.
    if (db.pragma('auto_vacuum', { simple: true }) !== 2) {
      db.pragma('auto_vacuum = INCREMENTAL');
      if ((db.pragma('page_count', { simple: true }) as number) > 0 && file !== ':memory:') {
        options.onConvert?.();
        db.exec('VACUUM');
      }
    }
    db.pragma('secure_delete = FAST');
    migrate(db);
    return db;
  } catch (error) {
    db.close();
    throw error;
  }
}

/** Applies the migrations this database has not seen yet; returns the schema version. */
export function migrate(db: Sqlite): number {
  // IMMEDIATE: two processes opening a fresh file at once migrate one after the other.
  const apply = db.transaction(() => {
    const current = db.pragma('user_version', { simple: true }) as number;
    if (current > MIGRATIONS.length) {
      throw new KilnError('internal', `database schema ${current} is newer than this kiln knows (${MIGRATIONS.length})`);
    }
    for (let version = current; version < MIGRATIONS.length; version++) db.exec(MIGRATIONS[version]!);
    const broken = db.pragma('foreign_key_check') as unknown[];
    if (broken.length > 0) throw new KilnError('internal', `migration left ${broken.length} rows whose foreign keys point nowhere`);
    db.pragma(`user_version = ${MIGRATIONS.length}`);
    return MIGRATIONS.length;
  });
  // Why foreign keys are off meanwhile: a migration that rebuilds a table (SQLite's way to
  // change a CHECK) drops the old one, and with foreign keys on that drop would delete every
  // row that refers to it (jobs of runs, by cascade). The pragma cannot change inside a
  // transaction, hence around it; the check above proves nothing was left dangling.
  const enforced = db.pragma('foreign_keys', { simple: true }) === 1;
  if (enforced) db.pragma('foreign_keys = OFF');
  try {
    return apply.immediate();
  } finally {
    if (enforced) db.pragma('foreign_keys = ON');
  }
}
