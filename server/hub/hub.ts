// The hub: the `/agent` WebSocket endpoint. Authenticates agents at the upgrade, keeps one
// session per agent, hands queued jobs to free slots, renews the leases of agents it hears
// from and takes back the jobs of agents that went silent.
//
//   agent lifecycle:  (connect) ─hello─▶ idle ⇄ busy ─drain─▶ draining ─drained─▶ offline
//                                  └──────── socket closed / silent ─────────▶ offline
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Logger } from 'pino';
import { WebSocketServer, type WebSocket } from 'ws';
import { decodeAgentMessage, MAX_FRAME_BYTES, type AgentMessage } from '../../shared/protocol/messages.js';
import type { EventBus } from '../events.js';
import type { CancelledJob, Store } from '../store/index.js';
import { buildAssignment } from './assignment.js';
import { acceptHello } from './hello.js';
import { createLeaseKeeper, type LeaseKeeper } from './lease-keeper.js';
import { handleMessage, send, slotsTaken, type MessageContext, type Session } from './session.js';

export interface HubOptions {
  store: Store;
  bus: EventBus;
  logger: Logger;
  now?: () => number;
  leaseMs: number;
  logCapBytes: number;
  serverUrl: string;
  /** Whether a bearer token may connect as an agent. */
  authorize(token: string): boolean;
  /** Called after a job ended (the scheduler moves its run on). */
  onJobEnded(jobId: number): void;
}

export interface Hub {
  handleUpgrade(request: IncomingMessage, socket: Duplex, head: Buffer): void;
  /** Hands claimable jobs to agents with free slots, until either runs out. */
  dispatch(): void;
  /** Tells the agents running these jobs to stop them. */
  cancel(jobs: readonly CancelledJob[]): void;
  /** Asks an agent to finish its jobs, take no more, and exit. False if it is not connected. */
  drain(agentId: number): boolean;
  sessions(): readonly Session[];
  start(): void;
  stop(): Promise<void>;
}

export function createHub(options: HubOptions): Hub {
  const { store, bus, logger, leaseMs } = options;
  const now = options.now ?? Date.now;
  const wss = new WebSocketServer({ noServer: true, maxPayload: MAX_FRAME_BYTES });
  const sessions = new Map<number, Session>();
  const ctx: MessageContext = {
    store,
    bus,
    now,
    logCapBytes: options.logCapBytes,
    jobEnded: (jobId) => {
      options.onJobEnded(jobId);
      publishAgentsOf([...sessions.values()].filter((s) => !s.jobs.has(jobId)));
      hub.dispatch();
    },
    agentChanged: (session) => publishAgentsOf([session]),
  };
  let keeper: LeaseKeeper | null = null;

  const publishAgentsOf = (list: Session[]) => {
    for (const s of list) {
      const status = s.draining ? 'draining' : slotsTaken(s, now()) > 0 ? 'busy' : 'idle';
      store.agents.setAgentStatus(s.agentId, status);
      const agent = store.agents.getAgent(s.agentId);
      if (agent) bus.publish({ type: 'agent', agent });
    }
  };

  const onHello = (socket: WebSocket, hello: Extract<AgentMessage, { type: 'hello' }>, remote: string): Session | null => {
    const session = acceptHello({ store, logger, now, leaseMs, sessions }, socket, hello, remote);
    if (session) publishAgentsOf([session]);
    return session;
  };

  const onConnection = (socket: WebSocket, remote: string) => {
    let session: Session | null = null;
    const helloTimer = setTimeout(() => session || socket.close(4003, 'no hello within 10 s'), 10_000);
    socket.on('message', (data, isBinary) => {
      const decoded = decodeAgentMessage(isBinary ? (data as Buffer) : data.toString());
      if (!decoded.ok) {
        logger.warn({ remote, agentId: session?.agentId, error: decoded.error }, 'malformed frame; closing the connection');
        socket.close(1007, decoded.error.slice(0, 120));
        return;
      }
      if (session) session.lastSeenMs = now();
      try {
        if (!session) {
          if (decoded.message.type !== 'hello') socket.close(4003, 'the first message must be hello');
          else session = onHello(socket, decoded.message, remote);
          if (session) hub.dispatch();
        } else handleMessage(ctx, session, decoded.message);
      } catch (error) {
        logger.error({ err: error, agentId: session?.agentId }, 'agent message failed');
        socket.close(1011, 'internal error');
      }
    });
    socket.on('pong', () => {
      if (session) session.lastSeenMs = now();
    });
    socket.on('error', (error) => logger.warn({ err: error, agentId: session?.agentId }, 'agent socket error'));
    socket.on('close', (code, reason) => {
      clearTimeout(helloTimer);
      if (!session || sessions.get(session.agentId) !== session) return;
      sessions.delete(session.agentId);
      store.agents.setAgentStatus(session.agentId, 'offline');
      const agent = store.agents.getAgent(session.agentId);
      if (agent) bus.publish({ type: 'agent', agent });
      session.log.info({ code, reason: reason.toString(), holding: session.jobs.size }, 'agent disconnected');
    });
  };

  const hub: Hub = {
    handleUpgrade(request, socket, head) {
      const header = request.headers.authorization ?? '';
      const token = header.startsWith('Bearer ') ? header.slice(7).trim() : '';
      const remote = `${request.socket.remoteAddress}:${request.socket.remotePort}`;
      if (!token || !options.authorize(token)) {
        logger.warn({ remote }, 'agent refused: wrong or missing token');
        socket.end('HTTP/1.1 401 Unauthorized\r\nContent-Type: application/json\r\nConnection: close\r\n\r\n{"error":"wrong or missing agent token"}');
        return;
      }
      wss.handleUpgrade(request, socket, head, (ws) => onConnection(ws, remote));
    },
    dispatch() {
      for (const session of [...sessions.values()].sort((a, b) => a.jobs.size / a.capacity - b.jobs.size / b.capacity)) {
        while (!session.draining && slotsTaken(session, now()) < session.capacity && session.socket.readyState === session.socket.OPEN) {
          const claim = store.leases.claimNextJob(session.agentId, session.labels, now(), leaseMs);
          if (!claim) break;
          session.jobs.set(claim.job.id, claim.token);
          send(session, { type: 'job', assignment: buildAssignment(store, claim, options) });
          session.log.info({ jobId: claim.job.id, runId: claim.job.runId, job: claim.job.name, attempt: claim.job.attempt }, 'job assigned');
          bus.publish({ type: 'job', job: claim.job });
          publishAgentsOf([session]);
        }
      }
    },
    cancel(jobs) {
      for (const { jobId, agentId } of jobs) {
        const session = agentId === null ? undefined : sessions.get(agentId);
        if (!session) continue;
        if (session.jobs.delete(jobId)) session.stopping.set(jobId, now() + leaseMs);
        send(session, { type: 'cancel', jobId, reason: 'cancelled' });
      }
    },
    drain(agentId) {
      const session = sessions.get(agentId);
      if (!session) return false;
      session.draining = true;
      send(session, { type: 'drain' });
      publishAgentsOf([session]);
      return true;
    },
    sessions: () => [...sessions.values()],
    start() {
      keeper = createLeaseKeeper({ store, logger, now, leaseMs, sessions: () => sessions.values(), onJobLost: (jobId) => ctx.jobEnded(jobId) });
      keeper.start();
    },
    async stop() {
      keeper?.stop();
      for (const session of sessions.values()) session.socket.close(1001, 'server stopping');
      sessions.clear();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
    },
  };
  return hub;
}
