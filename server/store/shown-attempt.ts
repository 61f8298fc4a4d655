// Which attempt of a job a log shows: the one rule for the text log, the lines API, the
// dashboard's job page and the live log.
import type { Job } from './types.js';

/**
 * The attempt asked for, when it is a positive number; else, for a job waiting for an agent
 * (not started yet, or queued again for a retry), the attempt it will run next, which has no
 * lines yet; else the job's current attempt. No job: 0, an attempt that has no lines.
 */
export function shownAttempt(job: Pick<Job, 'status' | 'attempt'> | null, requested?: number): number {
  if (requested !== undefined && Number.isSafeInteger(requested) && requested > 0) return requested;
  if (!job) return 0;
  const waiting = job.status === 'queued' || job.status === 'blocked';
  return job.attempt + (waiting ? 1 : 0);
}
