// Removes expired artifacts: first their rows, then (once that is committed) every file in the
// artifacts BlobStore that no row refers to. The second half also takes the files of rows that
// went another way: a run's cascade delete, an upload replaced by the next attempt's, an upload
// whose lease ended before it was recorded.
import type { Logger } from 'pino';
import type { Store } from '../store/index.js';
import type { BlobStore } from './blob-store.js';

export interface ArtifactSweeperOptions {
  store: Store;
  blobs: BlobStore;
  logger: Logger;
  /** Between sweeps (default one minute). */
  intervalMs?: number;
  now?: () => number;
}

export interface ArtifactSweeper {
  /** One sweep: how many rows and files it removed. */
  sweep(): Promise<{ rows: number; files: number }>;
  /** Sweeps once now, then every intervalMs. */
  start(): void;
  /** Stops the timer and waits for a sweep under way. */
  stop(): Promise<void>;
}

export function createArtifactSweeper({ store, blobs, logger, intervalMs = 60_000, now = Date.now }: ArtifactSweeperOptions): ArtifactSweeper {
  let timer: NodeJS.Timeout | null = null;
  let running: Promise<unknown> = Promise.resolve();

  const sweep = async () => {
    let rows = 0;
    for (let expired = store.artifacts.listExpiredArtifacts(now()); expired.length > 0; expired = store.artifacts.listExpiredArtifacts(now())) {
      store.transaction(() => {
        for (const artifact of expired) if (store.artifacts.deleteArtifact(artifact.id)) rows++;
      });
    }
    // Why after the commit: a file removed while its row's delete could still roll back would
    // leave a row whose download is gone.
    await store.committed();
    // A digest an upload holds (its file renamed into place, its row not yet recorded) stays.
    let files = 0;
    for (const digest of blobs.digests()) {
      if (blobs.held(digest) === 0 && !store.artifacts.isDigestReferenced(digest)) {
        blobs.remove(digest);
        files++;
      }
    }
    if (rows > 0 || files > 0) logger.info({ rows, files }, 'artifacts swept');
    return { rows, files };
  };

  const guarded = () => {
    const next = running.then(sweep).catch((error: unknown) => {
      logger.error({ err: error }, 'artifact sweep failed');
      return { rows: 0, files: 0 };
    });
    running = next;
    return next;
  };

  return {
    sweep: guarded,
    start() {
      void guarded();
      timer = setInterval(() => void guarded(), intervalMs);
      timer.unref();
    },
    async stop() {
      if (timer) clearInterval(timer);
      timer = null;
      await running;
    },
  };
}
