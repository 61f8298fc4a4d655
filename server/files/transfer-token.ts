// The per-job token for artifacts and caches over HTTP (JobFiles.token).
//
// Why derived and not stored: the token is an HMAC of the job's lease token, which is random,
// changes with every attempt, and is deleted when the job ends. So the token needs no table,
// survives a server restart (the lease does), is unguessable, and is worth nothing once the
// lease is gone — the job ended, or another agent holds the job. Neither the agent token nor
// the admin token opens these routes, and this token opens nothing else.
import { createHmac, timingSafeEqual } from 'node:crypto';

export interface TransferTokens {
  /** The token of a job attempt holding lease `leaseToken`. */
  issue(jobId: number, leaseToken: string): string;
  /** Whether `presented` is the token of job `jobId` under its current lease (null: no lease). */
  verify(jobId: number, leaseToken: string | null, presented: string | null): boolean;
}

/** `key`: 32 secret bytes of this server (derived from the sealing key). */
export function createTransferTokens(key: Buffer): TransferTokens {
  const issue = (jobId: number, leaseToken: string) =>
    createHmac('sha256', key).update(`kiln-job-files\0${jobId}\0${leaseToken}`).digest('base64url');
  return {
    issue,
    verify(jobId, leaseToken, presented) {
      if (leaseToken === null || !presented) return false;
      const expected = Buffer.from(issue(jobId, leaseToken));
      const given = Buffer.from(presented);
      return expected.length === given.length && timingSafeEqual(expected, given);
    },
  };
}
