// The per-job token for artifacts and caches over HTTP (JobFiles.token): `<jobId>.<mac>`.
//
// Why derived and not stored: the mac is an HMAC of the job's lease token, which is random,
// changes with every attempt, and is deleted when the job ends. So the token needs no table,
// survives a server restart (the lease does), is unguessable, and is worth nothing once the
// lease is gone: the job ended, or another agent holds the job. Neither the agent token nor
// the admin token opens the transfer routes, and this token opens nothing else.
import { createHmac, timingSafeEqual } from 'node:crypto';

export interface TransferTokens {
  /** The token of job `jobId` while it holds lease `leaseToken`. */
  issue(jobId: number, leaseToken: string): string;
  /**
   * The job a presented token belongs to, when that job still holds the lease the token was
   * issued for; else null. `leaseOf` reads the job's current lease token (null: none).
   */
  jobOf(presented: string | null, leaseOf: (jobId: number) => string | null): number | null;
}

/** `key`: 32 secret bytes of this server (SecretBox.derive('job-files')). */
export function createTransferTokens(key: Buffer): TransferTokens {
  const mac = (jobId: number, leaseToken: string) =>
    createHmac('sha256', key).update(`kiln-job-files\0${jobId}\0${leaseToken}`).digest('base64url');
  return {
    issue: (jobId, leaseToken) => `${jobId}.${mac(jobId, leaseToken)}`,
    jobOf(presented, leaseOf) {
      const match = presented ? /^([1-9]\d{0,15})\.([A-Za-z0-9_-]{43})$/.exec(presented) : null;
      if (!match) return null;
      const jobId = Number(match[1]);
      const lease = leaseOf(jobId);
      if (lease === null) return null;
      const expected = Buffer.from(mac(jobId, lease));
      const given = Buffer.from(match[2]!);
      return expected.length === given.length && timingSafeEqual(expected, given) ? jobId : null;
    },
  };
}
