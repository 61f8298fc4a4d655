// Leases over time: renews the leases of agents the hub hears from, pings them, and takes
// back the jobs of agents that stayed silent past the deadline (retry, or error "agent lost").
import type { Logger } from 'pino';
import type { Store } from '../store/index.js';
import type { Session } from './session.js';

export interface LeaseKeeperOptions {
  store: Store;
  logger: Logger;
  now: () => number;
  leaseMs: number;
  sessions: () => Iterable<Session>;
  onJobLost(jobId: number): void;
}

export interface LeaseKeeper {
  /** One pass: ping, renew, reap. The timer calls it; tests may call it with a fake clock. */
  tick(): void;
  start(): void;
  stop(): void;
}

export function createLeaseKeeper({ store, logger, now, leaseMs, sessions, onJobLost }: LeaseKeeperOptions): LeaseKeeper {
  let timer: NodeJS.Timeout | null = null;
  const keeper: LeaseKeeper = {
    tick() {
      const at = now();
      for (const session of sessions()) {
        if (session.socket.readyState === session.socket.OPEN) session.socket.ping();
        // Why only recent sessions: an agent whose socket is open but that stopped answering
        // pings must lose its leases like a disconnected one.
        if (at - session.lastSeenMs > leaseMs) continue;
        store.agents.touchAgent(session.agentId);
        for (const [jobId, token] of session.jobs) {
          if (!store.leases.renewLease(jobId, token, at, leaseMs)) session.jobs.delete(jobId);
        }
      }
      for (const lease of store.leases.listExpiredLeases(at)) {
        const result = store.leases.requeueJob(lease.jobId, lease.token, 'agent lost', at);
        if (result === 'exhausted') store.leases.completeJob(lease.jobId, lease.token, { status: 'error', exitCode: null, reason: 'agent lost' }, at);
        logger.warn({ jobId: lease.jobId, agentId: lease.agentId, result }, 'lease expired: agent lost');
        for (const session of sessions()) session.jobs.delete(lease.jobId);
        onJobLost(lease.jobId);
      }
    },
    start() {
      const everyMs = Math.max(200, Math.min(5000, Math.floor(leaseMs / 4)));
      timer = setInterval(() => keeper.tick(), everyMs);
      timer.unref();
    },
    stop() {
      if (timer) clearInterval(timer);
      timer = null;
    },
  };
  return keeper;
}
