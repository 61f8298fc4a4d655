// Caches over HTTP (files-contract.md): lookup and save for a job's agent, download for a job
// that may see the entry. Every route needs a job's transfer token, never the agent or admin one.
//
//   GET /api/jobs/:id/cache?key=K&restore_key=P…  → {entry} | {entry: null}    (token of job :id)
//   PUT /api/jobs/:id/cache?key=K  body: archive   → 201 {entry}; 409 exists    (token of job :id)
//   GET /api/caches/:id                            → the archive (Range too)    (token of a job that sees it)
//
// A job reads its own scope, then the protected one (cache-scope.ts), and saves into its own only.
import { Readable } from 'node:stream';
import type { ReadableStream as NodeReadableStream } from 'node:stream/web';
import type { Context } from 'hono';
import { Hono } from 'hono';
import { KilnError, notFound } from '../../../shared/errors.js';
import { formatSize } from '../../../shared/size.js';
import { blobResponse } from '../../files/blob-download.js';
import { SHA256_HEX } from '../../files/blob-store.js';
import { evictCaches } from '../../files/cache-eviction.js';
import { cacheScope, visibleScopes } from '../../files/cache-scope.js';
import { closingOnRefusal, requireTransferToken, transferJob, type JobFilesOptions } from '../../files/job-files.js';
import { cacheExists, type CacheEntry, type CacheHit } from '../../store/index.js';
import { idParam, type ApiOptions } from '../http.js';

const MAX_RESTORE_KEYS = 32;
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;

/** A cache key or restore prefix from the query: 1 to 512 characters, none of them a control character. */
function keyOf(value: string | undefined, name: string): string {
  if (value === undefined) throw new KilnError('bad_input', `${name}: give the cache key (?${name}=)`);
  if (value.length < 1 || value.length > 512 || CONTROL.test(value)) {
    throw new KilnError('bad_input', `${name}: a cache key is 1 to 512 characters without control characters`);
  }
  return value;
}

function digestOf(c: Context): string {
  const digest = c.req.header('x-kiln-sha256')?.trim().toLowerCase();
  if (!digest || !SHA256_HEX.test(digest)) throw new KilnError('bad_input', 'X-Kiln-Sha256: give the archive\'s sha256 (64 hex digits)');
  return digest;
}

/** The sender went before the body ended (the blob store kept nothing). */
function isCut(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return !(error instanceof KilnError) && (code === 'ECONNRESET' || code === 'ERR_STREAM_PREMATURE_CLOSE' || code === 'ABORT_ERR');
}

function entryView(entry: CacheEntry, hit?: Omit<CacheHit, 'entry'>) {
  return {
    id: entry.id, key: entry.key, scope: entry.scope, size: entry.size, sha256: entry.sha256,
    ...(hit ? { exact: hit.exact, prefix: hit.prefix } : {}),
    created_at: entry.createdAt, last_used_at: entry.lastUsedAt, url: `/api/caches/${entry.id}`,
  };
}

