// Leases over time: renews the leases of agents heard from within the deadline, and takes back
// the jobs whose lease expired (retry while retries are left, else `error` "agent lost").
import type { Logger } from 'pino';
import type { Job, Store } from '../store/index.js';
import type { AgentSlot } from './agents.js';

export interface ExpiryContext {
  store: Store;
  logger: Logger;
  agents: Iterable<AgentSlot>;
  nowMs: number;
  leaseMs: number;
}

/** Returns the jobs it took back, each requeued or ended. */
export function expireLeases({ store, logger, agents, nowMs, leaseMs }: ExpiryContext): Array<{ job: Job; outcome: 'ended' | 'requeued' }> {
  const slots = [...agents];
  for (const slot of slots) {
    // Why only recent connections: an agent whose socket is open but that stopped answering
    // pings must lose its leases like a disconnected one.
    if (nowMs - slot.link.lastHeardMs > leaseMs) continue;
    store.agents.touchAgent(slot.agentId);
    for (const [jobId, token] of slot.jobs) {
      if (!store.leases.renewLease(jobId, token, nowMs, leaseMs)) slot.jobs.delete(jobId);
    }
  }
  const taken: Array<{ job: Job; outcome: 'ended' | 'requeued' }> = [];
  for (const lease of store.leases.listExpiredLeases(nowMs)) {
    const job = store.jobs.getJob(lease.jobId);
    let result = store.leases.requeueJob(lease.jobId, lease.token, 'agent lost', nowMs);
    if (result === 'exhausted') {
      result = store.leases.completeJob(lease.jobId, lease.token, { status: 'error', exitCode: null, reason: 'agent lost' }, nowMs) ? 'exhausted' : 'lost';
    }
    logger.warn({ jobId: lease.jobId, agentId: lease.agentId, result }, 'lease expired: agent lost');
    for (const slot of slots) slot.jobs.delete(lease.jobId);
    if (job && result !== 'lost') taken.push({ job, outcome: result === 'requeued' ? 'requeued' : 'ended' });
  }
  return taken;
}
