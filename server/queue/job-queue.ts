// The job queue: the one owner of the job lifecycle. It claims jobs for agents, renews and
// expires their leases, finishes them (with retries), moves runs on, publishes what changed,
// and answers why a job waits. The hub only moves frames; the API and triggers call in here.
//
//   job lifecycle:
//
//   queued (waits for needs) ──needs done──▶ ready ──dispatch: claim──▶ running ──done──▶ success | failed | cancelled | error
//     │                          ▲   │                      │   │  ▲          │
//     ├─ approval ─▶ blocked ─approve┘   └─ cancel ─▶ cancelled  │  └ retry ───┘ (failed/error, retries left; or agent lost)
//     └─ `when` / needs ─▶ skipped                 refused/unsent┘─▶ ready again, no retry spent
//                                        lease expired, no retry left ─▶ error "agent lost"
import type { Logger } from 'pino';
import { conflict, notFound } from '../../shared/errors.js';
import { isFinal } from '../../shared/status.js';
import { PROTOCOL_VERSION, type AgentMessage, type ServerMessage } from '../../shared/protocol/messages.js';
import type { EventBus } from '../events.js';
import type { AgentHello, Claim, Job, QueuedJob, Run, Store } from '../store/index.js';
import { statusOf, type AgentLink, type AgentSlot } from './agents.js';
import { onDone, onLog, onStep, type MessageContext } from './agent-messages.js';
import { buildAssignment, jobSecretValues, type AssignmentFiles } from './assignment.js';
import { createJobMaskers } from './job-maskers.js';
import { dispatchPass } from './dispatch.js';
import { expireLeases } from './expiry.js';
import { createReadyIndex } from './ready-index.js';
import { jobsToRerun, type RerunChoice } from './rerun.js';
import { advanceRun } from './scheduler.js';
import { supersededBy } from './supersede.js';
import { classifyWait, explainWait, type PoolsExplain } from './wait-reason.js';

export type { AgentLink, AgentSlot } from './agents.js';
export type { RerunChoice } from './rerun.js';

export interface JobQueueOptions {
  store: Store;
  bus: EventBus;
  logger: Logger;
  leaseMs: number;
  logCapBytes: number;
  /** How agents reach the server (known once it listens). */
  serverUrl(): string;
  now?: () => number;
  /** Between ticks of `start()`'s timer (default leaseMs / 4, within 200 ms … 5 s). */
  tickMs?: number;
  /** Fills each assignment's `files` (transfer token, limits, needed artifacts); absent: none. */
  files?: AssignmentFiles;
  /** Told of hand-offs and lost leases (the server's metrics); absent: nobody is. */
  observer?: QueueObserver;
  /** Told of runs' ends and approvals awaited (the server's notifications); absent: nobody is. */
  notifier?: RunNotifier;
}

/**
 * What the queue tells of a run's outcome, in the transaction that changed it (so what it
 * writes commits with the change, or not at all). Told again each time the run is published:
 * it must add nothing the second time. Synchronous, cheap, never throws.
 */
export interface RunNotifier {
  /** The run has a final status (it may be told again, and again after a re-run's end). */
  runEnded(run: Run): void;
  /** The job waits for an approval (blocked). */
  approvalNeeded(run: Run, job: Job): void;
}

/** What the queue tells an observer; called synchronously, must be cheap and never throw. */
export interface QueueObserver {
  /** A claimed job was sent to its agent, `handoffMs` after its assignment began to be built. */
  jobAssigned(job: Job, handoffMs: number): void;
  /** A lease expired: the job went back to the queue (a retry was left) or ended `error`. */
  leaseExpired(outcome: 'requeued' | 'ended'): void;
}

export interface HelloRequest extends AgentHello {
  jobs: ReadonlyArray<{ jobId: number; attempt: number; token: string }>;
}

/**
 * Every method is synchronous and never throws for an agent's mistake (it is logged and
 * dropped). `connect` binds a connection to an agent; frames from a replaced or unknown
 * connection change nothing.
 */
