// Cache entries: a repo's archives by (trust scope, key), immutable once saved. Their files
// live in the caches BlobStore by sha256; several entries may share one. Which scope a job
// saves into and reads from is decided outside the store (server/files/cache-scope.ts).

import { conflict } from '../../shared/errors.js';
import type { Sqlite } from './db.js';
import { isoAlways } from './rows.js';
import type { Clock } from './types.js';

export interface CacheEntry {
  id: number;
  repoId: number;
  scope: string;            // '' (protected branches), 'branch:<name>', 'pr:<n>', 'tag:<name>'
  key: string;
  size: number;
  sha256: string;
  jobId: number | null;     // the job that saved it
  createdAt: string;
  lastUsedAt: string;
}

export interface CacheHit {
  entry: CacheEntry;
  /** True when the key itself matched; else `prefix` names the restore key that did. */
  exact: boolean;
  prefix: string | null;
}

export interface NewCacheEntry {
  repoId: number;
  scope: string;
  key: string;
  size: number;
  sha256: string;
  jobId: number | null;
}

export interface CacheStore {
  /**
   * The entry a job restores: `scopes` in the order they are read (its own, then ''), the
   * exact key in each first, then for each prefix in order the newest entry whose key starts
   * with it, own scope before the next. Null on a miss. Does not touch the entry.
   */
  findCache(repoId: number, scopes: readonly string[], key: string, prefixes: readonly string[]): CacheHit | null;
  getCache(id: number): CacheEntry | null;
  /** Marks the entry used now (LRU order); returns that time. */
  touchCache(id: number): string;
  /** Saves an entry; a `conflict` KilnError naming the key when (repo, scope, key) exists. */
  addCache(entry: NewCacheEntry): CacheEntry;
  /** Bytes of all distinct archives that entries point at (every repo). */
  totalCacheBytes(): number;
  /** The `limit` least recently used entries, oldest use first. */
  leastRecentlyUsedCaches(limit: number): CacheEntry[];
  deleteCache(id: number): boolean;
  /** Whether any entry still points at this archive. */
  isCacheBlobReferenced(sha256: string): boolean;
}

/** The answer to saving a key that exists (caches are immutable). */
export const cacheExists = (key: string) => conflict(`cache "${key}" exists (caches are immutable: save under a new key)`);

interface Row { id: number; repo_id: number; scope: string; key: string; size: number; sha256: string; job_id: number | null; created_at: number; last_used_at: number }

const COLUMNS = 'id, repo_id, scope, key, size, sha256, job_id, created_at, last_used_at';

function toEntry(row: Row): CacheEntry {
  return {
    id: row.id, repoId: row.repo_id, scope: row.scope, key: row.key, size: row.size, sha256: row.sha256,
    jobId: row.job_id, createdAt: isoAlways(row.created_at), lastUsedAt: isoAlways(row.last_used_at),
  };
}

export function createCacheStore(db: Sqlite, clock: Clock): CacheStore {
  const stmt = {
    exact: db.prepare<[number, string, string], Row>(`SELECT ${COLUMNS} FROM caches WHERE repo_id = ? AND scope = ? AND key = ?`),
    // `key >= prefix` lets the unique index start at the prefix; substr compares bytes exactly (LIKE would not).
    prefix: db.prepare<{ repo: number; scope: string; prefix: string }, Row>(
      `SELECT ${COLUMNS} FROM caches WHERE repo_id = @repo AND scope = @scope AND key >= @prefix
         AND substr(key, 1, length(@prefix)) = @prefix ORDER BY created_at DESC, id DESC LIMIT 1`,
    ),
    byId: db.prepare<[number], Row>(`SELECT ${COLUMNS} FROM caches WHERE id = ?`),
    touch: db.prepare<[number, number]>('UPDATE caches SET last_used_at = ? WHERE id = ?'),
    insert: db.prepare<[number, string, string, number, string, number | null, number, number], Row>(
      `INSERT INTO caches (repo_id, scope, key, size, sha256, job_id, created_at, last_used_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (repo_id, scope, key) DO NOTHING RETURNING ${COLUMNS}`,
    ),
    total: db.prepare<[], number>('SELECT COALESCE(SUM(size), 0) FROM (SELECT MAX(size) AS size FROM caches GROUP BY sha256)').pluck(),
    lru: db.prepare<[number], Row>(`SELECT ${COLUMNS} FROM caches ORDER BY last_used_at, id LIMIT ?`),
    remove: db.prepare<[number]>('DELETE FROM caches WHERE id = ?'),
    referenced: db.prepare<[string], number>('SELECT EXISTS (SELECT 1 FROM caches WHERE sha256 = ?)').pluck(),
  };
  const unique = (scopes: readonly string[]) => [...new Set(scopes)];

  return {
    findCache(repoId, scopes, key, prefixes) {
      const order = unique(scopes);
      for (const scope of order) {
        const row = stmt.exact.get(repoId, scope, key);
        if (row) return { entry: toEntry(row), exact: true, prefix: null };
      }
      for (const prefix of prefixes) {
        for (const scope of order) {
          const row = stmt.prefix.get({ repo: repoId, scope, prefix });
          if (row) return { entry: toEntry(row), exact: false, prefix };
        }
      }
      return null;
    },
    getCache: (id) => {
      const row = stmt.byId.get(id);
      return row ? toEntry(row) : null;
    },
    touchCache(id) {
      const now = clock.now();
      stmt.touch.run(now, id);
      return isoAlways(now);
    },
    addCache({ repoId, scope, key, size, sha256, jobId }) {
      const now = clock.now();
      const row = stmt.insert.get(repoId, scope, key, size, sha256, jobId, now, now);
      if (!row) throw cacheExists(key);
      return toEntry(row);
    },
    totalCacheBytes: () => stmt.total.get()!,
    leastRecentlyUsedCaches: (limit) => stmt.lru.all(limit).map(toEntry),
    deleteCache: (id) => stmt.remove.run(id).changes === 1,
    isCacheBlobReferenced: (sha256) => stmt.referenced.get(sha256) === 1,
  };
}
