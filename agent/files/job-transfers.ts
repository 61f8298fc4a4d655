// The artifact and cache work of one job, around its steps (the files contract, docs/artifacts.md):
//
//   checkout ─▶ unpack needed artifacts ─▶ restore cache ─▶ steps ─▶ upload artifacts (by when) ─▶ save cache ─▶ done
//                 │ fails: job error            │ problem: warning           │ refused/fails: success → failed
//                 └ cancel at any point: the job is cancelled, nothing more goes up ┘   │ problem: warning
//
// Loaded by the runner only for jobs that have artifacts, a cache or needed artifacts.
import type { Logger } from 'pino';
import type { JobAssignment, JobFiles } from '../../shared/protocol/messages.js';
import { unpackNeededArtifacts, uploadArtifact, uploadsFor } from './artifacts.js';
import { expandCacheKeys, restoreCache, saveCache, type JobCache } from './caches.js';
import { tempPathIn, type Outcome, type TransferContext } from './context.js';
import { createFilesClient } from './http-client.js';
import { createLocalCache } from './local-cache.js';
import type { RetryOptions } from './retry.js';

/** The agent's side of transfers, the same for every job. */
export interface TransferSettings {
  /** The server's base URL without a trailing slash. */
  serverUrl: string;
  /** Archives on their way (`<work-dir>/transfers`). */
  transfersDir: string;
  /** Local copies of caches (`<work-dir>/cache-blobs`) and their bound (`--cache-local-max`). */
  cacheBlobsDir: string;
  cacheLocalMaxBytes: number;
  retry?: RetryOptions;
}

export interface JobTransferRequest {
  a: JobAssignment & { files: JobFiles };
  workspace: string;
  /** The job's env as its steps see it (for the cache key's `${{ env.X }}`). */
  env: Record<string, string>;
  system(text: string): void;
  signal: AbortSignal;
  log: Logger;
  now(): number;
}

/**
 * `beforeSteps` (after checkout) resolves with null to go on, or the end of a job that cannot
 * start (a needed artifact that cannot be had: `error`; a cancel). `afterSteps` takes the
 * steps' end and resolves with the job's end: a succeeded job whose artifact was refused or
 * not uploaded is `failed` with that reason; a cancel during either makes it `cancelled`.
 * Neither rejects for a transfer problem.
 */
export interface JobTransfers {
  beforeSteps(): Promise<Outcome | null>;
  afterSteps(end: Outcome): Promise<Outcome>;
}

const CANCELLED: Outcome = { status: 'cancelled', exitCode: null, reason: 'cancelled' };

export function createJobTransfers(settings: TransferSettings, r: JobTransferRequest): JobTransfers {
  const c: TransferContext = {
    a: r.a, workspace: r.workspace, system: r.system, signal: r.signal, log: r.log, now: r.now,
    tempPath: tempPathIn(settings.transfersDir, r.a.jobId),
    localCache: createLocalCache({ dir: settings.cacheBlobsDir, maxBytes: settings.cacheLocalMaxBytes, now: r.now }),
    client: createFilesClient({
      serverUrl: settings.serverUrl, token: r.a.files.token, signal: r.signal, retry: settings.retry,
      onRetry: (what, reason, waitMs) => r.system(`kiln: ${what} failed (${reason}); trying again in ${(waitMs / 1000).toFixed(2)} s`),
    }),
  };
  let cache: JobCache | null = null;
  const cancelled = (err: unknown): Outcome => {
    if (!r.signal.aborted) throw err;
    return CANCELLED;
  };
  return {
    async beforeSteps() {
      try {
        const failure = await unpackNeededArtifacts(c);
        if (failure !== null) {
          c.system(`✖ ${failure}`);
          return { status: 'error', exitCode: null, reason: failure };
        }
        // Truthiness, not `!== null`: plans stored before a key existed may lack it.
        if (r.a.job.cache) {
          cache = await expandCacheKeys(r.a.job.cache, r.env, r.workspace);
          await restoreCache(c, cache);
        }
        return r.signal.aborted ? CANCELLED : null;
      } catch (err) {
        return cancelled(err);
      }
    },
    async afterSteps(end) {
      if (end.status === 'cancelled' || r.signal.aborted) return end.status === 'cancelled' ? end : CANCELLED;
      let outcome = end;
      try {
        const plan = r.a.job.artifacts;
        if (plan && uploadsFor(plan.when, end.status)) {
          const failure = await uploadArtifact(c);
          if (failure !== null) {
            c.system(`✖ ${failure}`);
            if (end.status === 'success') outcome = { status: 'failed', exitCode: null, reason: failure };
          }
        }
        if (cache !== null) await saveCache(c, cache, outcome.status === 'success');
        return r.signal.aborted ? CANCELLED : outcome;
      } catch (err) {
        return cancelled(err);
      }
    },
  };
}