export interface JobQueue {
  /** An agent said hello on `link`: welcome it, replace an older connection, keep or drop the jobs it re-presents. */
  connect(link: AgentLink, hello: HelloRequest): AgentSlot;
  disconnect(link: AgentLink): void;
  /** A frame after hello. */
  receive(link: AgentLink, message: AgentMessage): void;
  /**
   * Frames after hello that arrived together (one read of the socket), in order, stored in
   * one commit; their acks go out after it. A frame that throws changes nothing, the ones
   * before it stay, and the error reaches the caller with the rest not looked at.
   */
  receiveAll(link: AgentLink, messages: readonly AgentMessage[]): void;
  /** After a run was created or changed outside the queue: schedule it, publish it, dispatch. */
  runChanged(runId: number, jobIds?: readonly number[]): void;
  /**
   * A run was just created (call it in the creating transaction): cancels the older runs it
   * supersedes (see supersede.ts), then schedules it as runChanged does. Answers the ids of
   * the runs cancelled.
   */
  runCreated(run: Run): number[];
  /**
   * Cancels what is not final: queued and blocked jobs at once, running ones also on their
   * agent (a `cancel` frame). `reason` (default "cancelled") is each job's and the run's.
   */
  cancelRun(runId: number, reason?: string): void;
  /** Lets a `blocked` job go on; throws not_found / conflict. */
  approveJob(jobId: number, by?: string): Job;
  /**
   * Starts the next attempt of an ended run: every job, the failed ones, or one job, each with
   * what needs it (see rerun.ts). Answers the new attempt's number; throws not_found / conflict.
   */
  rerun(runId: number, choice: RerunChoice): number;
  /** Asks an agent to finish its jobs, take no more, and exit. False when it is not connected. */
  drain(agentId: number): boolean;
  /** The connected agents (the autoscaler's view of the fleet). */
  sessions(): readonly AgentSlot[];
  /** Queued and blocked jobs in claim order, each with what it waits for. */
  queued(): QueuedJob[];
  /** Why this job waits, in one line. */
  explain(job: QueuedJob, runJobs?: Map<number, Job[]>): string;
  /** Lets pools add their part to `explain` (the autoscaler is built after the queue). */
  explainPoolsWith(pools: PoolsExplain): void;
  /** Hands ready jobs to free slots now. */
  dispatch(): number;
  /** One pass of the timer: renew the leases of agents heard from, expire the others, reconcile. */
  tick(): void;
  start(): void;
  stop(): void;
}

