// The agents connected right now, as the job queue sees them: the connection that speaks for
// each, the leases that connection holds, and how many of its job slots are taken.
import type { Logger } from 'pino';
import type { ServerMessage } from '../../shared/protocol/messages.js';
import type { AgentStatus } from '../store/index.js';

/**
 * The hub's side of one agent connection: all the queue may do with a socket. The hub sets
 * `lastHeardMs` whenever a frame or a pong arrives on it.
 */
export interface AgentLink {
  /** Sends a frame; false when the connection is not open any more (nothing was sent). */
  send(message: ServerMessage): boolean;
  /** Sends frames in one write (a read's acks): false when the connection is not open any more. */
  sendAll(messages: readonly ServerMessage[]): boolean;
  close(code: number, reason: string): void;
  readonly lastHeardMs: number;
  /** `address:port`, for logs. */
  readonly remote: string;
}

/** One connected agent. A lease is bound to the connection (`link`) that holds it. */
export interface AgentSlot {
  agentId: number;
  name: string;
  labels: string[];
  capacity: number;
  pool: string | null;
  link: AgentLink;
  /**
   * Jobs this connection holds a lease on → their fencing tokens. Only frames that arrive on
   * this connection, with this token, may write to these jobs.
   */
  jobs: Map<number, string>;
  /**
   * Jobs taken from it (cancelled, dropped at hello) whose `done` has not come yet → when to
   * stop waiting for it (ms). Why: the agent's slot stays taken until the job's process tree
   * is gone, so these count against the capacity; a job sent before then would be refused.
   */
  stopping: Map<number, number>;
  /**
   * Assignments it refused since its last `done`: they count as taken slots, so an agent whose
   * slots disagree with ours is not sent the same job again at once.
   */
  refused: number;
  draining: boolean;
  /** The status last written to the store, to write only changes. */
  stored: AgentStatus | null;
  log: Logger;
}

/** Job slots the agent has taken: leased jobs, cancelled ones it is still stopping, refusals. */
export function slotsTaken(slot: AgentSlot, nowMs: number): number {
  for (const [jobId, untilMs] of slot.stopping) if (untilMs <= nowMs) slot.stopping.delete(jobId);
  return slot.jobs.size + slot.stopping.size + slot.refused;
}

/** Whether the queue may send this agent another job now. */
export function hasFreeSlot(slot: AgentSlot, nowMs: number): boolean {
  return !slot.draining && slotsTaken(slot, nowMs) < slot.capacity;
}

export function statusOf(slot: AgentSlot, nowMs: number): AgentStatus {
  return slot.draining ? 'draining' : slotsTaken(slot, nowMs) > 0 ? 'busy' : 'idle';
}
