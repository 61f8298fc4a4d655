// What the artifact and cache steps of one job share: its assignment, workspace, client and log.
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import type { Logger } from 'pino';
import type { JobAssignment, JobFiles } from '../../shared/protocol/messages.js';
import type { FilesClient } from './http-client.js';
import type { LocalCache } from './local-cache.js';

export interface TransferContext {
  a: JobAssignment & { files: JobFiles };
  workspace: string;
  client: FilesClient;
  localCache: LocalCache;
  /** Writes a line to the job's log (system stream, masked). */
  system(text: string): void;
  signal: AbortSignal;
  /** The agent's own log, for what is not the job's business (a local copy not kept). */
  log: Logger;
  now(): number;
  /** A fresh path under the agent's transfers/ folder. */
  tempPath(): string;
}

/** The end of a job as the runner sees it (a JobEnd). */
export interface Outcome {
  status: 'success' | 'failed' | 'cancelled' | 'error';
  exitCode: number | null;
  reason: string | null;
}

export const tempPathIn = (dir: string, jobId: number) => () => join(dir, `${jobId}-${randomUUID()}.tgz`);

/** `0.05 s`. */
export const seconds = (ms: number) => `${(ms / 1000).toFixed(2)} s`;

export const message = (err: unknown) => (err instanceof Error ? err.message : String(err));

/** A reason fits the done message (at most 1 000 characters). */
export const fitReason = (reason: string) => (reason.length > 1000 ? `${reason.slice(0, 999)}…` : reason);
