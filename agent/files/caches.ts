// A job's cache: the key expanded after checkout, restored before the first step, saved after success.
import { rm } from 'node:fs/promises';
import type { PlannedCache } from '../../shared/pipeline/types.js';
import { formatSize } from '../../shared/size.js';
import { expandExpressions } from '../executors/expressions.js';
import { collectPaths } from './collect.js';
import { message, seconds, type TransferContext } from './context.js';
import { TransferError } from './http-client.js';
import { packEntries } from './pack.js';
import { unpackArchive } from './unpack.js';

/** The cache of a job once its key is known; `exactHit` is set by the restore. */
export interface JobCache {
  plan: PlannedCache;
  key: string;
  restoreKeys: string[];
  exactHit: boolean;
}

interface CacheEntry {
  id: number;
  key: string;
  size: number;
  sha256: string;
  exact: boolean;
  prefix: string | null;
}

/** Expands `${{ env.X }}` and `${{ hashFiles(…) }}` in the key and restore keys, as a step's script is. */
export async function expandCacheKeys(plan: PlannedCache, env: Record<string, string>, workspace: string): Promise<JobCache> {
  const expand = (text: string) => expandExpressions(text, { env, workspace });
  return { plan, key: await expand(plan.key), restoreKeys: await Promise.all((plan.restoreKeys ?? []).map(expand)), exactHit: false };
}

/**
 * Looks the key up (exact, then the restore-key prefixes: the server decides), unpacks the
 * entry from the local copy when this host has it (its digest checked) or else downloads it
 * (and keeps it as the local copy). Never fails the job: a problem is a warning and a miss.
 */
export async function restoreCache(c: TransferContext, cache: JobCache): Promise<void> {
  const policy = cache.plan.policy ?? 'pull-push';
  if (policy === 'push') return c.system(`kiln: cache not restored: policy push`);
  if (cache.key === '') return c.system('kiln: cache not restored: the key is empty');
  const started = c.now();
  try {
    const query = new URLSearchParams([['key', cache.key], ...cache.restoreKeys.map((p): [string, string] => ['restore_key', p])]);
    const answer = await c.client.getJson(`/api/jobs/${c.a.jobId}/cache?${query}`) as { entry: CacheEntry | null };
    const entry = answer?.entry ?? null;
    if (entry === null) return c.system(`kiln: cache miss ${cache.key}`);
    await unpackEntry(c, entry);
    cache.exactHit = entry.exact;
    const how = entry.exact ? 'exact' : `prefix ${entry.prefix ?? ''}`;
    c.system(`kiln: cache hit ${entry.key} (${how}): ${formatSize(entry.size)} in ${seconds(c.now() - started)}`);
  } catch (err) {
    if (c.signal.aborted) throw err;
    c.system(`kiln: cache not restored: ${message(err)}`);
  }
}

async function unpackEntry(c: TransferContext, entry: CacheEntry): Promise<void> {
  const local = await c.localCache.find(entry.sha256);
  if (local !== null) {
    try {
      return await unpackArchive(local, entry.sha256, c.workspace);
    } catch (err) {
      if (c.signal.aborted) throw err;
      await c.localCache.forget(entry.sha256);
    }
  }
  const temp = c.tempPath();
  try {
    const digest = await c.client.download(`/api/caches/${entry.id}`, temp);
    await unpackArchive(temp, entry.sha256, c.workspace, digest);
    await keepLocal(c, temp, entry.sha256);
  } finally {
    await rm(temp, { force: true });
  }
}

/**
 * After the steps: saves the cache when the job succeeded, the policy is not pull and the
 * restore was not an exact hit; the archive stays as the local copy. Never fails the job: a
 * cache not saved is a line saying why (`<key> exists`: caches are immutable, 409).
 */
export async function saveCache(c: TransferContext, cache: JobCache, succeeded: boolean): Promise<void> {
  const why = !succeeded ? 'the job did not succeed'
    : cache.plan.policy === 'pull' ? 'policy pull'
    : cache.exactHit ? 'exact hit'
    : cache.key === '' ? 'the key is empty'
    : null;
  if (why !== null) return c.system(`kiln: cache not saved: ${why}`);
  const started = c.now();
  const temp = c.tempPath();
  try {
    const collected = await collectPaths(c.workspace, cache.plan.paths);
    if (!collected.ok) return c.system(`kiln: cache not saved: ${collected.refusal}`);
    if (collected.entries.length === 0) return c.system(`kiln: cache not saved: no files matched ${cache.plan.paths.join(', ')}`);
    // Why files and links only: a restore's cost is per entry (tar makes each file's folders
    // as it goes), and a cache's folders need no entries of their own.
    const digest = await packEntries(c.workspace, collected.entries.filter((e) => e.kind !== 'dir'), temp, 1);
    if (digest.size > c.a.files.cacheMaxBytes) return c.system(`kiln: cache not saved: ${cache.key} is over server.cache_max (${formatSize(c.a.files.cacheMaxBytes)})`);
    await c.client.put(`/api/jobs/${c.a.jobId}/cache?${new URLSearchParams({ key: cache.key })}`, temp, digest);
    c.system(`kiln: cache saved ${cache.key} (${formatSize(digest.size)}, ${seconds(c.now() - started)})`);
    await keepLocal(c, temp, digest.sha256);
  } catch (err) {
    if (c.signal.aborted) throw err;
    if (err instanceof TransferError && err.status === 409) return c.system(`kiln: cache not saved: ${cache.key} exists`);
    c.system(`kiln: cache not saved: ${message(err)}`);
  } finally {
    await rm(temp, { force: true });
  }
}

/** A local copy is only a shortcut: not keeping one is the agent's log line, not the job's problem. */
async function keepLocal(c: TransferContext, file: string, sha256: string): Promise<void> {
  await c.localCache.keep(file, sha256).catch((err: unknown) => c.log.warn({ err: message(err), sha256 }, 'cache archive not kept as a local copy'));
}
