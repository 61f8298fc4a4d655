// What an agent's frames after hello do to the store: steps, log chunks and results. Every
// write is fenced twice: the lease must be held by the connection the frame came on (so
// another holder of the agent token can neither write to nor finish someone else's job), and
// the store checks the lease token in the same transaction as the write.
import type { Logger } from 'pino';
import type { AgentMessage } from '../../shared/protocol/messages.js';
import { isFinal } from '../../shared/status.js';
import type { Masker } from '../../shared/secrets/masker.js';
import type { EventBus } from '../events.js';
import type { Job, Store } from '../store/index.js';
import type { AgentSlot } from './agents.js';

type Message<T extends AgentMessage['type']> = Extract<AgentMessage, { type: T }>;

export interface MessageContext {
  store: Store;
  bus: EventBus;
  logger: Logger;
  now(): number;
  logCapBytes: number;
  /** The job attempt's secrets, to mask its lines again before they are stored (job-maskers.ts). */
  maskerFor(jobId: number, attempt: number): Masker;
  /**
   * A job's attempt ended here (done, retry, refusal): the queue publishes `slot` (the agent
   * it left, if any) and moves the run on, which hands out the freed slot in one dispatch.
   */
  jobEnded(job: Job, outcome: 'ended' | 'requeued' | 'released', slot?: AgentSlot): void;
  /** The agent's slots changed with no job ending (a stopped job's slot came free): publish and dispatch. */
  agentChanged(slot: AgentSlot): void;
}

/** Whether `slot`'s connection holds the live lease of the job under `token`. */
const holds = (slot: AgentSlot, jobId: number, token: string) => slot.jobs.get(jobId) === token;

export function onStep(ctx: MessageContext, slot: AgentSlot, m: Message<'step'>): void {
  if (!holds(slot, m.jobId, m.token)) {
    slot.log.warn({ jobId: m.jobId }, 'step of a job this connection does not hold; dropped');
    return;
  }
  if (!ctx.store.steps.setStepStatus(m.jobId, m.token, m.index, m.status, m.exitCode, m.at)) return;
  const step = ctx.store.steps.getStep(m.jobId, m.index);
  if (step) ctx.bus.publish({ type: 'step', jobId: m.jobId, step });
}

/**
 * Why a final job still takes chunks: the agent that ran it may send its last chunks after
 * `done`, or replay them after a reconnect. They are taken only from the agent of that attempt
 * with the lease token the attempt was claimed with, and the store keeps only seqs it does not
 * have yet. Anything else is acknowledged and dropped, so the sender's outbox moves on.
 */
export function onLog(ctx: MessageContext, slot: AgentSlot, m: Message<'log'>): void {
  const { store } = ctx;
  const job = store.jobs.getJob(m.jobId);
  const counter = store.logs.getLogCounter(m.jobId, m.attempt);
  const current = job !== null && job.attempt === m.attempt;
  const ranIt = () => job!.agent === slot.name && counter.leaseToken === m.token;
  const accepted = current && (holds(slot, m.jobId, m.token) || (isFinal(job.status) && ranIt()));
  if (!accepted) {
    slot.log.warn({ jobId: m.jobId, seq: m.seq }, 'log chunk of a job this connection does not hold; dropped');
    return;
  }
  if (counter.bytes > ctx.logCapBytes + 256 * 1024) return; // the agent ignored the cap
  // Defence in depth: the agent masked these lines already; an agent that did not (or an older one) is caught here.
  const masker = ctx.maskerFor(m.jobId, m.attempt);
  const lines = masker.longest === 0 ? m.lines : m.lines.map((line) => {
    const text = masker.mask(line.text);
    return text === line.text ? line : { ...line, text };
  });
  const result = store.logs.appendLogLines({ jobId: m.jobId, attempt: m.attempt, seq: m.seq, lines });
  if (!result.duplicate) ctx.bus.publish({ type: 'log', jobId: m.jobId, attempt: m.attempt, firstLine: result.firstLine, lines: result.lines });
}

/**
 * The agent's result. A failed or errored attempt is retried while retries are left; a refused
 * assignment (the agent could not start it) goes back to the queue with no retry spent.
 */
export function onDone(ctx: MessageContext, slot: AgentSlot, m: Message<'done'>): void {
  if (!holds(slot, m.jobId, m.token)) {
    // A job this connection was told to stop: its slot is free now.
    if (slot.stopping.delete(m.jobId)) ctx.agentChanged(slot);
    else slot.log.info({ jobId: m.jobId }, 'result for a lease this connection does not hold; ignored');
    return;
  }
  slot.jobs.delete(m.jobId);
  const { store } = ctx;
  const now = ctx.now();
  const job = store.jobs.getJob(m.jobId);
  if (!job) return ctx.agentChanged(slot);
  if (m.refused) {
    slot.refused++;
    const released = store.leases.releaseLease(m.jobId, m.token, now);
    slot.log.warn({ jobId: m.jobId, reason: m.reason, released }, 'agent refused the job; it goes back to the queue');
    return released ? ctx.jobEnded(job, 'released', slot) : ctx.agentChanged(slot);
  }
  slot.refused = 0;
  const outcome = { status: m.status, exitCode: m.exitCode, reason: m.reason };
  let result: 'ended' | 'requeued' | 'lost' = 'lost';
  if ((m.status === 'failed' || m.status === 'error') && job.retriesLeft > 0 && job.attempt === m.attempt) {
    const requeue = store.leases.requeueJob(m.jobId, m.token, `attempt ${job.attempt} ${m.status}; retrying`, now);
    result = requeue === 'requeued' ? 'requeued' : requeue === 'lost' ? 'lost' : store.leases.completeJob(m.jobId, m.token, outcome, now) ? 'ended' : 'lost';
  } else if (store.leases.completeJob(m.jobId, m.token, outcome, now)) {
    result = 'ended';
  }
  if (result !== 'lost') return ctx.jobEnded(job, result, slot);
  slot.log.info({ jobId: m.jobId }, 'result for a lease no longer held; ignored');
  ctx.agentChanged(slot);
}
