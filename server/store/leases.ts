// Leases: which agent runs which job, fenced by a token; every lease change is one transaction.
//
//   claimNextJob ──▶ lease (token T, expires now + leaseMs) ──renewLease(T)──▶ (alive again)
//        │                 │
//        │                 ├─ completeJob(T)  job → success | failed | cancelled | error
//        │                 ├─ requeueJob(T)   job → queued, one retry spent (or 'exhausted')
//        │                 └─ releaseLease(T) job → queued, given back unstarted
//        │                 expired: renew refuses; the reaper lists it and requeues or ends the job with T
//
// Why a fencing token: an agent that was cut off may come back after its job was reclaimed. Every
// write checks the token it was given; a new claim gets a new random one, so the old agent's writes
// change zero rows and it learns the lease is lost instead of overwriting the new attempt.

import { randomBytes } from 'node:crypto';
import { notFound } from '../../shared/errors.js';
import type { Sqlite } from './db.js';
import type { JobEffects } from './job-effects.js';
import { toJob, type JobRow } from './job-rows.js';
import type { Job, JobOutcomeStatus, Lease } from './types.js';

export interface Claim {
  job: Job;
  token: string;
  expiresAtMs: number;
  /** The claim moved the run's status on (its first job started: queued → running). */
  runChanged: boolean;
}

export interface JobOutcome {
  status: JobOutcomeStatus;
  exitCode?: number | null;
  reason?: string | null;
}

/** 'exhausted': no retry left, nothing changed (end the job with completeJob); 'lost': token is stale. */
export type RequeueResult = 'requeued' | 'exhausted' | 'lost';

/** Lease operations never throw for a lost lease: they return false / 'lost'. Times are ms. */
export interface LeaseStore {
  /**
   * Throws `not_found` for an unknown agent id.
   * Picks the oldest ready job whose `runs-on` labels are all among `labels` and whose concurrency
   * group has no running job, marks it running (a new attempt) and leases it to the agent.
   */
  claimNextJob(agentId: number, labels: readonly string[], now: number, leaseMs: number): Claim | null;
  /**
   * Claims this job for the agent when it is still claimable: queued, ready, and its
   * concurrency group has no running job. Null otherwise (the caller's view was stale).
   * Labels are the caller's business (the job queue matched them).
   */
  claimJob(jobId: number, agentId: number, now: number, leaseMs: number): Claim | null;
  /** Extends a live lease; false once it expired (the reaper owns it then) or was taken away. */
  renewLease(jobId: number, token: string, now: number, leaseMs: number): boolean;
  /** Ends the job with the agent's outcome. Accepted after expiry as long as nobody reclaimed it. */
  completeJob(jobId: number, token: string, outcome: JobOutcome, now: number): boolean;
  /** Retry: running → queued with its steps reset, when `retriesLeft` > 0. */
  requeueJob(jobId: number, token: string, reason: string, now: number): RequeueResult;
  /** Gives the job back unstarted (e.g. a draining agent): queued again, no retry spent. */
  releaseLease(jobId: number, token: string, now: number): boolean;
  /** Leases whose deadline passed, oldest first: for the reaper. */
  listExpiredLeases(now: number): Lease[];
  getLease(jobId: number): Lease | null;
  listLeasesByAgent(agentId: number): Lease[];
  /** At server start: gives every lease at least `leaseMs` so agents can reconnect and renew. */
  extendLeases(now: number, leaseMs: number): number;
}

interface LeaseRow { job_id: number; agent_id: number; token: string; acquired_at: number; expires_at: number }
interface HeldRow { run_id: number; status: string; retries_left: number }

const OUTCOMES: ReadonlySet<string> = new Set<JobOutcomeStatus>(['success', 'failed', 'cancelled', 'error']);

const toLease = (r: LeaseRow): Lease => ({
  jobId: r.job_id, agentId: r.agent_id, token: r.token, acquiredAtMs: r.acquired_at, expiresAtMs: r.expires_at,
});

