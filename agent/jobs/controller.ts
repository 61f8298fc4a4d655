// The agent's side of the conversation: what each server message does, and how the agent ends.
//
//   agent lifecycle:
//
//   working ──drain (server, SIGTERM, --once)──▶ draining ──jobs ended, results acked──▶ drained ─▶ exit 0
//      │                                            │
//      │                                            └─jobs ended, server unreachable, results on disk─▶ exit 0
//      │                                                 (the next start replays them from the spool)
//      └── second signal / stop() / orphaned pool agent ──▶ stopping: cancel jobs, report or spool them ─▶ exit
import type { Logger } from 'pino';
import { PROTOCOL_VERSION, type JobAssignment, type ServerMessage } from '../../shared/protocol/messages.js';
import { KILN_VERSION } from '../../shared/version.js';
import type { Connection, HelloMessage } from '../connection/connection.js';
import type { Clock } from '../connection/clock.js';
import type { JobSlots } from './job-slots.js';
import type { Outbox } from './outbox.js';

export interface AgentIdentity {
  name: string;
  labels: string[];
  capacity: number;
  pool: string | null;
}

export interface AgentControllerOptions {
  identity: AgentIdentity;
  connection: Pick<Connection, 'send' | 'setLeaseMs' | 'close'>;
  outbox: Outbox;
  slots: JobSlots;
  logger: Logger;
  clock: Clock;
  /** Take one job, then drain. */
  once?: boolean;
  /** How long a forced stop waits for the server to acknowledge the cancelled jobs; default 5 s. */
  stopWaitMs?: number;
}

/**
 * Wire `hello`, `handle` and `disconnected` to the connection; call `jobEnded` and `settled`
 * from the slots and the outbox. `finished` resolves with the exit code: 0 after a drain that
 * delivered everything or, with the server unreachable, left it safe in the spool; 1 after a
 * forced stop that had to cancel jobs or could not keep their results.
 */
export interface AgentController {
  hello(): HelloMessage;
  handle(message: ServerMessage): void;
  disconnected(): void;
  /** A job ended or a result was acknowledged: a drain may be complete. */
  changed(): void;
  /** `tellServer`: send `draining` (not needed when the server asked). */
  drain(why: string, tellServer?: boolean): void;
  stop(why: string): void;
  readonly finished: Promise<number>;
}

export function createAgentController(o: AgentControllerOptions): AgentController {
  const { identity, connection, outbox, slots, logger } = o;
  let welcomed = false;
  let draining = false;
  let stopping = false;
  let ending = false;
  let finish!: (code: number) => void;
  const finished = new Promise<number>((resolve) => { finish = resolve; });

  const end = async (code: number) => {
    if (ending) return;
    ending = true;
    await connection.close(code === 0 ? 'drained' : 'agent stopped');
    finish(code);
  };
  const maybeDrained = () => {
    if (!draining || stopping || ending || slots.busy > 0) return;
    if (outbox.pending === 0) {
      logger.info('drained: every job ended and every result was delivered');
      if (welcomed) connection.send({ type: 'drained' });
      return void end(0);
    }
    // Why not wait for the server: it may never come back, and what it is owed is on disk; the
    // next start of an agent on this work folder delivers it. While connected, delivery is moments away.
    if (!welcomed && outbox.unspooled === 0) {
      logger.info({ spooled: outbox.pending }, `drained without a server: ${outbox.pending} undelivered result(s) wait in the spool for the next start`);
      void end(0);
    }
  };
  const refuse = async (a: JobAssignment, reason: string) => {
    logger.warn({ jobId: a.jobId, reason }, 'job refused');
    const out = await outbox.begin({ jobId: a.jobId, attempt: a.attempt, token: a.token });
    await out.finish({ status: 'error', exitCode: null, reason, at: o.clock.now(), refused: true });
    maybeDrained();
  };
  const onJob = (a: JobAssignment) => {
    if (slots.has(a.jobId)) return logger.warn({ jobId: a.jobId }, 'job sent twice; the first goes on');
    if (ending) return logger.warn({ jobId: a.jobId }, 'job sent after drained; ignored');
    if (stopping) return void refuse(a, 'the agent is stopping');
    // A job that arrives while draining was sent before the server knew: it is leased to us,
    // and running it is the only outcome that does not fail someone's job.
    if (!slots.start(a)) return void refuse(a, `the agent already runs ${slots.size} jobs (capacity ${identity.capacity})`);
    if (o.once) controller.drain('--once: one job taken');
  };

  const controller: AgentController = {
    hello: () => ({
      type: 'hello', protocol: PROTOCOL_VERSION, name: identity.name, labels: identity.labels,
      capacity: identity.capacity, version: KILN_VERSION, pool: identity.pool, jobs: outbox.held().slice(0, 256),
    }),
    handle(m) {
      switch (m.type) {
        case 'welcome':
          welcomed = true;
          logger.info({ agentId: m.agentId, keep: m.keep, drop: m.drop, leaseMs: m.leaseMs }, 'welcomed by server');
          connection.setLeaseMs(m.leaseMs);
          for (const jobId of m.drop) if (slots.cancel(jobId, 'the server took the job back')) logger.warn({ jobId }, 'job dropped by server');
          if (draining) connection.send({ type: 'draining' }); // a new session: the server forgot
          outbox.online((message) => connection.send(message));
          return maybeDrained();
        case 'job': return onJob(m.assignment);
        case 'ack': return outbox.ack(m.jobId, m.attempt, m.seq);
        case 'done-ack': return outbox.doneAck(m.jobId, m.attempt);
        case 'cancel':
          if (slots.cancel(m.jobId, m.reason || 'cancelled')) logger.info({ jobId: m.jobId, reason: m.reason }, 'job cancelled by server');
          return;
        case 'drain': return controller.drain('the server asked', false);
        case 'error': return logger.error({ message: m.message }, 'server reported an error');
      }
    },
    disconnected() {
      welcomed = false;
      outbox.offline();
      maybeDrained();
    },
    changed: () => maybeDrained(),
    drain(why, tellServer = true) {
      if (draining) return;
      draining = true;
      logger.info({ why, running: slots.size, undelivered: outbox.pending }, 'draining: no new jobs; finishing the running ones');
      if (welcomed && tellServer) connection.send({ type: 'draining' });
      maybeDrained();
    },
    stop(why) {
      if (stopping) return;
      stopping = draining = true;
      const cancelled = slots.cancelAll(`cancelled: ${why}`);
      logger.warn({ why, cancelled }, 'stopping: cancelling the running jobs');
      void (async () => {
        await slots.idle();
        const deadline = o.clock.now() + (o.stopWaitMs ?? 5000);
        while (outbox.pending > 0 && welcomed && o.clock.now() < deadline) await sleep(o.clock, 50);
        if (outbox.pending > 0) logger.warn({ undelivered: outbox.pending, spooled: outbox.pending - outbox.unspooled }, 'exiting with results the server has not acknowledged; they stay in the spool for the next start');
        await end(cancelled > 0 || outbox.unspooled > 0 ? 1 : 0);
      })();
    },
    get finished() {
      return finished;
    },
  };
  return controller;
}

function sleep(clock: Clock, ms: number): Promise<void> {
  return new Promise((resolve) => clock.setTimeout(resolve, ms));
}
