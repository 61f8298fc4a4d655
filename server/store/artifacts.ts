// Artifacts: the archives a job uploads, one row per (job, name); a new attempt's upload
// replaces the row of the one before. Files live in the artifacts BlobStore by sha256; this
// table says which digests are still wanted (the sweeper removes the others).

import type { Sqlite } from './db.js';
import { iso, isoAlways } from './rows.js';
import type { Clock } from './types.js';

export interface Artifact {
  id: number;
  jobId: number;
  runId: number;
  job: string;              // the job's name
  attempt: number;          // the attempt that uploaded it
  name: string;
  size: number;             // bytes of the archive
  sha256: string;
  createdAt: string;
  expiresAt: string | null; // null: kept until its run is deleted
}

export interface NewArtifact {
  jobId: number;
  runId: number;
  attempt: number;
  name: string;
  size: number;
  sha256: string;
  /** Kept this long from now (the row's created_at); null: until its run goes. */
  expireMs: number | null;
}

/** Times are ms since epoch. */
export interface ArtifactStore {
  /** Records an upload; the same (job, name) again replaces that row (its id stays). */
  recordArtifact(artifact: NewArtifact): Artifact;
  getArtifact(id: number): Artifact | null;
  listJobArtifacts(jobId: number): Artifact[];
  listRunArtifacts(runId: number): Artifact[];
  /** The artifacts, not expired at `now`, of the jobs of `runId` named `jobNames` (for an assignment). */
  listNeededArtifacts(runId: number, jobNames: readonly string[], now: number): Artifact[];
  /** Artifacts whose expires_at ≤ now, oldest first, at most `limit`. */
  listExpiredArtifacts(now: number, limit?: number): Artifact[];
  deleteArtifact(id: number): boolean;
  /** True while some artifact row refers to this digest (its file must stay). */
  isDigestReferenced(sha256: string): boolean;
}

/** The artifacts not expired at `nowMs`: an expired one is gone for readers before the sweeper deletes it. */
export function unexpired(artifacts: Artifact[], nowMs: number): Artifact[] {
  return artifacts.filter((a) => a.expiresAt === null || Date.parse(a.expiresAt) > nowMs);
}

interface Row {
  id: number; job_id: number; run_id: number; job: string; attempt: number; name: string;
  size: number; sha256: string; created_at: number; expires_at: number | null;
}

const COLUMNS = 'a.id, a.job_id, a.run_id, j.name AS job, a.attempt, a.name, a.size, a.sha256, a.created_at, a.expires_at';
const FROM = 'FROM artifacts a JOIN jobs j ON j.id = a.job_id';

function toArtifact(row: Row): Artifact {
  return {
    id: row.id, jobId: row.job_id, runId: row.run_id, job: row.job, attempt: row.attempt, name: row.name,
    size: row.size, sha256: row.sha256, createdAt: isoAlways(row.created_at), expiresAt: iso(row.expires_at),
  };
}

export function createArtifactStore(db: Sqlite, clock: Clock): ArtifactStore {
  const stmt = {
    upsert: db.prepare<[number, number, number, string, number, string, number, number | null], { id: number }>(
      `INSERT INTO artifacts (job_id, run_id, attempt, name, size, sha256, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (job_id, name) DO UPDATE SET attempt = excluded.attempt, size = excluded.size, sha256 = excluded.sha256,
         created_at = excluded.created_at, expires_at = excluded.expires_at
       RETURNING id`,
    ),
    one: db.prepare<[number], Row>(`SELECT ${COLUMNS} ${FROM} WHERE a.id = ?`),
    byJob: db.prepare<[number], Row>(`SELECT ${COLUMNS} ${FROM} WHERE a.job_id = ? ORDER BY a.name`),
    byRun: db.prepare<[number], Row>(`SELECT ${COLUMNS} ${FROM} WHERE a.run_id = ? ORDER BY j.idx, a.name`),
    needed: db.prepare<[number, string, number], Row>(
      `SELECT ${COLUMNS} ${FROM} WHERE a.run_id = ? AND j.name IN (SELECT value FROM json_each(?))
         AND (a.expires_at IS NULL OR a.expires_at > ?) ORDER BY j.idx, a.name`,
    ),
    expired: db.prepare<[number, number], Row>(
      `SELECT ${COLUMNS} ${FROM} WHERE a.expires_at IS NOT NULL AND a.expires_at <= ? ORDER BY a.expires_at LIMIT ?`,
    ),
    remove: db.prepare<[number]>('DELETE FROM artifacts WHERE id = ?'),
    referenced: db.prepare<[string], number>('SELECT 1 FROM artifacts WHERE sha256 = ? LIMIT 1').pluck(),
  };
  return {
    recordArtifact(a) {
      const now = clock.now();
      const { id } = stmt.upsert.get(a.jobId, a.runId, a.attempt, a.name, a.size, a.sha256, now, a.expireMs === null ? null : now + a.expireMs)!;
      return toArtifact(stmt.one.get(id)!);
    },
    getArtifact: (id) => {
      const row = stmt.one.get(id);
      return row ? toArtifact(row) : null;
    },
    listJobArtifacts: (jobId) => stmt.byJob.all(jobId).map(toArtifact),
    listRunArtifacts: (runId) => stmt.byRun.all(runId).map(toArtifact),
    listNeededArtifacts: (runId, jobNames, now) =>
      (jobNames.length === 0 ? [] : stmt.needed.all(runId, JSON.stringify(jobNames), now).map(toArtifact)),
    listExpiredArtifacts: (now, limit = 1000) => stmt.expired.all(now, limit).map(toArtifact),
    deleteArtifact: (id) => stmt.remove.run(id).changes === 1,
    isDigestReferenced: (sha256) => stmt.referenced.get(sha256) === 1,
  };
}