/** A fencing token nobody can guess: 128 random bits. */
export function newLeaseToken(): string {
  return randomBytes(16).toString('base64url');
}

export function createLeaseStore(db: Sqlite, effects: JobEffects, newToken: () => string = newLeaseToken): LeaseStore {
  const stmt = {
    // Labels: no label of the job may be missing from the agent's. Concurrency: no running job holds the group.
    next: db.prepare<[string], { id: number; run_id: number }>(
      `SELECT j.id, j.run_id FROM jobs j
       WHERE j.status = 'queued' AND j.ready_at IS NOT NULL
         AND NOT EXISTS (SELECT 1 FROM json_each(j.runs_on) want WHERE want.value NOT IN (SELECT value FROM json_each(?)))
         AND (j.concurrency IS NULL OR NOT EXISTS
           (SELECT 1 FROM jobs o WHERE o.concurrency = j.concurrency AND o.status = 'running'))
       ORDER BY j.ready_at, j.id LIMIT 1`,
    ),
    claimable: db.prepare<[number], { id: number; run_id: number }>(
      `SELECT j.id, j.run_id FROM jobs j
       WHERE j.id = ? AND j.status = 'queued' AND j.ready_at IS NOT NULL
         AND (j.concurrency IS NULL OR NOT EXISTS
           (SELECT 1 FROM jobs o WHERE o.concurrency = j.concurrency AND o.status = 'running'))`,
    ),
    // The attempt's log remembers who ran it: late lines of a finished job are taken from that token only.
    logOwner: db.prepare<[number, number, string]>('INSERT INTO log_counters (job_id, attempt, lease_token) VALUES (?, ?, ?) ON CONFLICT DO UPDATE SET lease_token = excluded.lease_token'),
    agentName: db.prepare<[number], { name: string }>('SELECT name FROM agents WHERE id = ?'),
    start: db.prepare<[string, number, number], JobRow>(
      `UPDATE jobs SET status = 'running', agent = ?, attempt = attempt + 1, started_at = ?,
         exit_code = NULL, reason = NULL, finished_at = NULL
       WHERE id = ? AND status = 'queued' RETURNING *`,
    ),
    insert: db.prepare<[number, number, string, number, number]>(
      'INSERT INTO leases (job_id, agent_id, token, acquired_at, expires_at) VALUES (?, ?, ?, ?, ?)',
    ),
    renew: db.prepare<[number, number, string, number]>(
      'UPDATE leases SET expires_at = ? WHERE job_id = ? AND token = ? AND expires_at > ?',
    ),
    held: db.prepare<[number, string], HeldRow>(
      `SELECT j.run_id, j.status, j.retries_left FROM leases l JOIN jobs j ON j.id = l.job_id
       WHERE l.job_id = ? AND l.token = ? AND j.status = 'running'`,
    ),
    finish: db.prepare<[JobOutcomeStatus, number | null, string | null, number, number]>(
      `UPDATE jobs SET status = ?, exit_code = ?, reason = ?, finished_at = ? WHERE id = ? AND status = 'running'`,
    ),
    requeue: db.prepare<[string, number, number, number]>(
      `UPDATE jobs SET status = 'queued', retries_left = retries_left - 1, reason = ?, queued_at = ?, ready_at = ?,
         started_at = NULL, exit_code = NULL WHERE id = ? AND status = 'running'`,
    ),
    // ready_at is kept: a job given back unstarted keeps its place at the head of the queue.
    release: db.prepare<[number]>(`UPDATE jobs SET status = 'queued', started_at = NULL WHERE id = ? AND status = 'running'`),
    expired: db.prepare<[number], LeaseRow>('SELECT * FROM leases WHERE expires_at <= ? ORDER BY expires_at, job_id'),
    byJob: db.prepare<[number], LeaseRow>('SELECT * FROM leases WHERE job_id = ?'),
    byAgent: db.prepare<[number], LeaseRow>('SELECT * FROM leases WHERE agent_id = ? ORDER BY job_id'),
    extend: db.prepare<[number]>('UPDATE leases SET expires_at = max(expires_at, ?)'),
  };

  const lease = (next: { id: number; run_id: number }, agentId: number, now: number, leaseMs: number): Claim => {
    const agent = stmt.agentName.get(agentId);
    if (!agent) throw notFound(`agent ${agentId} not found`);
    const row = stmt.start.get(agent.name, now, next.id)!;
    const token = newToken();
    stmt.insert.run(next.id, agentId, token, now, now + leaseMs);
    stmt.logOwner.run(next.id, row.attempt, token);
    const runChanged = effects.syncRun(next.run_id, now);
    return { job: toJob(row), token, expiresAtMs: now + leaseMs, runChanged };
  };

  const claim = db.transaction((agentId: number, labels: readonly string[], now: number, leaseMs: number) => {
    if (!stmt.agentName.get(agentId)) throw notFound(`agent ${agentId} not found`);
    const next = stmt.next.get(JSON.stringify(labels));
    return next ? lease(next, agentId, now, leaseMs) : null;
  });

  const claimOne = db.transaction((jobId: number, agentId: number, now: number, leaseMs: number) => {
    const next = stmt.claimable.get(jobId);
    return next ? lease(next, agentId, now, leaseMs) : null;
  });

  const complete = db.transaction((jobId: number, token: string, outcome: JobOutcome, now: number) => {
    const held = stmt.held.get(jobId, token);
    if (!held || !OUTCOMES.has(outcome.status)) return false;
    stmt.finish.run(outcome.status, outcome.exitCode ?? null, outcome.reason ?? null, now, jobId);
    effects.closeSteps(jobId, outcome.status, now);
    effects.dropLease(jobId);
    effects.syncRun(held.run_id, now);
    return true;
  });

  const requeue = db.transaction((jobId: number, token: string, reason: string, now: number): RequeueResult => {
    const held = stmt.held.get(jobId, token);
    if (!held) return 'lost';
    if (held.retries_left <= 0) return 'exhausted';
    stmt.requeue.run(reason, now, now, jobId);
    effects.resetSteps(jobId);
    effects.dropLease(jobId);
    effects.syncRun(held.run_id, now);
    return 'requeued';
  });

  const release = db.transaction((jobId: number, token: string, now: number) => {
    const held = stmt.held.get(jobId, token);
    if (!held) return false;
    stmt.release.run(jobId);
    effects.resetSteps(jobId);
    effects.dropLease(jobId);
    effects.syncRun(held.run_id, now);
    return true;
  });

  return {
    // IMMEDIATE: the write lock is taken before reading, so two connections can never pick the same job.
    claimNextJob: (agentId, labels, now, leaseMs) => claim.immediate(agentId, labels, now, leaseMs),
    claimJob: (jobId, agentId, now, leaseMs) => claimOne.immediate(jobId, agentId, now, leaseMs),
    // `expires_at > now`: an expired lease belongs to the reaper; renewing it would race the requeue.
    renewLease: (jobId, token, now, leaseMs) => stmt.renew.run(now + leaseMs, jobId, token, now).changes === 1,
    completeJob: (jobId, token, outcome, now) => complete.immediate(jobId, token, outcome, now),
    requeueJob: (jobId, token, reason, now) => requeue.immediate(jobId, token, reason, now),
    releaseLease: (jobId, token, now) => release.immediate(jobId, token, now),
    listExpiredLeases: (now) => stmt.expired.all(now).map(toLease),
    getLease: (jobId) => {
      const row = stmt.byJob.get(jobId);
      return row ? toLease(row) : null;
    },
    listLeasesByAgent: (agentId) => stmt.byAgent.all(agentId).map(toLease),
    extendLeases: (now, leaseMs) => stmt.extend.run(now + leaseMs).changes,
  };
}