export function createJobQueue(options: JobQueueOptions): JobQueue {
  const { store, bus, logger, leaseMs } = options;
  const now = options.now ?? Date.now;
  const agents = new Map<number, AgentSlot>();
  const byLink = new WeakMap<AgentLink, AgentSlot>();
  const ready = createReadyIndex();
  ready.reset(store.jobs.listReadyJobs());
  let pools: PoolsExplain | undefined;
  let dispatchPending = false;
  let stopped = false;
  let timer: NodeJS.Timeout | null = null;
  let ticks = 0;

  const publishAgent = (slot: AgentSlot) => {
    const status = statusOf(slot, now());
    if (status !== slot.stored && agents.get(slot.agentId) === slot) {
      store.agents.setAgentStatus(slot.agentId, status);
      slot.stored = status;
    }
    const agent = store.agents.getAgent(slot.agentId);
    if (agent) bus.publish({ type: 'agent', agent });
  };

  const makeReady = (job: Job) => {
    if (job.status === 'queued' && job.readyAt !== null) {
      ready.add({ id: job.id, runId: job.runId, runsOn: job.runsOn, concurrency: job.concurrency, readyAtMs: Date.parse(job.readyAt) });
    }
  };

  // Why at once and not on the next turn of the event loop: under a burst of requests a
  // deferred pass waits behind every request read in the same turn (tens of ms). A pass is
  // cheap when nothing is ready or no slot is free, so every change runs one.
  let dispatching = false;
  const requestDispatch = () => {
    if (!stopped) queue.dispatch();
  };

  // Why only the changed jobs are published: a 250-job run would otherwise send 250 events
  // for each of its jobs that ends.
  const runChanged = (runId: number, jobIds?: readonly number[]) => store.transaction(() => {
    let run = store.runs.getRunSummary(runId);
    if (!run) return;
    const decisions = advanceRun(store, runId, run);
    // A skip or a block may move the run's status on; a job made ready does not.
    if (decisions.some((d) => d.to !== 'ready')) run = store.runs.getRunSummary(runId)!;
    bus.publish({ type: 'run', run });
    if (isFinal(run.status)) options.notifier?.runEnded(run);
    const changed = jobIds === undefined ? store.jobs.listJobs(runId) : [...new Set([...jobIds, ...decisions.map((d) => d.jobId)])].map((id) => store.jobs.getJob(id));
    for (const job of changed) {
      if (!job) continue;
      if (job.status !== 'queued') ready.delete(job.id);
      else makeReady(job);
      if (job.status === 'blocked') options.notifier?.approvalNeeded(run, job);
      bus.publish({ type: 'job', job });
    }
    bus.publish({ type: 'queue' });
    requestDispatch();
  });

  const maskers = createJobMaskers({ valuesOf: (jobId) => jobSecretValues(store, jobId) });
  const ctx: MessageContext = {
    store, bus, logger, now, logCapBytes: options.logCapBytes,
    maskerFor: maskers.maskerFor,
    // One dispatch per finished job: runChanged's, after the agent's freed slot is published.
    jobEnded: (job, outcome, slot) => {
      maskers.forget(job.id);
      if (slot) publishAgent(slot);
      if (outcome !== 'ended') {
        const again = store.jobs.getJob(job.id);
        if (again) makeReady(again);
      }
      runChanged(job.runId, [job.id]);
    },
    agentChanged: (slot) => {
      publishAgent(slot);
      requestDispatch();
    },
  };

  // A job that cannot start (a scope refuses a secret it names) ends failed at once, with the
  // reason in its log; the agent never sees it, and no retry is spent: it would fail the same way.
  const refuse = (slot: AgentSlot, claim: Claim, reason: string) => {
    const job = claim.job;
    slot.jobs.delete(job.id);
    const at = now();
    const line = { t: at, stream: 'system' as const, text: reason, step: null };
    const logged = store.logs.appendLogLines({ jobId: job.id, attempt: job.attempt, seq: 0, lines: [line], at });
    if (!logged.duplicate) bus.publish({ type: 'log', jobId: job.id, attempt: job.attempt, firstLine: logged.firstLine, lines: logged.lines });
    store.leases.completeJob(job.id, claim.token, { status: 'failed', exitCode: null, reason }, at);
    slot.log.info({ jobId: job.id, runId: job.runId, job: job.name, reason }, 'job cannot start');
    publishAgent(slot);
    runChanged(job.runId, [job.id]);
  };

  const assign = (slot: AgentSlot, claim: Claim): boolean => {
    const beganMs = performance.now();
    const built = buildAssignment(store, claim, { serverUrl: options.serverUrl(), logCapBytes: options.logCapBytes, files: options.files, now: now() });
    if (!built.ok) {
      refuse(slot, claim, built.reason);
      return true;
    }
    const assignment = built.assignment;
    maskers.remember(assignment.jobId, assignment.attempt, assignment.secrets);
    const sent = slot.link.send({ type: 'job', assignment });
    if (!sent) {
      // The socket closed under us: the job never left, so it goes back unstarted.
      slot.jobs.delete(claim.job.id);
      if (store.leases.releaseLease(claim.job.id, claim.token, now())) makeReady(store.jobs.getJob(claim.job.id)!);
      return false;
    }
    slot.log.debug({ jobId: claim.job.id, runId: claim.job.runId, job: claim.job.name, attempt: claim.job.attempt }, 'job assigned');
    options.observer?.jobAssigned(claim.job, performance.now() - beganMs);
    // The run's first job started: the run is running now (dashboards, and the forge's "running" status).
    if (claim.runChanged) {
      const run = store.runs.getRunSummary(claim.job.runId);
      if (run) bus.publish({ type: 'run', run });
    }
    bus.publish({ type: 'job', job: claim.job });
    publishAgent(slot);
    return true;
  };

  const current = (link: AgentLink): AgentSlot | null => {
    const slot = byLink.get(link);
    return slot && agents.get(slot.agentId) === slot ? slot : null;
  };

  const connectAgent = (link: AgentLink, hello: HelloRequest): AgentSlot => {
    const agent = store.agents.registerAgent({ name: hello.name, labels: hello.labels, pool: hello.pool, capacity: hello.capacity, protocol: hello.protocol, version: hello.version });
    const previous = agents.get(agent.id);
    if (previous) {
      agents.delete(agent.id);
      previous.link.close(4001, 'replaced by a new connection of the same agent');
    }
    const slot: AgentSlot = {
      agentId: agent.id, name: agent.name, labels: [...hello.labels], capacity: hello.capacity, pool: hello.pool, link,
      jobs: new Map(), stopping: new Map(), refused: 0, draining: false, stored: 'idle', log: logger.child({ agentId: agent.id, agent: agent.name }),
    };
    const keep: number[] = [];
    const drop: number[] = [];
    for (const held of hello.jobs) {
      // Only the holder of the live lease may go on: the same agent, the same token. A job
      // taken back (and perhaps leased to another agent) while this one was away is dropped.
      const lease = store.leases.getLease(held.jobId);
      if (lease && lease.agentId === agent.id && lease.token === held.token && store.leases.renewLease(held.jobId, held.token, now(), leaseMs)) {
        keep.push(held.jobId);
        slot.jobs.set(held.jobId, held.token);
      } else {
        // The agent must stop this job; its slot stays taken until it says the job is done.
        drop.push(held.jobId);
        slot.stopping.set(held.jobId, now() + leaseMs);
      }
    }
    agents.set(agent.id, slot);
    byLink.set(link, slot);
    link.send({ type: 'welcome', agentId: agent.id, protocol: PROTOCOL_VERSION, leaseMs, keep, drop });
    slot.log.info({ remote: link.remote, labels: hello.labels, capacity: hello.capacity, kept: keep.length, dropped: drop.length }, 'agent connected');
    publishAgent(slot);
    requestDispatch();
    return slot;
  };

  // What one frame after hello does. Acks go into `replies`, sent once the frames are stored.
  const handle = (slot: AgentSlot, message: AgentMessage, replies: ServerMessage[]): void => {
    switch (message.type) {
      case 'hello':
        return void slot.log.warn('second hello ignored');
      case 'step':
        return onStep(ctx, slot, message);
      case 'log':
        onLog(ctx, slot, message);
        return void replies.push({ type: 'ack', jobId: message.jobId, attempt: message.attempt, seq: message.seq });
      case 'done':
        // The result, the agent's freed slot, the run moving on and the next job handed out.
        onDone(ctx, slot, message);
        return void replies.push({ type: 'done-ack', jobId: message.jobId, attempt: message.attempt });
      case 'draining':
        // The agent stops taking work on its own (SIGTERM, --once): no new jobs for it.
        slot.draining = true;
        return publishAgent(slot);
      case 'drained':
        slot.log.info('agent drained');
        return slot.link.close(1000, 'drained');
    }
  };

  const queue: JobQueue = {
    connect(link, hello) {
      return store.transaction(() => connectAgent(link, hello));
    },
    disconnect(link) {
      const slot = current(link);
      if (!slot) return;
      agents.delete(slot.agentId);
      // Its leases stay until they expire: an agent that reconnects in time goes on with its jobs.
      store.agents.setAgentStatus(slot.agentId, 'offline');
      const agent = store.agents.getAgent(slot.agentId);
      if (agent) bus.publish({ type: 'agent', agent });
      slot.log.info({ jobs: slot.jobs.size }, 'agent disconnected');
      bus.publish({ type: 'queue' });
    },
    receive(link, message) {
      queue.receiveAll(link, [message]);
    },
    receiveAll(link, messages) {
      const replies: ServerMessage[] = [];
      const failure = store.transaction((): { error: unknown } | null => {
        for (const message of messages) {
          const slot = current(link);
          if (!slot) break;
          try {
            store.transaction(() => handle(slot, message, replies));
          } catch (error) {
            return { error }; // what came before it stays, and is acknowledged
          }
        }
        return null;
      });
      // Acks promise the agent its frames are stored: they leave once the turn has committed.
      if (replies.length > 0) store.afterCommit(() => link.sendAll(replies));
      if (failure) throw failure.error;
    },
    runChanged,
    runCreated: (run) => store.transaction(() => {
      const superseded = supersededBy(store, run);
      const reason = `superseded by run #${run.number}`;
      for (const older of superseded) {
        queue.cancelRun(older.id, reason);
        logger.info({ repo: run.repo, runId: older.id, number: older.number, by: run.number, branch: run.branch }, 'run superseded; cancelled');
      }
      runChanged(run.id);
      return superseded.map((r) => r.id);
    }),
    cancelRun: (runId, reason = 'cancelled') => store.transaction(() => {
      for (const { jobId, agentId } of store.jobs.cancelRun(runId, reason)) {
        ready.delete(jobId);
        const slot = agentId === null ? undefined : agents.get(agentId);
        if (!slot) continue;
        if (slot.jobs.delete(jobId)) slot.stopping.set(jobId, now() + leaseMs);
        slot.link.send({ type: 'cancel', jobId, reason });
      }
      runChanged(runId);
    }),
    approveJob(jobId, by) {
      const job = store.jobs.getJob(jobId);
      if (!job) throw notFound(`no job ${jobId}`);
      if (!store.jobs.approveJob(jobId, by === undefined ? undefined : { name: by, atMs: Date.now() })) throw conflict(`job ${jobId} is ${job.status}, not blocked`);
      runChanged(job.runId, [jobId]);
      return store.jobs.getJob(jobId)!;
    },
    rerun: (runId, choice) => store.transaction(() => {
      const run = store.runs.getRunSummary(runId);
      if (!run) throw notFound(`no run ${runId}`);
      const jobIds = jobsToRerun(run, store.jobs.listJobStates(runId), choice);
      const attempt = store.attempts.startAttempt(runId, jobIds);
      if (attempt === null) throw conflict(`run ${run.repo}#${run.number} cannot be re-run now`);
      logger.info({ repo: run.repo, runId, number: run.number, attempt, jobs: jobIds.length, choice: choice.kind }, 'run re-run');
      runChanged(runId);
      return attempt;
    }),
    drain(agentId) {
      const slot = agents.get(agentId);
      if (!slot) return false;
      slot.draining = true;
      slot.link.send({ type: 'drain' });
      publishAgent(slot);
      return true;
    },
    sessions: () => [...agents.values()],
    queued() {
      const jobs = store.jobs.listQueuedJobs();
      const held = jobs.some((j) => j.concurrency !== null) ? store.jobs.listHeldGroups() : new Set<string>();
      return jobs.map((job) => ({ ...job, waiting: classifyWait(job, held) }));
    },
    explain(job, runJobs = new Map()) {
      const jobsOf = (runId: number) => {
        if (!runJobs.has(runId)) runJobs.set(runId, store.jobs.listJobs(runId));
        return runJobs.get(runId)!;
      };
      return explainWait(job, { runJobs: jobsOf, agents: [...agents.values()], ...(pools ? { pools } : {}) });
    },
    explainPoolsWith(explain) {
      pools = explain;
    },
    dispatch() {
      // A change made by a pass's own assignments (through an event listener) asks for one more pass after it.
      if (dispatching) {
        if (!dispatchPending) {
          dispatchPending = true;
          setImmediate(() => {
            dispatchPending = false;
            if (!stopped) queue.dispatch();
          });
        }
        return 0;
      }
      dispatching = true;
      try {
        return dispatchPass({ store, ready, agents: agents.values(), nowMs: now(), leaseMs, assign });
      } finally {
        dispatching = false;
      }
    },
    // One commit for the whole pass: a thousand agents' renewals are a thousand writes.
    tick: () => store.transaction(() => {
      const ended = expireLeases({ store, logger, agents: agents.values(), nowMs: now(), leaseMs });
      for (const job of ended) {
        options.observer?.leaseExpired(job.outcome);
        ctx.jobEnded(job.job, job.outcome);
      }
      // Why a reconcile: the ready index is a cache of SQL; if a path ever forgot to add a job,
      // the job would wait for good. Say so loudly, and heal.
      if (++ticks % 10 === 0) {
        const missing = ready.reset(store.jobs.listReadyJobs());
        if (missing > 0) logger.warn({ missing }, 'ready jobs were missing from the dispatch index; added');
      }
      requestDispatch();
    }),
    start() {
      const everyMs = options.tickMs ?? Math.max(200, Math.min(5000, Math.floor(leaseMs / 4)));
      timer = setInterval(() => queue.tick(), everyMs);
      timer.unref();
    },
    stop() {
      stopped = true;
      if (timer) clearInterval(timer);
      timer = null;
    },
  };
  return queue;
}
