// After a save: least-recently-used cache entries go until the archives' total (distinct files,
// every repo) is at most server.cache_max; a file goes once no entry points at it.
import type { Logger } from 'pino';
import { formatSize } from '../../shared/size.js';
import type { Store } from '../store/index.js';
import type { BlobStore } from './blob-store.js';

export interface EvictOptions {
  store: Store;
  blobs: BlobStore;
  maxBytes: number;
  /** Digests whose files must stay even without a row (an upload between its file and its row). */
  keep: (sha256: string) => boolean;
  logger: Logger;
}

/** Returns how many entries went. Rows go in one transaction; their files once it has committed. */
export function evictCaches({ store, blobs, maxBytes, keep, logger }: EvictOptions): number {
  const orphans: string[] = [];
  let freed = 0;
  const evicted = store.transaction(() => {
    let total = store.caches.totalCacheBytes();
    let count = 0;
    while (total > maxBytes) {
      const batch = store.caches.leastRecentlyUsedCaches(32);
      if (batch.length === 0) break;
      for (const entry of batch) {
        if (total <= maxBytes) break;
        store.caches.deleteCache(entry.id);
        count++;
        if (!store.caches.isCacheBlobReferenced(entry.sha256)) {
          total -= entry.size;
          freed += entry.size;
          orphans.push(entry.sha256);
        }
      }
    }
    return count;
  });
  if (evicted === 0) return 0;
  // Why after the commit, and asked again: until then the rows may come back (a failed commit),
  // and meanwhile another upload of the same archive may have made it someone's again.
  store.afterCommit(() => {
    for (const sha256 of orphans) if (!keep(sha256) && !store.caches.isCacheBlobReferenced(sha256)) blobs.remove(sha256);
  });
  logger.info({ evicted, freed: formatSize(freed), maxBytes: formatSize(maxBytes) }, 'caches evicted');
  return evicted;
}
