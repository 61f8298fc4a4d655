// What the artifact and cache routes share: where archives live, the limits, and the check of
// a job's transfer token (transfer-token.ts).
import type { Context } from 'hono';
import { bearer } from '../auth.js';
import { KilnError } from '../../shared/errors.js';
import type { Store } from '../store/index.js';
import type { BlobStore } from './blob-store.js';
import type { TransferTokens } from './transfer-token.js';

export interface JobFilesOptions {
  transfer: TransferTokens;
  artifacts: BlobStore;          // <data>/artifacts
  caches: BlobStore;             // <data>/caches
  artifactMaxBytes: number;
  artifactExpireMs: number;
  cacheMaxBytes: number;
  /** Branch globs whose caches every run of the repo reads; null: the repo's default branch and release/*. */
  protectedBranches: string[] | null;
}

/** The job whose transfer token the request carries, or null (no token, another kind, a stale one). */
export function transferJob(c: Context, store: Store, transfer: TransferTokens): number | null {
  return transfer.jobOf(bearer(c.req.header('authorization')), (jobId) => store.leases.getLease(jobId)?.token ?? null);
}

/** For routes of one job (`/api/jobs/:id/...`) that only that job's agent may call. */
export function requireTransferToken(c: Context, store: Store, transfer: TransferTokens, jobId: number): void {
  const holder = transferJob(c, store, transfer);
  if (holder === null) throw new KilnError('unauthorized', 'this needs the job\'s transfer token (the assignment carries it; it ends with the job)');
  if (holder !== jobId) throw new KilnError('forbidden', `this token belongs to job ${holder}, not job ${jobId}`);
}

// The routes a transfer token may open (each route then checks whose it is). Method and raw path.
const TRANSFER_ROUTES: ReadonlyArray<[string[], RegExp]> = [
  [['PUT'], /^\/api\/jobs\/\d+\/artifacts\/[^/]+$/],
  [['GET', 'HEAD'], /^\/api\/artifacts\/\d+$/],
  [['GET', 'PUT'], /^\/api\/jobs\/\d+\/cache$/],
  [['GET', 'HEAD'], /^\/api\/caches\/\d+$/],
];

/** True for the routes a transfer token opens: a private server's any-token check lets such a token through to them. */
export function opensToTransferToken(method: string, path: string): boolean {
  return TRANSFER_ROUTES.some(([methods, pattern]) => methods.includes(method) && pattern.test(path));
}

/** The uploads: streamed to a BlobStore under their own limit (artifact_max, cache_max), not the API's 1 MiB. */
export function isUpload(method: string, path: string): boolean {
  return method === 'PUT' && opensToTransferToken(method, path);
}

/**
 * An upload route whose refusal also closes the connection. Why: the rest of a refused body
 * (up to the limit, or a length announced over it) would otherwise be read before the
 * connection could carry another request.
 */
export function closingOnRefusal(handler: (c: Context) => Promise<Response>): (c: Context) => Promise<Response> {
  return async (c) => {
    try {
      return await handler(c);
    } catch (error) {
      c.header('connection', 'close');
      throw error;
    }
  };
}