export function createCacheRoutes({ store, logger, metrics, access: { guard } }: ApiOptions, files: JobFilesOptions): Hono {
  const app = new Hono();
  const log = logger.child({ part: 'caches' });

  /** The job's repo and own scope. */
  const placeOf = (jobId: number) => {
    const job = store.jobs.getJob(jobId);
    const run = job && store.runs.getRunSummary(job.runId);
    const repo = run && store.repos.getRepo(run.repoId);
    if (!job || !run || !repo) throw notFound(`no job ${jobId}`);
    return { repo, scope: cacheScope(run, repo, files.protectedBranches) };
  };

  app.get('/api/jobs/:id/cache', guard('job'), (c) => {
    const jobId = idParam(c);
    requireTransferToken(c, store, files.transfer, jobId);
    const key = keyOf(c.req.query('key'), 'key');
    const prefixes = (c.req.queries('restore_key') ?? []).map((p) => keyOf(p, 'restore_key'));
    if (prefixes.length > MAX_RESTORE_KEYS) throw new KilnError('bad_input', `restore_key: at most ${MAX_RESTORE_KEYS} restore keys`);
    const { repo, scope } = placeOf(jobId);
    const hit = store.caches.findCache(repo.id, visibleScopes(scope), key, prefixes);
    metrics?.cacheLookup(hit !== null);
    if (!hit) return c.json({ entry: null });
    const lastUsedAt = store.caches.touchCache(hit.entry.id);
    return c.json({ entry: entryView({ ...hit.entry, lastUsedAt }, hit) });
  });

  app.put('/api/jobs/:id/cache', guard('job'), closingOnRefusal((c) => save(c)));

  const save = async (c: Context) => {
    const jobId = idParam(c);
    requireTransferToken(c, store, files.transfer, jobId);
    const key = keyOf(c.req.query('key'), 'key');
    const sha256 = digestOf(c);
    const what = `cache "${key}"`;
    const tooLarge = `${what} is over server.cache_max (${formatSize(files.cacheMaxBytes)})`;
    const declared = c.req.header('content-length');
    if (declared !== undefined && Number(declared) > files.cacheMaxBytes) throw new KilnError('too_large', tooLarge);
    const { repo, scope } = placeOf(jobId);
    // Before the upload, so an agent that lost a race learns it without sending the archive.
    if (store.caches.findCache(repo.id, [scope], key, [])) throw cacheExists(key);
    // Held between the file's rename and the row's insert: eviction must not remove that file.
    const release = files.caches.hold(sha256);
    try {
      const body = c.req.raw.body ? Readable.fromWeb(c.req.raw.body as NodeReadableStream) : Readable.from([]);
      const blob = await files.caches.put(body, { sha256, maxBytes: files.cacheMaxBytes, what, limitName: 'server.cache_max' });
      // The lease may have ended while the body came in (the job was cancelled, or lost): then
      // nothing is recorded, and the file goes below when no entry has it.
      requireTransferToken(c, store, files.transfer, jobId);
      const entry = store.transaction(() => store.caches.addCache({ repoId: repo.id, scope, key, size: blob.size, sha256, jobId }));
      log.info({ jobId, repo: repo.name, scope, key, size: formatSize(blob.size) }, 'cache saved');
      evictCaches({ store, blobs: files.caches, maxBytes: files.cacheMaxBytes, keep: (d) => files.caches.held(d) > 0, logger: log });
      return c.json({ entry: entryView(entry) }, 201);
    } catch (error) {
      if (isCut(error)) {
        // The agent went (a cancelled job, a lost connection); it sends the archive again if it can.
        log.info({ jobId, key }, 'cache upload cut short');
        throw new KilnError('bad_input', `the upload of ${what} was cut short`, { cause: error });
      }
      // A conflict after the upload (two jobs of one scope at once), or a lease that ended: the file may be nobody's.
      const unrecorded = error instanceof KilnError && (error.code === 'conflict' || error.code === 'unauthorized' || error.code === 'forbidden');
      if (unrecorded && files.caches.held(sha256) === 1 && files.caches.has(sha256) && !store.caches.isCacheBlobReferenced(sha256)) {
        files.caches.remove(sha256);
      }
      throw error;
    } finally {
      release();
    }
  };

  app.get('/api/caches/:id', guard('job'), async (c) => {
    const id = idParam(c);
    const holder = transferJob(c, store, files.transfer);
    if (holder === null) throw new KilnError('unauthorized', 'this needs a job\'s transfer token (the assignment carries it; it ends with the job)');
    const entry = store.caches.getCache(id);
    if (!entry) throw notFound(`no cache ${id}`);
    const { repo, scope } = placeOf(holder);
    if (entry.repoId !== repo.id || !visibleScopes(scope).includes(entry.scope)) throw new KilnError('forbidden', `job ${holder} may not read cache ${id}`);
    return blobResponse(files.caches, c.req.method, c.req.header('range'), { sha256: entry.sha256, filename: `cache-${entry.id}.tar.gz`, what: `cache ${id}` });
  });
  return app;
}
