// One connected agent: its socket, what it holds, and how its messages change the store.
import type { Logger } from 'pino';
import type { WebSocket } from 'ws';
import { encode, type AgentMessage, type ServerMessage } from '../../shared/protocol/messages.js';
import { isFinal } from '../../shared/status.js';
import type { EventBus } from '../events.js';
import type { Store } from '../store/index.js';

export interface Session {
  agentId: number;
  name: string;
  labels: string[];
  capacity: number;
  pool: string | null;
  socket: WebSocket;
  /** Jobs this agent holds a lease on → their fencing tokens. */
  jobs: Map<number, string>;
  /**
   * Cancelled jobs whose `done` has not come yet → when to stop waiting for it (ms). Why: the
   * agent's slot stays taken until the job's process tree is gone (up to its SIGKILL grace), so
   * these count against the capacity; a job sent before then would be refused by the agent.
   */
  stopping: Map<number, number>;
  draining: boolean;
  lastSeenMs: number;
  log: Logger;
}

/** Job slots the agent has taken: leased jobs and cancelled ones it is still stopping. */
export function slotsTaken(session: Pick<Session, 'jobs' | 'stopping'>, now: number): number {
  for (const [jobId, untilMs] of session.stopping) if (untilMs <= now) session.stopping.delete(jobId);
  return session.jobs.size + session.stopping.size;
}

export function send(session: Session, message: ServerMessage): void {
  if (session.socket.readyState === session.socket.OPEN) session.socket.send(encode(message));
}

export interface MessageContext {
  store: Store;
  bus: EventBus;
  now: () => number;
  logCapBytes: number;
  /** Called when a job ended, so the scheduler can move the run on and free slots get work. */
  jobEnded(jobId: number): void;
  /** Called when an agent's status may have changed (draining), to store and publish it. */
  agentChanged(session: Session): void;
}

/** Handles one decoded message after hello. Never throws into the socket handler. */
export function handleMessage(ctx: MessageContext, session: Session, message: AgentMessage): void {
  switch (message.type) {
    case 'hello':
      session.log.warn('second hello ignored');
      return;
    case 'step': {
      const stored = ctx.store.steps.setStepStatus(message.jobId, message.token, message.index, message.status, message.exitCode, message.at);
      if (stored) {
        const step = ctx.store.steps.listSteps(message.jobId)[message.index];
        if (step) ctx.bus.publish({ type: 'step', jobId: message.jobId, step });
      }
      return;
    }
    case 'log':
      storeLog(ctx, session, message);
      send(session, { type: 'ack', jobId: message.jobId, attempt: message.attempt, seq: message.seq });
      return;
    case 'done':
      finishJob(ctx, session, message);
      send(session, { type: 'done-ack', jobId: message.jobId, attempt: message.attempt });
      return;
    case 'draining':
      // The agent stops taking work on its own (SIGTERM, --once): no new jobs for it.
      session.draining = true;
      ctx.agentChanged(session);
      return;
    case 'drained':
      session.log.info('agent drained');
      session.socket.close(1000, 'drained');
      return;
  }
}

/**
 * Why the attempt check: after a job ends the lease is gone, but the agent that ran it may still
 * send (or replay) chunks: its last lines can arrive after `done`. For a final job a chunk is
 * taken only with the lease token the attempt was claimed with, and the store keeps only seqs
 * it does not have. Chunks of an older attempt, or of a job leased to someone else, are
 * acknowledged and dropped.
 */
function storeLog(ctx: MessageContext, session: Session, message: Extract<AgentMessage, { type: 'log' }>): void {
  const lease = ctx.store.leases.getLease(message.jobId);
  const job = ctx.store.jobs.getJob(message.jobId);
  const current = job !== null && job.attempt === message.attempt;
  const ranIt = () => ctx.store.logs.getLogCounter(message.jobId, message.attempt).leaseToken === message.token;
  const accepted = current && ((lease !== null && lease.token === message.token) || (isFinal(job.status) && ranIt()));
  if (!accepted) {
    session.log.warn({ jobId: message.jobId, seq: message.seq }, 'log chunk of a job this agent does not hold; dropped');
    return;
  }
  if (ctx.store.logs.logBytes(message.jobId, message.attempt) > ctx.logCapBytes + 256 * 1024) return; // agent ignored the cap
  const result = ctx.store.logs.appendLogLines({ jobId: message.jobId, attempt: message.attempt, seq: message.seq, lines: message.lines });
  if (!result.duplicate) ctx.bus.publish({ type: 'log', jobId: message.jobId, attempt: message.attempt, firstLine: result.firstLine, lines: result.lines });
}

function finishJob(ctx: MessageContext, session: Session, message: Extract<AgentMessage, { type: 'done' }>): void {
  session.jobs.delete(message.jobId);
  session.stopping.delete(message.jobId);
  const job = ctx.store.jobs.getJob(message.jobId);
  if (!job) return;
  const now = ctx.now();
  let ended: boolean;
  const retry = (message.status === 'failed' || message.status === 'error') && job.retriesLeft > 0 && job.attempt === message.attempt;
  if (retry) {
    const result = ctx.store.leases.requeueJob(message.jobId, message.token, `attempt ${job.attempt} ${message.status}; retrying`, now);
    ended = result !== 'lost';
    if (result === 'exhausted') ctx.store.leases.completeJob(message.jobId, message.token, { status: message.status, exitCode: message.exitCode, reason: message.reason }, now);
  } else {
    ended = ctx.store.leases.completeJob(message.jobId, message.token, { status: message.status, exitCode: message.exitCode, reason: message.reason }, now);
  }
  if (!ended) session.log.info({ jobId: message.jobId }, 'job result for a lease no longer held; ignored');
  ctx.jobEnded(message.jobId);
}
