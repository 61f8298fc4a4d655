// Disk use, for `GET /api/usage` and the dashboard's Usage page: bytes by kind (the database
// file, the log lines in it, artifact and cache files, git mirrors) and by repo. Files are
// measured on disk (a file two artifacts share counts once); per repo, logs, artifacts and
// caches are what its rows record, and its mirror is measured on disk.
import { lstatSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Store } from '../store/index.js';

export interface DiskUsage {
  byKind: { database: number; logs: number; artifacts: number; caches: number; mirrors: number };
  byRepo: { repo: string; logs: number; artifacts: number; caches: number; mirror: number }[];
}

export interface UsageSources {
  store: Store;
  /** The SQLite file (its -wal and -shm count with it). */
  databaseFile: string;
  artifactsDir: string;
  cachesDir: string;
  /** Where a repo's git mirror lives. */
  mirrorDir(repo: { name: string }): string;
}

/** Bytes of the files under `path` (0 when it does not exist); links are not followed. */
export function bytesUnder(path: string): number {
  let stat;
  try {
    stat = lstatSync(path);
  } catch {
    return 0;
  }
  if (!stat.isDirectory()) return stat.isFile() ? stat.size : 0;
  let total = 0;
  for (const entry of readdirSync(path)) total += bytesUnder(join(path, entry));
  return total;
}

export function diskUsage({ store, databaseFile, artifactsDir, cachesDir, mirrorDir }: UsageSources): DiskUsage {
  const repos = store.retention.bytesByRepo();
  const byRepo = repos.map((r) => ({ ...r, mirror: bytesUnder(mirrorDir({ name: r.repo })) }));
  return {
    byKind: {
      database: ['', '-wal', '-shm'].reduce((sum, tail) => sum + bytesUnder(databaseFile + tail), 0),
      logs: repos.reduce((sum, r) => sum + r.logs, 0),
      artifacts: bytesUnder(artifactsDir),
      caches: bytesUnder(cachesDir),
      mirrors: byRepo.reduce((sum, r) => sum + r.mirror, 0),
    },
    byRepo,
  };
}
