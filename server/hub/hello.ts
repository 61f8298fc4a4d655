// An agent's hello: register it, replace an older connection of the same agent, and decide
// which of the jobs it says it still runs it may go on with.
import type { Logger } from 'pino';
import type { WebSocket } from 'ws';
import { PROTOCOL_VERSION, type AgentMessage } from '../../shared/protocol/messages.js';
import type { Store } from '../store/index.js';
import { send, type Session } from './session.js';

export interface HelloContext {
  store: Store;
  logger: Logger;
  now(): number;
  leaseMs: number;
  sessions: Map<number, Session>;
}

/** The new session, or null when the hello was refused (the socket is then being closed). */
export function acceptHello(ctx: HelloContext, socket: WebSocket, hello: Extract<AgentMessage, { type: 'hello' }>, remote: string): Session | null {
  const { store, now, leaseMs, sessions } = ctx;
  if (hello.protocol !== PROTOCOL_VERSION) {
    socket.close(4002, `protocol ${hello.protocol} is not supported; this server speaks ${PROTOCOL_VERSION}`);
    return null;
  }
  const agent = store.agents.registerAgent({ name: hello.name, labels: hello.labels, pool: hello.pool, capacity: hello.capacity, protocol: hello.protocol, version: hello.version });
  const previous = sessions.get(agent.id);
  if (previous) {
    previous.socket.close(4001, 'replaced by a new connection of the same agent');
    sessions.delete(agent.id);
  }
  const session: Session = {
    agentId: agent.id, name: agent.name, labels: hello.labels, capacity: hello.capacity, pool: hello.pool,
    socket, jobs: new Map(), stopping: new Map(), draining: false, lastSeenMs: now(), log: ctx.logger.child({ agentId: agent.id, agent: agent.name }),
  };
  const keep: number[] = [];
  const drop: number[] = [];
  for (const held of hello.jobs) {
    // Why the token check: only the holder of the live lease may go on; a job that was
    // taken back (and perhaps leased to another agent) while this one was away is dropped.
    const lease = store.leases.getLease(held.jobId);
    if (lease && lease.token === held.token && store.leases.renewLease(held.jobId, held.token, now(), leaseMs)) {
      keep.push(held.jobId);
      session.jobs.set(held.jobId, held.token);
    } else {
      // The agent must stop this job; its slot stays taken until it says the job is done.
      drop.push(held.jobId);
      session.stopping.set(held.jobId, now() + leaseMs);
    }
  }
  sessions.set(agent.id, session);
  send(session, { type: 'welcome', agentId: agent.id, protocol: PROTOCOL_VERSION, leaseMs, keep, drop });
  session.log.info({ remote, labels: hello.labels, capacity: hello.capacity, kept: keep.length, dropped: drop.length }, 'agent connected');
  return session;
}
